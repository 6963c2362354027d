"""``python manage.py verify_ledger``: check that money and stock reconcile for every order
and stock record (marketplace.finance.checks.CHECKS); exit non-zero naming each problem."""

from django.core.management.base import BaseCommand, CommandError

from marketplace.finance.checks import CHECKS


class Command(BaseCommand):
    help = "Check that payments, refunds, cash on delivery, stock and settlements reconcile."

    def handle(self, *args, **options):
        problems = []
        for check in CHECKS:
            found = check()
            problems.extend(found)
            self.stdout.write(f"{check.__name__}: {len(found) or 'ok'}")
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s): the ledger does not reconcile.")
        self.stdout.write(self.style.SUCCESS("The ledger reconciles."))
