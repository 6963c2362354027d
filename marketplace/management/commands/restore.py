"""``python manage.py restore ARCHIVE``: put back the database and the files of an archive
made by ``backup``, after checking every checksum (marketplace.core.backups). It replaces
the current database: stop the web app and the workers first."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.core.backups import BackupError, check_archive, restore_backup


class Command(BaseCommand):
    help = "Restore a backup archive: the database, media and private files."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="a nongsan-YYYYMMDD-HHMMSS.tar file")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="only check the archive's checksums; change nothing",
        )

    def handle(self, *args, archive, check_only, **options):
        try:
            if check_only:
                manifest = check_archive(Path(archive))
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{archive}: every checksum matches ({len(manifest['members'])} "
                        f"members, made {manifest['created_at']})."
                    )
                )
                return
            manifest = restore_backup(archive=Path(archive))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        files = sum(1 for m in manifest["members"] if m["path"].startswith(("media/", "private/")))
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {archive} (made {manifest['created_at']}): the database and "
                f"{files} files."
            )
        )
        for table, (expected, found) in sorted(manifest["count_differences"].items()):
            self.stderr.write(f"{table}: {expected} rows in the archive, {found} now")
        if not manifest["key_matches"]:
            self.stderr.write(
                "WARNING: PERSONAL_DATA_KEY is not the key this archive was made with: "
                "citizen ID numbers will not be readable. Set the key that was in use then."
            )
        self.stdout.write(
            "Next: python manage.py verify_traces and python manage.py verify_ledger."
        )
