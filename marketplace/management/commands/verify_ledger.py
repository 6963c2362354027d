"""``python manage.py verify_ledger``: check that money and stock reconcile for every order
and stock record (marketplace.finance.checks.CHECKS); exit non-zero naming each problem."""

from django.core.management.base import BaseCommand, CommandError

from marketplace.finance.checks import CHECKS
from marketplace.finance.settlement_checks import pending_parcels


class Command(BaseCommand):
    help = "Check that payments, refunds, cash on delivery, stock and settlements reconcile."

    def handle(self, *args, **options):
        problems = []
        for check in CHECKS:
            found = check()
            problems.extend(found)
            self.stdout.write(f"{check.__name__}: {len(found) or 'ok'}")
        waiting = pending_parcels()
        if waiting:
            self.stdout.write(
                f"{waiting} delivered parcel(s) wait to be added to the settlement ledger."
            )
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s): the ledger does not reconcile.")
        self.stdout.write(self.style.SUCCESS("The ledger reconciles."))
