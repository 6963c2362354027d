from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from marketplace.search import indexing, receivers


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
            "--without-orders",
            action="store_true",
            help="Skip the demo orders (settings.DEMO_ORDER_SEEDERS); the tests start so.",
        )

    def handle(self, *args, force=False, without_orders=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only with "
                "DEBUG=1, or with --force on a throw-away installation."
            )
        lines = []
        # Each app contributes its own demo data; settings.DEMO_SEEDERS keeps the order
        # and keeps marketplace from importing the apps that depend on it. Search rows
        # are built once at the end instead of on every save.
        with receivers.paused():
            seeders = settings.DEMO_SEEDERS
            if not without_orders:
                seeders = [*seeders, *settings.DEMO_ORDER_SEEDERS]
            for path in seeders:
                lines += import_string(path)(self.stdout)
        visible = indexing.reindex_all()
        lines.insert(0, f"  {visible} products visible to buyers")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for line in lines:
            self.stdout.write(line)
