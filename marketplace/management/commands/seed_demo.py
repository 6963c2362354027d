from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Load the demo marketplace (producers, products, pictures, demo users). "
        "Idempotent: running it again updates, never doubles."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (demo users have a published password).",
        )
        parser.add_argument(
            "--no-index", action="store_true", help="Do not rebuild the search index."
        )

    def handle(self, *args, force=False, no_index=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only with "
                "DEBUG=1, or with --force on a throw-away installation."
            )
        lines = []
        # Each app contributes its own demo data; settings.DEMO_SEEDERS keeps the order
        # and keeps marketplace from importing the apps that depend on it.
        for path in settings.DEMO_SEEDERS:
            lines += import_string(path)(self.stdout)
        if not no_index:
            call_command("rebuild_index", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for line in lines:
            self.stdout.write(line)
