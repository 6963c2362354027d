"""Lots on sale: a stock record sold from batches, first-expiry-first-out.

A producer puts a batch of goods on sale (``put_on_sale``: traceability's lots, known
here by an opaque ``source_id`` and a ``label``): its quantity, in the product's unit,
becomes sellable stock. A stock record with a batch (open or not) is *lot-sold*: from then
on what may be ordered (``stock.available``) is exactly what its open batches still hold,
so the producer no longer types a stock number for it.

- Placing an order (``stock.reserve`` with the order line, under the stock record's row
  lock) takes from the open batch that expires first (no expiry date: last; then the
  oldest), and from the next one when that is not enough: a line may span two batches
  (``BatchAllocation`` rows, one per batch). The line's trace link is its first batch's
  lot (``marketplace.core.lots``: ``link_placed``); a recall reaches buyers of every lot a
  line took from.
- ``withdraw``: a batch that may no longer be sold (recalled, failed the pre-harvest
  check: traceability calls this; past its expiry date: the daily sweep and ``reserve``
  itself) leaves the stock at once: its remaining quantity comes off ``num_in_stock``.
- ``give_back`` (``stock.release`` and ``stock.restock`` with the line): goods a line
  gives up go back to the batch they came from while it is still open; goods of a
  withdrawn batch, or of a line placed before the product was lot-sold, leave the stock.

Invariants (``check_lot_stock``, one of ``verify_ledger``'s checks): for a lot-sold stock
record, ``num_in_stock - num_allocated`` = Σ open batches' ``quantity - taken``; a batch's
``taken`` = Σ its allocations' ``quantity - released``; every line of a lot-sold record
placed after its first batch took its whole quantity from batches.

Every function expects the stock record to be locked by its caller (stock.py) or locks it
itself (stock record first, then its batches: the one lock order).
"""

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from django.db import transaction
from django.db.models import Count, F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.core.lots import lot_provider

from .models import BatchAllocation, SaleBatch

StockRecord = get_model("partner", "StockRecord")
Line = get_model("order", "Line")

MAX_QUANTITY = 1_000_000
EXPIRED = "expired"
PREORDERS = "preorders"  # a batch opened for pre-orders alone, closed once they took it

# The source whose batch orders placed now take from first (``taking_from``).
_first_source: ContextVar[int | None] = ContextVar("first_source", default=None)


class BatchError(Exception):
    """A lot cannot be put on sale; the message is for people."""


def fefo(batches):
    """`batches` (a queryset) in the order orders take from them."""
    return batches.order_by(F("expires_on").asc(nulls_last=True), "created_at", "pk")


def open_batches(stockrecord_id):
    return SaleBatch.objects.filter(stockrecord_id=stockrecord_id, withdrawn_at__isnull=True)


def is_lot_sold(stockrecord) -> bool:
    pk = getattr(stockrecord, "pk", stockrecord)
    return pk is not None and SaleBatch.objects.filter(stockrecord_id=pk).exists()


def _take_off_stock(record, quantity: int) -> None:
    """`quantity` leaves the sellable stock of a locked record (never below what is
    reserved)."""
    if quantity > 0:
        record.num_in_stock = max(record.num_allocated or 0, (record.num_in_stock or 0) - quantity)
        record.save(update_fields=["num_in_stock", "date_updated"])


def _withdraw_locked(record, batches, reason: str) -> int:
    """Withdraw `batches` (open, locked, of the locked `record`); how much left the stock."""
    gone = 0
    now = timezone.now()
    for batch in batches:
        gone += batch.quantity - batch.taken
        batch.withdrawn_at = now
        batch.withdrawn_reason = reason[:200]
        batch.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    _take_off_stock(record, gone)
    return gone


def withdraw_expired(record, *, today: date | None = None) -> int:
    """Withdraw the open batches of a locked `record` past their expiry date."""
    today = today or timezone.localdate()
    expired = list(
        open_batches(record.pk).filter(expires_on__lt=today).select_for_update().order_by("pk")
    )
    return _withdraw_locked(record, expired, EXPIRED) if expired else 0


def put_on_sale(
    *, stockrecord, source_id: int, label: str, quantity: int, expires_on=None, by=None
) -> SaleBatch:
    """Put `quantity` (in the product's unit) of a batch on sale. The first batch of a
    record replaces the stock number typed by hand (what orders already reserved stays
    reserved); each further batch adds to the stock."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise BatchError(_("The quantity must be a whole number greater than zero."))
    if quantity > MAX_QUANTITY:
        raise BatchError(
            _("At most %(max)s at once.") % {"max": f"{MAX_QUANTITY:,}".replace(",", ".")}
        )
    if expires_on is not None and expires_on < timezone.localdate():
        raise BatchError(_("This lot is past its expiry date: it is not sold."))
    with transaction.atomic():
        pk = getattr(stockrecord, "pk", stockrecord)
        record = StockRecord.objects.select_for_update(of=("self",)).get(pk=pk)
        if SaleBatch.objects.filter(source_id=source_id, withdrawn_at__isnull=True).exists():
            raise BatchError(_("This lot is already on sale."))
        if not is_lot_sold(record):
            record.num_in_stock = record.num_allocated or 0
        record.num_in_stock = (record.num_in_stock or 0) + quantity
        record.save(update_fields=["num_in_stock", "date_updated"])
        return SaleBatch.objects.create(
            stockrecord=record,
            source_id=source_id,
            label=str(label)[:64],
            expires_on=expires_on,
            quantity=quantity,
            created_by=by,
        )


@contextmanager
def taking_from(source_id: int):
    """Orders placed inside this block take from the batch of `source_id` first, then
    expiring first as always (pre-orders converted from the lot harvested for them)."""
    token = _first_source.set(source_id)
    try:
        yield
    finally:
        _first_source.reset(token)


@contextmanager
def harvest_for_orders(*, stockrecord, source_id: int, label: str, quantity: int, expires_on=None):
    """`quantity` harvested in lot `source_id` for orders placed inside this block (a
    pre-order window's conversion), on a lot-sold record: the lot's open batch grows by
    it (or a batch is opened for them), the orders take from it first (``taking_from``),
    and a batch opened for them alone is closed afterwards (what they do not take, or
    later give back, is not on sale: the lot may be put on sale as usual). The record's
    stock stays what its open batches hold (``check_lot_stock``)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise BatchError(_("The quantity must be a whole number greater than zero."))
    with transaction.atomic():
        pk = getattr(stockrecord, "pk", stockrecord)
        record = StockRecord.objects.select_for_update(of=("self",)).get(pk=pk)
        batch = open_batches(pk).filter(source_id=source_id).select_for_update().first()
        opened = batch is None
        if opened:
            batch = SaleBatch.objects.create(
                stockrecord=record,
                source_id=source_id,
                label=str(label)[:64],
                expires_on=expires_on,
                quantity=quantity,
            )
        else:
            batch.quantity += quantity
            batch.save(update_fields=["quantity"])
        record.num_in_stock = (record.num_in_stock or 0) + quantity
        record.save(update_fields=["num_in_stock", "date_updated"])
        with taking_from(source_id):
            yield batch
        if opened:
            record = StockRecord.objects.select_for_update(of=("self",)).get(pk=pk)
            batch = SaleBatch.objects.select_for_update().get(pk=batch.pk)
            _withdraw_locked(record, [batch], PREORDERS)


def withdraw(*, source_id: int, reason: str) -> int:
    """The batch of `source_id` may no longer be sold: its remaining quantity leaves the
    stock at once. Returns that quantity (0 when it was not on sale)."""
    with transaction.atomic():
        record_ids = list(
            SaleBatch.objects.filter(source_id=source_id, withdrawn_at__isnull=True).values_list(
                "stockrecord_id", flat=True
            )
        )
        gone = 0
        for record_id in sorted(set(record_ids)):
            record = StockRecord.objects.select_for_update(of=("self",)).get(pk=record_id)
            batches = list(open_batches(record_id).filter(source_id=source_id).select_for_update())
            gone += _withdraw_locked(record, batches, reason)
        return gone


def allocate(record, *, line, quantity: int, today: date | None = None) -> list[BatchAllocation]:
    """Take `quantity` for `line` from the open batches of the locked `record`, expiring
    first first; a StockError (from the caller's message) when they hold less."""
    from .stock import StockError, shortage_message

    withdraw_expired(record, today=today)
    batches = list(fefo(open_batches(record.pk)).select_for_update())
    first = _first_source.get()
    if first is not None:
        batches.sort(key=lambda batch: batch.source_id != first)  # then expiring first
    left = sum(batch.quantity - batch.taken for batch in batches)
    if line is None or line.pk is None:
        raise StockError(_("A product sold from lots is reserved for an order line only."))
    if quantity > left:
        raise StockError(shortage_message(record.product.get_title(), left))
    allocations = []
    wanted = quantity
    for batch in batches:
        if wanted == 0:
            break
        take = min(wanted, batch.quantity - batch.taken)
        if take <= 0:
            continue
        batch.taken += take
        batch.save(update_fields=["taken"])
        allocations.append(BatchAllocation(batch=batch, line=line, quantity=take))
        wanted -= take
    BatchAllocation.objects.bulk_create(allocations)
    lot_provider().link_placed(line=line, source_id=allocations[0].batch.source_id)
    return allocations


def give_back(record, *, line, quantity: int, restocking: bool) -> None:
    """`line` gives up `quantity` of the locked, lot-sold `record`: a cancelled line's
    reservation (`restocking` False: the caller has already lowered the allocation) or a
    returned parcel's goods (`restocking` True). Goods go back to the batches they came
    from, the latest expiring first, while those are open; the rest leaves the stock."""
    today = timezone.localdate()
    withdraw_expired(record, today=today)
    allocations = list(
        BatchAllocation.objects.filter(line=line, released__lt=F("quantity"))
        .select_related("batch")
        .select_for_update(of=("self",))
        .order_by(F("batch__expires_on").desc(nulls_first=True), "-batch__created_at", "-pk")
    )
    left = quantity
    back_to_lots = 0
    for allocation in allocations:
        if left == 0:
            break
        n = min(left, allocation.quantity - allocation.released)
        allocation.released += n
        allocation.save(update_fields=["released"])
        batch = SaleBatch.objects.select_for_update().get(pk=allocation.batch_id)
        batch.taken -= n
        batch.save(update_fields=["taken"])
        if batch.withdrawn_at is None:
            back_to_lots += n
        left -= n
    if restocking:
        if back_to_lots:
            record.num_in_stock = (record.num_in_stock or 0) + back_to_lots
            record.save(update_fields=["num_in_stock", "date_updated"])
    else:
        # Released goods of a withdrawn lot (or of no lot) are not for sale any more.
        _take_off_stock(record, quantity - back_to_lots)


# --- Reads ---------------------------------------------------------------------------------


def batches_of(stockrecord_ids) -> dict[int, list[SaleBatch]]:
    """{stock record id: its batches, open ones first in FEFO order, then withdrawn ones
    newest first} (two queries)."""
    by_record: dict[int, list] = defaultdict(list)
    rows = SaleBatch.objects.filter(stockrecord_id__in=list(stockrecord_ids))
    open_rows = list(fefo(rows.filter(withdrawn_at__isnull=True)))
    closed = list(rows.filter(withdrawn_at__isnull=False).order_by("-withdrawn_at", "-pk"))
    for batch in open_rows + closed:
        by_record[batch.stockrecord_id].append(batch)
    return dict(by_record)


def is_source_on_sale(source_id: int) -> bool:
    return SaleBatch.objects.filter(source_id=source_id, withdrawn_at__isnull=True).exists()


def left_of_source(source_id: int) -> int | None:
    """What the open batches of `source_id` still hold (None: it is not on sale)."""
    rows = SaleBatch.objects.filter(source_id=source_id, withdrawn_at__isnull=True).aggregate(
        count=Count("pk"), left=Sum(F("quantity") - F("taken"))
    )
    return rows["left"] or 0 if rows["count"] else None


def open_by_source(source_ids) -> dict[int, tuple[int, int]]:
    """{source id: (what its open batches still hold, what orders took from them)} for
    the sources of `source_ids` (a list or a subquery) that are on sale. One query."""
    rows = (
        SaleBatch.objects.filter(source_id__in=source_ids, withdrawn_at__isnull=True)
        .values("source_id")
        .annotate(left=Sum(F("quantity") - F("taken")), taken=Sum("taken"))
        .order_by()
    )
    return {row["source_id"]: (row["left"] or 0, row["taken"] or 0) for row in rows}


def sold_from_source(source_id: int) -> int:
    """How much of a source's batches order lines hold (so that a lot put on sale again
    is never sold twice)."""
    return SaleBatch.objects.filter(source_id=source_id).aggregate(total=Sum("taken"))["total"] or 0


def open_sources():
    """The source ids of open batches (for traceability's daily sweep)."""
    return SaleBatch.objects.filter(withdrawn_at__isnull=True).values_list("source_id", flat=True)


# --- verify_ledger --------------------------------------------------------------------------


def check_lot_stock() -> list[str]:
    """Stock of lot-sold records = what their open batches hold; a batch's `taken` = its
    allocations; every line of a lot-sold record placed after its first batch allocated."""
    problems = []
    firsts = dict(
        SaleBatch.objects.order_by()
        .values_list("stockrecord_id")
        .annotate(first=Min("created_at"))
        .values_list("stockrecord_id", "first")
    )
    if not firsts:
        return problems
    holds = defaultdict(int)
    for batch_id, quantity, released in BatchAllocation.objects.values_list(
        "batch_id", "quantity", "released"
    ):
        holds[batch_id] += quantity - released
    remaining = defaultdict(int)
    for batch in SaleBatch.objects.order_by("pk"):
        if batch.taken != holds[batch.pk]:
            problems.append(
                f"lot on sale {batch.pk} ({batch.label}): {batch.taken} taken but its order "
                f"lines hold {holds[batch.pk]}"
            )
        remaining[batch.stockrecord_id] += batch.remaining
    records = StockRecord.objects.filter(pk__in=list(firsts)).order_by("pk")
    for record in records.values("pk", "partner_sku", "num_in_stock", "num_allocated"):
        left = (record["num_in_stock"] or 0) - (record["num_allocated"] or 0)
        if left != remaining[record["pk"]]:
            problems.append(
                f"stock record {record['pk']} ({record['partner_sku']}): {left} may be "
                f"ordered but its lots on sale hold {remaining[record['pk']]}"
            )
    allocated = dict(
        BatchAllocation.objects.order_by()
        .values_list("line_id")
        .annotate(total=Sum("quantity"))
        .values_list("line_id", "total")
    )
    for line_id, record_id, quantity, placed, number in Line.objects.filter(
        stockrecord_id__in=list(firsts)
    ).values_list("pk", "stockrecord_id", "quantity", "order__date_placed", "order__number"):
        taken = allocated.get(line_id, 0)
        if placed is not None and placed >= firsts[record_id] and taken != quantity:
            problems.append(
                f"order {number}, line {line_id}: {quantity} sold from lots but "
                f"{taken} taken from them"
            )
    return problems
