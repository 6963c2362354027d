"""Invariants of the producer settlement ledger, each a function returning a list of
problems (empty when it holds), in words an operator can act on. verify_ledger runs them
with the other money and stock checks.

- check_balances: per producer, sales − commission − tax − adjustments − payouts equals
  the sum of its entries' effects and the balance row.
- check_entries: each entry's effect follows from its figures; a sale's commission and
  tax are its rates applied to its goods by round_dong.
- check_parcels_settled: every delivered parcel whose money the marketplace holds is in
  exactly one settlement (a ledger entry or a COD remittance, never both, never none); an
  entry's parcel is delivered, of the same producer, with the same goods.
- check_payouts: every payout has its entry, for its amount; none is above the balance
  just before it; a paid payout has its bank reference.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from marketplace.core.money import percent_of
from marketplace.finance.settlements import unposted_parcels
from marketplace.models import Parcel, Payout, ProducerBalance, SettlementEntry

ZERO = Decimal(0)
FIELDS = ("sales", "commission", "vat", "pit", "adjustment", "paid_out", "amount")


def check_balances() -> list[str]:
    problems = []
    sums = {
        row["partner_id"]: row
        for row in SettlementEntry.objects.order_by()
        .values("partner_id")
        .annotate(**{name: Sum(name) for name in FIELDS})
    }
    rows = dict(ProducerBalance.objects.values_list("partner_id", "balance"))
    for partner_id in sorted(set(sums) | set(rows)):
        total = sums.get(partner_id) or dict.fromkeys(FIELDS, ZERO)
        identity = (
            total["sales"]
            - total["commission"]
            - total["vat"]
            - total["pit"]
            - total["adjustment"]
            - total["paid_out"]
        )
        balance = rows.get(partner_id)
        if balance is None:
            problems.append(f"producer {partner_id}: ledger entries but no balance row")
            continue
        if identity != balance or total["amount"] != balance:
            problems.append(
                f"producer {partner_id}: sales − commission − tax − adjustments − payouts = "
                f"{identity}, entries add up to {total['amount']}, balance is {balance}"
            )
    return problems


def check_entries() -> list[str]:
    problems = []
    for entry in SettlementEntry.objects.order_by("pk").iterator():
        expected = (
            entry.sales - entry.commission - entry.vat - entry.pit - entry.adjustment
        ) - entry.paid_out
        if entry.amount != expected:
            problems.append(
                f"entry {entry.pk} ({entry.kind}): effect {entry.amount}, its figures give "
                f"{expected}"
            )
        if entry.kind == SettlementEntry.Kind.SALE:
            for name, percent in (
                ("commission", entry.commission_percent),
                ("vat", entry.vat_percent),
                ("pit", entry.pit_percent),
            ):
                rule = percent_of(entry.sales, percent)
                if getattr(entry, name) != rule:
                    problems.append(
                        f"entry {entry.pk}: {name} {getattr(entry, name)}, {percent}% of "
                        f"{entry.sales} is {rule}"
                    )
    return problems


def check_parcels_settled(*, include_pending: bool = True) -> list[str]:
    """Each delivered parcel in at most one settlement entry, of its producer, with its
    goods; with `include_pending`, also every delivered and paid parcel in one (false
    while a delivery waits to be added to the ledger, see pending_parcels)."""
    problems = []
    pending = unposted_parcels() if include_pending else Parcel.objects.none()
    for parcel_id, partner_id in pending.order_by("pk").values_list("pk", "partner_id"):
        problems.append(
            f"parcel {parcel_id} (producer {partner_id}): delivered and paid, in no settlement"
        )
    duplicated = (
        SettlementEntry.objects.filter(parcel__isnull=False)
        .order_by()
        .values("parcel_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in duplicated:
        problems.append(f"parcel {row['parcel_id']}: in {row['n']} settlement entries")
    entries = SettlementEntry.objects.filter(parcel__isnull=False).select_related("parcel")
    for entry in entries.order_by("pk"):
        parcel = entry.parcel
        if parcel.status != Parcel.Status.DELIVERED:
            problems.append(f"parcel {parcel.pk}: settled by entry {entry.pk} but {parcel.status}")
        if parcel.partner_id != entry.partner_id:
            problems.append(
                f"parcel {parcel.pk}: of producer {parcel.partner_id}, settled to producer "
                f"{entry.partner_id} (entry {entry.pk})"
            )
        if parcel.remittance_id is not None:
            problems.append(
                f"parcel {parcel.pk}: in remittance {parcel.remittance_id} and in entry {entry.pk}"
            )
        if entry.kind == SettlementEntry.Kind.SALE and entry.sales != parcel.goods_total:
            problems.append(
                f"parcel {parcel.pk}: goods {parcel.goods_total}, entry {entry.pk} counts "
                f"{entry.sales}"
            )
    return problems


def check_payouts() -> list[str]:
    problems = []
    entries = {
        entry.payout_id: entry
        for entry in SettlementEntry.objects.filter(payout__isnull=False).order_by("pk")
    }
    for payout in Payout.objects.order_by("pk"):
        entry = entries.get(payout.pk)
        if entry is None:
            problems.append(f"payout {payout.pk}: not in the ledger")
        elif entry.paid_out != payout.amount or entry.partner_id != payout.partner_id:
            problems.append(
                f"payout {payout.pk}: {payout.amount} to producer {payout.partner_id}, the "
                f"ledger says {entry.paid_out} to producer {entry.partner_id}"
            )
        if payout.paid_at is not None and not payout.reference.strip():
            problems.append(f"payout {payout.pk}: marked paid without a bank reference")
    running = defaultdict(lambda: ZERO)
    for entry in SettlementEntry.objects.order_by("pk").iterator():
        if entry.kind == SettlementEntry.Kind.PAYOUT and entry.paid_out > running[entry.partner_id]:
            problems.append(
                f"payout {entry.payout_id}: {entry.paid_out} paid to producer "
                f"{entry.partner_id}, whose balance was {running[entry.partner_id]}"
            )
        running[entry.partner_id] += entry.amount
    return problems


SETTLEMENT_CHECKS = [check_balances, check_entries, check_parcels_settled, check_payouts]


def ledger_checks() -> list[str]:
    """The checks `verify_ledger` runs: all of them, except that a delivery waiting to be
    added to the ledger (the operator adds them, and every payout batch does first) is
    pending work, not a fault; verify_ledger counts those apart."""
    return [
        *check_balances(),
        *check_entries(),
        *check_parcels_settled(include_pending=False),
        *check_payouts(),
    ]


def pending_parcels() -> int:
    """Delivered and paid parcels not in the ledger yet."""
    return unposted_parcels().count()


def settlement_problems() -> list[str]:
    return [problem for check in SETTLEMENT_CHECKS for problem in check()]
