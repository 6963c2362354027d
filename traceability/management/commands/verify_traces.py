"""Verify every lot's signed records against the stored rows, and the transparency log.

First the log (transparency.verify_log): no record missing, every stored checkpoint signed
by a trusted key and matching the tree of its size, and each checkpoint given with
--checkpoint (one kept elsewhere, e.g. fetched earlier from /minh-bach/diem-kiem/) too.
Then each lot with integrity.verify_lot, the code the trace page uses: signatures, the
chain of its records, and the lot, events, recall and certificates against what was signed.

Prints each lot checked; exits with status 1 naming every lot (and the log) found changed
behind the application's back. A broken lot's cached trace page is dropped, so buyers see
the warning; a broken log drops every lot's page.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef

from traceability import caching, integrity, transparency
from traceability.models import Checkpoint, FarmEvent, Lot, TraceRecord


def lot_label(lot) -> str:
    return f"lot {lot.code} ({lot.short_code}, id {lot.pk}) of {lot.product.get_title()}"


class Command(BaseCommand):
    help = "Verify the signed records of every lot and the transparency log."

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            help="a checkpoint JSON file kept earlier: the log must still contain it",
        )

    def handle(self, *args, checkpoint, **options):
        kept = []
        for path in checkpoint:
            with open(path, encoding="utf-8") as handle:
                kept.append(json.load(handle))
        log = transparency.verify_log(kept=kept)
        broken = []
        if log.ok:
            self.stdout.write(
                f"INTACT  log: {log.size} records, {log.checkpoints} checkpoints, root {log.root}"
            )
        else:
            broken.append("the transparency log: " + "; ".join(p.message for p in log.problems))
            for problem in log.problems:
                self.stdout.write(self.style.ERROR(f"BROKEN  log: {problem.message}"))
        checked = pending = 0
        lots = (
            Lot.objects.select_related("product", "producer__partner", "recall")
            .annotate(
                checkpoint_after=Exists(
                    Checkpoint.objects.filter(created_at__gt=OuterRef("created_at"))
                )
            )
            .order_by("pk")
        )
        for lot in lots.iterator(chunk_size=500):
            records = list(TraceRecord.objects.filter(lot_id=lot.pk).order_by("seq"))
            events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
            verdict = integrity.verify_lot(
                lot,
                records=records,
                events=events,
                certificates=integrity.snapshot_certificates(records),
                checkpoint_after_lot=lot.checkpoint_after or not log.ok,
                include_log=False,
            )
            checked += 1
            if not log.ok:
                caching.invalidate_lot(lot.pk)
            if verdict.state == integrity.INTACT:
                self.stdout.write(
                    f"OK      {lot_label(lot)}: {len(records)} records, {len(events)} events"
                )
            elif verdict.state == integrity.PENDING:
                pending += 1
                self.stdout.write(
                    f"PENDING {lot_label(lot)}: not in the log yet (manage.py trace_checkpoint)"
                )
            else:
                messages = "; ".join(p.message for p in verdict.problems)
                broken.append(f"{lot_label(lot)}: {messages}")
                caching.invalidate_lot(lot.pk)
                self.stdout.write(self.style.ERROR(f"BROKEN  {lot_label(lot)}: {messages}"))
        if broken:
            raise CommandError(
                f"{len(broken)} of {checked} lots and the log changed behind the application's "
                "back: " + " | ".join(broken),
                returncode=1,
            )
        suffix = f" ({pending} not in the log yet)" if pending else ""
        self.stdout.write(self.style.SUCCESS(f"{checked} lots checked, all intact{suffix}."))
