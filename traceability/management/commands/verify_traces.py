"""Check every lot's hash chain against the stored rows.

Prints each lot checked; exits with status 1 naming every lot whose stored events were
changed, removed or reordered behind the application's back (a raw UPDATE, a restore of
an old backup, …). A broken lot's cached trace page is dropped, so buyers see the warning.
"""

from django.core.management.base import BaseCommand, CommandError

from traceability import caching
from traceability.models import FarmEvent, Lot, verify_chain


def lot_label(lot) -> str:
    return f"lot {lot.code} ({lot.short_code}, id {lot.pk}) of {lot.product.get_title()}"


class Command(BaseCommand):
    help = "Verify the hash chain of every lot's farm events."

    def handle(self, *args, **options):
        broken = []
        checked = 0
        lots = Lot.objects.select_related("product").order_by("pk")
        for lot in lots.iterator(chunk_size=500):
            events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
            ok, bad_sequence = verify_chain(lot, events)
            checked += 1
            if ok:
                self.stdout.write(f"OK      {lot_label(lot)}: {len(events)} events")
            else:
                broken.append(f"{lot_label(lot)} at event {bad_sequence}")
                caching.invalidate_lot(lot.pk)
                self.stdout.write(
                    self.style.ERROR(
                        f"BROKEN  {lot_label(lot)}: event {bad_sequence} does not match"
                    )
                )
        if broken:
            raise CommandError(
                f"{len(broken)} of {checked} lots changed behind the application's back: "
                + "; ".join(broken),
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"{checked} lots checked, all intact."))
