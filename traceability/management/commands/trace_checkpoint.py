"""Make a signed checkpoint of the transparency log now (Celery beat makes one daily),
after sealing lots recorded before the log existed; print it as JSON (keep it: a later
bundle or checkpoint can be proved consistent with it)."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand

from traceability import services, transparency


class Command(BaseCommand):
    help = "Seal unrecorded lots and sign a checkpoint of the transparency log; print it."

    def handle(self, *args, **options):
        sealed = services.seal_unrecorded()
        if sealed:
            self.stderr.write(f"{sealed} records written for lots recorded before the log.")
        checkpoint = transparency.make_checkpoint(max_age=timedelta(0))
        transparency.verify_log()
        self.stdout.write(json.dumps(checkpoint.as_json(), indent=1))
