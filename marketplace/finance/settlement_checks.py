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
- check_refund_charges: every refund of delivered goods that was made is in the ledger
  once its parcel's sale is, its figures follow settlements.refund_figures, and no
  parcel is refunded beyond its sale.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum

from marketplace.core.money import percent_of
from marketplace.finance.settlements import refund_figures, uncharged_refunds, unposted_parcels
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


def check_parcels_settled() -> list[str]:
    """Every delivered and paid parcel in exactly one settlement (a sale entry, or a COD
    remittance of the earlier cash-only ledger), of its producer, with its goods."""
    problems = []
    pending = unposted_parcels()
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


def check_refund_charges() -> list[str]:
    problems = []
    reversed_goods = defaultdict(lambda: ZERO)
    for parcel_id, sales in SettlementEntry.objects.filter(
        kind=SettlementEntry.Kind.REFUND, refund__isnull=False
    ).values_list("refund__parcel_id", "sales"):
        reversed_goods[parcel_id] -= sales
    sold = dict(
        SettlementEntry.objects.filter(kind=SettlementEntry.Kind.SALE).values_list(
            "parcel_id", "sales"
        )
    )
    # A refund made after the whole sale was already reversed has nothing left to take.
    waiting = uncharged_refunds().filter(parcel_id__in=list(sold))
    for refund_id, parcel_id in waiting.values_list("pk", "parcel_id"):
        if sold[parcel_id] - reversed_goods[parcel_id] > 0:
            problems.append(
                f"refund {refund_id}: goods of parcel {parcel_id} refunded, the producer's "
                "sale not reduced"
            )
    entries = (
        SettlementEntry.objects.filter(kind=SettlementEntry.Kind.REFUND, refund__isnull=False)
        .select_related("refund")
        .order_by("pk")
    )
    sales = {
        entry.parcel_id: entry
        for entry in SettlementEntry.objects.filter(kind=SettlementEntry.Kind.SALE)
    }
    refunded = defaultdict(lambda: ZERO)
    for entry in entries:
        refund = entry.refund
        sale = sales.get(refund.parcel_id)
        if sale is None or not refund.charges_producer or refund.status != "succeeded":
            problems.append(
                f"entry {entry.pk}: charges refund {refund.pk}, which is not a refund made of "
                "goods of a parcel in the ledger"
            )
            continue
        if sale.partner_id != entry.partner_id:
            problems.append(f"entry {entry.pk}: refund of producer {sale.partner_id}'s sale")
        rule = refund_figures(
            sale=sale, refunded_before=refunded[sale.parcel_id], refund_amount=refund.amount
        )
        got = (-entry.sales, -entry.commission, -entry.vat, -entry.pit)
        want = (rule.sales, rule.commission, rule.vat, rule.pit)
        if got != want:
            problems.append(
                f"entry {entry.pk}: reverses {got} of parcel {sale.parcel_id}'s sale, the rule "
                f"gives {want}"
            )
        refunded[sale.parcel_id] += -entry.sales
        if refunded[sale.parcel_id] > sale.sales:
            problems.append(
                f"parcel {sale.parcel_id}: {refunded[sale.parcel_id]} of its goods refunded, "
                f"more than the {sale.sales} sold"
            )
    return problems


SETTLEMENT_CHECKS = [
    check_balances,
    check_entries,
    check_parcels_settled,
    check_payouts,
    check_refund_charges,
]


def ledger_checks() -> list[str]:
    """The checks `verify_ledger` runs: all of them. Deliveries enter the ledger as they
    happen, so a delivered and paid parcel outside it is a fault (the settlements page's
    "add deliveries" button, or any payout batch, adds it)."""
    return settlement_problems()


def settlement_problems() -> list[str]:
    return [problem for check in SETTLEMENT_CHECKS for problem in check()]
