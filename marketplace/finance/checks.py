"""What must always reconcile, for every order and every stock record: the checks of
``python manage.py verify_ledger``.

``CHECKS`` is a list of functions; each takes no argument and returns a list of problems
(one sentence each, naming the order, parcel or stock record). An empty list from all of
them means the books balance. Other checks (settlements, payouts) are appended to the list
by the modules that own them.

- payments: for each payment source, what was captured and refunded is what its
  transactions and the order's payment events say, and paid = captured − refunded ≥ 0;
- cash on delivery: the COD amounts of an order's parcels that are neither cancelled nor
  returned add up to what is due on delivery (the source's ``amount_allocated``), and the
  cash collected is what was recorded as paid;
- parcels: a parcel's goods are the sum of its lines that are not cancelled;
- stock: per stock record, reserved (``num_allocated``) = the quantities of open lines
  (marketplace.catalogue.stock.reserved_by_open_lines) and in stock ≥ reserved ≥ 0;
- lots on sale: a lot-sold stock record's stock is what its lots on sale still hold, and
  every line of it took its quantity from them (marketplace.catalogue.batches).
- pre-orders: nothing over a window's cap, each deposit paid = what counts as payment of
  its converted order + what was refunded (marketplace.preorders.checks).
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, Sum
from oscar.core.loading import get_model

from marketplace.catalogue import batches, stock
from marketplace.finance import handovers, settlement_checks
from marketplace.models import Parcel
from marketplace.payments.state import COD, PAID_EVENT, REFUND_EVENT
from marketplace.preorders import checks as preorder_checks

Source = get_model("payment", "Source")
Transaction = get_model("payment", "Transaction")
PaymentEvent = get_model("order", "PaymentEvent")
Line = get_model("order", "Line")
StockRecord = get_model("partner", "StockRecord")

ZERO = Decimal(0)


def _d(amount) -> str:
    """Whole đồng, as the problems name them."""
    return f"{Decimal(amount or 0):.0f}"


def _sums(queryset, key, value="amount") -> dict:
    return {
        row[key]: row["total"] or ZERO
        for row in queryset.order_by().values(key).annotate(total=Sum(value))
    }


def check_payments() -> list[str]:
    problems = []
    debits = _sums(Transaction.objects.filter(txn_type="Debit"), "source_id")
    refunds = _sums(Transaction.objects.filter(txn_type="Refund"), "source_id")
    paid_events = _sums(PaymentEvent.objects.filter(event_type__code=PAID_EVENT), "order_id")
    refund_events = _sums(PaymentEvent.objects.filter(event_type__code=REFUND_EVENT), "order_id")
    for source in Source.objects.select_related("order").order_by("pk"):
        number = source.order.number
        captured, refunded = source.amount_debited, source.amount_refunded
        if captured != debits.get(source.pk, ZERO):
            problems.append(
                f"order {number}: captured {_d(captured)} but its payment transactions add up "
                f"to {_d(debits.get(source.pk, ZERO))}"
            )
        if refunded != refunds.get(source.pk, ZERO):
            problems.append(
                f"order {number}: refunded {_d(refunded)} but its refund transactions add up "
                f"to {_d(refunds.get(source.pk, ZERO))}"
            )
        if captured != paid_events.get(source.order_id, ZERO):
            problems.append(
                f"order {number}: captured {_d(captured)} but its payment events add up to "
                f"{_d(paid_events.get(source.order_id, ZERO))}"
            )
        if refunded != refund_events.get(source.order_id, ZERO):
            problems.append(
                f"order {number}: refunded {_d(refunded)} but its refund events add up to "
                f"{_d(refund_events.get(source.order_id, ZERO))}"
            )
        if captured - refunded < 0:
            problems.append(
                f"order {number}: paid {_d(captured - refunded)} < 0 (captured {_d(captured)}, "
                f"refunded {_d(refunded)})"
            )
        if source.amount_allocated < 0:
            problems.append(f"order {number}: {_d(source.amount_allocated)} due, below zero")
    return problems


def check_cash_on_delivery() -> list[str]:
    problems = []
    due = defaultdict(lambda: ZERO)
    collected = defaultdict(lambda: ZERO)
    for parcel in Parcel.objects.select_related("order").order_by("pk"):
        if parcel.status not in Parcel.CLOSED_STATUSES:
            due[parcel.order_id] += parcel.cod_amount
        if parcel.cod_collected is not None:
            collected[parcel.order_id] += parcel.cod_collected
            if parcel.cod_collected != parcel.cod_amount:
                problems.append(
                    f"parcel {parcel}: collected {_d(parcel.cod_collected)} but "
                    f"{_d(parcel.cod_amount)} was to be collected"
                )
        if parcel.cod_amount < 0 or parcel.goods_total < 0:
            problems.append(f"parcel {parcel}: a negative amount")
    cod = Source.objects.filter(source_type__code=COD).select_related("order").order_by("pk")
    for source in cod:
        if due[source.order_id] != source.amount_allocated:
            problems.append(
                f"order {source.order.number}: its parcels' COD amounts add up to "
                f"{_d(due[source.order_id])} but {_d(source.amount_allocated)} is due on delivery"
            )
        if collected[source.order_id] != source.amount_debited:
            problems.append(
                f"order {source.order.number}: {_d(collected[source.order_id])} collected on "
                f"delivery but {_d(source.amount_debited)} recorded as paid"
            )
    return problems


def check_parcels() -> list[str]:
    problems = []
    totals = defaultdict(lambda: ZERO)
    lines = Line.objects.filter(cancellation__isnull=True).values_list(
        "order_id", "partner_id", "line_price_incl_tax"
    )
    for order_id, partner_id, price in lines:
        totals[(order_id, partner_id)] += price or ZERO
    for parcel in Parcel.objects.select_related("order").order_by("pk"):
        expected = totals[(parcel.order_id, parcel.partner_id)]
        if parcel.status != Parcel.Status.CANCELLED and parcel.goods_total != expected:
            problems.append(
                f"parcel {parcel}: goods {_d(parcel.goods_total)} but its lines that are not "
                f"cancelled add up to {_d(expected)}"
            )
    return problems


def check_stock() -> list[str]:
    problems = []
    reserved = stock.reserved_by_open_lines()
    records = StockRecord.objects.filter(
        Q(product__product_class__track_stock=True)
        | Q(product__parent__product_class__track_stock=True)
    ).order_by("pk")
    for record in records.values("pk", "partner_sku", "num_in_stock", "num_allocated"):
        name = f"stock record {record['pk']} ({record['partner_sku']})"
        in_stock = record["num_in_stock"] or 0
        allocated = record["num_allocated"] or 0
        expected = reserved.get(record["pk"], 0)
        if allocated != expected:
            problems.append(f"{name}: {allocated} reserved but open order lines hold {expected}")
        if allocated < 0:
            problems.append(f"{name}: {allocated} reserved, below zero")
        if in_stock < allocated:
            problems.append(f"{name}: {in_stock} in stock, fewer than the {allocated} reserved")
    return problems


CHECKS = [
    check_payments,
    check_cash_on_delivery,
    check_parcels,
    check_stock,
    batches.check_lot_stock,
    handovers.check_handovers,
    settlement_checks.ledger_checks,
    preorder_checks.check_preorders,
]


def run_checks() -> list[str]:
    """Every problem found by every check, in order."""
    problems = []
    for check in CHECKS:
        problems.extend(check())
    return problems
