"""Print a lot's proof bundle (what /minh-bach/lo/{CODE}.json serves) for the standalone
verifier: manage.py trace_bundle 2EF68PGJ > bundle.json; then
python traceability/verifier.py bundle.json --key keys.pem (keys: manage.py trace_key public)."""

import json

from django.core.management.base import BaseCommand, CommandError

from traceability import transparency
from traceability.models import Lot


class Command(BaseCommand):
    help = "Print the proof bundle of a lot (by its short code) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("short_code")
        parser.add_argument("--since", type=int, help="add a consistency proof from this size")

    def handle(self, *args, short_code, since, **options):
        lot = Lot.objects.filter(short_code=short_code.upper()).first()
        if lot is None:
            raise CommandError(f"No lot has the short code {short_code}.")
        bundle = transparency.lot_bundle(lot=lot, since=since)
        self.stdout.write(json.dumps(bundle, ensure_ascii=False, indent=1))
