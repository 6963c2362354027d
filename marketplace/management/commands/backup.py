"""``python manage.py backup [--output DIR] [--keep N]``: a dated archive of the database,
the public media and the private files, with a manifest of SHA-256 checksums
(marketplace.core.backups). Keys are not in it: README, "Backups"."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from marketplace.core.backups import BackupError, make_backup


class Command(BaseCommand):
    help = "Write a dated backup archive of the database, media and private files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=str(
                getattr(settings, "BACKUP_DIR", Path(settings.BASE_DIR) / "var" / "backups")
            ),
            help="folder for the archive (default: BACKUP_DIR)",
        )
        parser.add_argument(
            "--keep", type=int, default=None, help="then keep only the newest N archives there"
        )

    def handle(self, *args, output, keep, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            result = make_backup(output=Path(output), keep=keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        members = result.manifest["members"]
        files = sum(1 for m in members if m["path"].startswith(("media/", "private/")))
        size = result.archive.stat().st_size
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.archive} ({size / 1e6:.1f} MB; database "
                f"{result.manifest['database']['engine']}, {files} files, "
                f"{sum(result.manifest['counts'].values())} rows). "
                f"Checksum: {result.archive}.sha256"
            )
        )
        for path in result.removed:
            self.stdout.write(f"Removed old backup {path.name}")
        self.stdout.write(
            "PERSONAL_DATA_KEY and the trace signing key are not in the archive: keep them "
            "in your secret store (README, Backups)."
        )
