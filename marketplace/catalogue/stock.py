"""When stock is reserved, consumed and released: the one place.

Oscar's two-stage stock model on ``StockRecord``: ``num_in_stock`` is what the producer
has, ``num_allocated`` what orders have reserved and not yet taken; what a buyer may
still order is ``num_in_stock - num_allocated``.

- ``reserve``: an order is placed (checkout, through ``orders.OrderCreator``): the
  quantity is allocated, never more than is left.
- ``consume``: the goods leave (the post office picks the parcel up,
  ``fulfilment.pick_up``): the allocation and the stock both go down by the quantity.
- ``release``: an order line is cancelled before its goods left (by the buyer, the
  producer or the operator: ``fulfilment.cancellations``): the allocation goes down, the
  stock stays.
- ``restock``: goods that left come back (a parcel returned to the sender after a failed
  delivery, ``fulfilment.return_to_sender``): the stock goes up.

So at any moment a stock record's ``num_allocated`` is the quantity of its *open* lines
(``reserved_by_open_lines``: not cancelled, and their parcel new or packed), and
``num_in_stock`` is what the producer physically has, reserved goods included; the
producer edits that number and sees the reservation beside it. ``verify_ledger``
(marketplace.finance.checks) checks both.

Lots on sale (marketplace.catalogue.batches): for a stock record sold from lots,
``reserve`` with the order line takes the quantity from its lots, first-expiry-first-out,
under the same lock; ``release`` and ``restock`` with the line give the goods back to the
lots they came from (while still on sale). The lines' functions pass each line.

Each function owns its transaction and locks the stock record (SELECT … FOR UPDATE)
before reading it, so concurrent calls are serialised and the invariant
``0 <= num_allocated <= num_in_stock`` holds after each of them (``reserve_lines``: an
order's records together, in primary-key order). They call Oscar's own
``consume_allocation`` / ``cancel_allocation`` for the writes, and make Oscar's
``allocate`` write (the same UPDATE and signals) without reading back a row they hold
locked. Products whose class does not track stock are left alone, as Oscar does.
"""

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from . import batches
from .models import SaleBatch

StockRecord = get_model("partner", "StockRecord")

# Set while a reservation saves a stock record (``allocating``).
_allocating: ContextVar[bool] = ContextVar("nongsan_stock_allocating", default=False)
# The stock records a reservation is saving together (``saved_together``).
_together: ContextVar[list | None] = ContextVar("nongsan_stock_saved_together", default=None)
_together_receivers = []


class StockError(Exception):
    """A stock movement that must not happen; the message is for people."""


def _pk(stockrecord):
    return getattr(stockrecord, "pk", stockrecord)


def _locking():
    """Stock records locked (FOR UPDATE of their own rows), read with their product class
    (whether stock is tracked) and whether they are sold from lots (``_lot_sold``)."""
    return (
        StockRecord.objects.select_for_update(of=("self",))
        .select_related("product__product_class")
        .annotate(
            lot_sold_when_locked=Exists(SaleBatch.objects.filter(stockrecord_id=OuterRef("pk")))
        )
    )


def _locked(stockrecord):
    return _locking().get(pk=_pk(stockrecord))


def _lot_sold(record) -> bool:
    """batches.is_lot_sold of a record `_locking` read (no query: a batch is only put on
    sale under the same lock)."""
    return record.lot_sold_when_locked


def allocating() -> bool:
    """Whether the stock record being saved is a reservation (an allocation lowers what
    may be ordered, never raises it)."""
    return _allocating.get()


@contextmanager
def _allocation():
    token = _allocating.set(True)
    try:
        yield
    finally:
        _allocating.reset(token)


def _allocate(added: dict) -> None:
    """Oscar's StockRecord.allocate for each {record locked by this transaction: quantity}
    of `added` (what _reserve_locked checked and counted on the instance): the same signals,
    and one UPDATE for them all, the new allocations known without reading the rows back.
    The post_save receivers that read the database for a saved record do it once for all
    of them (``saved_together``, ``on_saved_together``)."""
    records = list(added)
    for record in records:
        record.pre_save_signal()
    if len(records) == 1:
        increment = Value(added[records[0]])
    else:
        increment = Case(
            *(When(pk=record.pk, then=Value(added[record])) for record in records),
            output_field=IntegerField(),
        )
    StockRecord.objects.filter(pk__in=[record.pk for record in records]).update(
        num_allocated=Coalesce(F("num_allocated"), 0) + increment
    )
    token = _together.set(records)
    try:
        with _allocation():
            for record in records:
                record.post_save_signal()
    finally:
        _together.reset(token)
    with _allocation():
        for receiver in _together_receivers:
            receiver(records)


def saved_together() -> bool:
    """Whether the stock record being saved is one of those a reservation saves together:
    a post_save receiver that reads the database for it leaves that to its counterpart
    registered with ``on_saved_together``, run once for all of them."""
    return _together.get() is not None


def on_saved_together(receiver):
    """Register ``receiver(records)``, run once a reservation has sent post_save for each
    of `records` (stock records it allocated, saved together): the reads a per-record
    receiver skips while ``saved_together()``, made once for all of them."""
    _together_receivers.append(receiver)
    return receiver


def _quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise StockError(_("The quantity must be a whole number greater than zero."))
    return quantity


def _tracked(record) -> bool:
    return record.can_track_allocations


def _sync(stockrecord, record) -> None:
    if hasattr(stockrecord, "num_in_stock"):
        stockrecord.num_in_stock = record.num_in_stock
        stockrecord.num_allocated = record.num_allocated


def available(record) -> int:
    """What may still be ordered from this stock record."""
    return (record.num_in_stock or 0) - (record.num_allocated or 0)


def shortage_message(title: str, left: int) -> str:
    if left <= 0:
        return _("“%(title)s” has just sold out. Remove it from your basket.") % {"title": title}
    return _("Only %(left)s of “%(title)s” are left: lower the quantity in your basket.") % {
        "title": title,
        "left": left,
    }


def reserve(*, stockrecord, quantity: int, line=None):
    """Allocate `quantity` of the record to an order (to its `line`: a record sold from
    lots takes it from them, batches.allocate); StockError if less is left."""
    quantity = _quantity(quantity)
    with transaction.atomic():
        record = _locked(stockrecord)
        if _reserve_locked(record, quantity, line):
            _allocate({record: quantity})
    _sync(stockrecord, record)
    return record


def _reserve_locked(record, quantity: int, line) -> bool:
    """Check `quantity` of the locked `record` is left and count it as allocated on the
    instance (a record sold from lots takes it from them for `line`); the caller writes
    the allocation (``_allocate``). False for a record that does not track stock."""
    if not _tracked(record):
        return False
    if _lot_sold(record):
        batches.allocate(record, line=line, quantity=quantity)
    left = available(record)
    if quantity > left:
        raise StockError(shortage_message(record.product.get_title(), left))
    record.num_allocated = (record.num_allocated or 0) + quantity
    return True


def reserve_lines(reservations) -> None:
    """``reserve`` for each (stock record, quantity, order line) of `reservations` (an order
    being placed): their stock records locked together in primary-key order (so that
    concurrent orders cannot deadlock), what each record is asked for in all checked
    against what is left (StockError naming the product), then each reserved in
    stock-record order and the allocations written together (one UPDATE); the callers'
    instances are brought up to date. Runs in the transaction that places the order: a
    StockError undoes it with the order."""
    reservations = [(record, _quantity(quantity), line) for record, quantity, line in reservations]
    wanted = Counter()
    for stockrecord, quantity, _line in reservations:
        wanted[_pk(stockrecord)] += quantity
    if not wanted:
        return
    # No savepoint of its own: a shortage raises, and the order being placed goes with it
    # (its caller's transaction).
    with transaction.atomic(savepoint=False):
        records = {record.pk: record for record in _locking().filter(pk__in=wanted).order_by("pk")}
        for pk in sorted(wanted):
            record = records.get(pk)
            if record is None:
                raise StockRecord.DoesNotExist(f"StockRecord {pk} does not exist.")
            left = available(record)
            if _tracked(record) and wanted[pk] > left:
                raise StockError(shortage_message(record.product.get_title(), left))
        added = Counter()
        for stockrecord, quantity, line in sorted(
            reservations, key=lambda reservation: _pk(reservation[0])
        ):
            record = records[_pk(stockrecord)]
            if _reserve_locked(record, quantity, line):
                added[record] += quantity
        if added:
            _allocate(added)
    for stockrecord in {id(r[0]): r[0] for r in reservations}.values():
        _sync(stockrecord, records[_pk(stockrecord)])


def consume(*, stockrecord, quantity: int):
    """The reserved goods have left: take `quantity` off both the allocation and the stock;
    StockError if that much was not reserved."""
    quantity = _quantity(quantity)
    with transaction.atomic():
        record = _locked(stockrecord)
        if _tracked(record):
            if not record.is_allocation_consumption_possible(quantity):
                raise StockError(
                    _("%(count)s of “%(title)s” were not reserved: the stock was not changed.")
                    % {"count": quantity, "title": record.product.get_title()}
                )
            record.consume_allocation(quantity)
    _sync(stockrecord, record)
    return record


def release(*, stockrecord, quantity: int, line=None):
    """A reservation is given up (an order line cancelled before its goods left): take
    `quantity` off the allocation (never below zero); the stock is unchanged, except for a
    record sold from lots: the goods go back to the lots of `line` still on sale, the rest
    leaves the stock (batches.give_back)."""
    quantity = _quantity(quantity)
    with transaction.atomic():
        record = _locked(stockrecord)
        if _tracked(record):
            record.cancel_allocation(quantity)
            if _lot_sold(record):
                batches.give_back(record, line=line, quantity=quantity, restocking=False)
    _sync(stockrecord, record)
    return record


def consume_lines(lines) -> None:
    """Consume the reservation of each order line that has a stock record, in stock-record
    order (so that concurrent callers lock rows in the same order)."""
    for line in sorted(lines, key=lambda line: (line.stockrecord_id or 0, line.pk)):
        if line.stockrecord_id is not None:
            consume(stockrecord=line.stockrecord_id, quantity=line.quantity)


def release_lines(lines) -> None:
    """Release the reservation of each order line that has a stock record."""
    for line in sorted(lines, key=lambda line: (line.stockrecord_id or 0, line.pk)):
        if line.stockrecord_id is not None:
            release(stockrecord=line.stockrecord_id, quantity=line.quantity, line=line)


def restock(*, stockrecord, quantity: int, line=None):
    """Goods that had left come back to the producer (a parcel returned to the sender):
    `quantity` goes back into the stock; reservations are unchanged. A record sold from
    lots takes them back only into the lots of `line` still on sale (batches.give_back)."""
    quantity = _quantity(quantity)
    with transaction.atomic():
        record = _locked(stockrecord)
        if _tracked(record) and _lot_sold(record):
            batches.give_back(record, line=line, quantity=quantity, restocking=True)
        elif _tracked(record):
            record.num_in_stock = (record.num_in_stock or 0) + quantity
            record.save(update_fields=["num_in_stock", "date_updated"])
    _sync(stockrecord, record)
    return record


def restock_lines(lines) -> None:
    """Put the goods of each order line with a stock record back into stock."""
    for line in sorted(lines, key=lambda line: (line.stockrecord_id or 0, line.pk)):
        if line.stockrecord_id is not None:
            restock(stockrecord=line.stockrecord_id, quantity=line.quantity, line=line)


def open_lines():
    """Order lines whose goods are reserved: not cancelled, and their parcel (the order's
    parcel of the line's producer) new or packed."""
    from oscar.core.loading import get_model

    from marketplace.models import Parcel

    Line = get_model("order", "Line")
    parcels = Parcel.objects.filter(
        order_id=OuterRef("order_id"),
        partner_id=OuterRef("partner_id"),
        status__in=Parcel.OPEN_STATUSES,
    )
    return Line.objects.filter(cancellation__isnull=True).filter(Exists(parcels))


def reserved_by_open_lines(stockrecord_ids=None) -> dict[int, int]:
    """{stock record id: quantity its open lines reserve} (records with none are absent)."""
    lines = open_lines().filter(stockrecord__isnull=False)
    if stockrecord_ids is not None:
        lines = lines.filter(stockrecord_id__in=stockrecord_ids)
    return dict(
        lines.order_by()
        .values_list("stockrecord_id")
        .annotate(total=Sum("quantity"))
        .values_list("stockrecord_id", "total")
    )


_installed = []


def install() -> None:
    """Oscar e-mails "back in stock" product alerts whenever a stock record is saved
    (OSCAR_EAGER_ALERTS). A reservation lowers what may be ordered and cannot bring a
    product back, so the alerts are not looked for then (three queries a stock record of
    every order placed); any other save still sends them as Oscar does. Oscar's low-stock
    alerts (opened below a record's threshold, closed above it) are kept up to date as
    Oscar does, the open ones of the records a reservation saves together read in one
    query (``update_stock_alerts_together``)."""
    from django.conf import settings
    from django.db.models.signals import post_save
    from oscar.apps.customer.alerts import receivers as alerts
    from oscar.apps.partner import receivers as partner_receivers

    def rewire(oscars, ours, dispatch_uid) -> bool:
        """Oscar's StockRecord receiver `oscars` replaced by `ours` (kept: the signal holds
        a weak reference); False when Oscar's was not connected."""
        _installed.append(ours)
        if not post_save.disconnect(oscars, sender=StockRecord):
            return False
        post_save.connect(ours, sender=StockRecord, dispatch_uid=dispatch_uid)
        return True

    def update_stock_alerts(sender, instance, created, **kwargs):
        if not saved_together():
            partner_receivers.update_stock_alerts(sender, instance, created, **kwargs)

    if rewire(partner_receivers.update_stock_alerts, update_stock_alerts, "nongsan-stock-alerts"):
        on_saved_together(update_stock_alerts_together)

    if not settings.OSCAR_EAGER_ALERTS:
        return

    def send_product_alerts(sender, instance, created, **kwargs):
        if not allocating():
            alerts.send_product_alerts(sender, instance, created, **kwargs)

    rewire(alerts.send_product_alerts, send_product_alerts, "nongsan-product-alerts")


def update_stock_alerts_together(records) -> None:
    """Oscar's ``update_stock_alerts`` for stock records saved together: a low-stock alert
    opened for each record below its threshold without one, an open one closed for each
    record no longer below it; their open alerts read in one query."""
    StockAlert = get_model("partner", "StockAlert")
    open_alerts = {
        alert.stockrecord_id: alert
        for alert in StockAlert.objects.filter(
            stockrecord_id__in=[record.pk for record in records], status=StockAlert.OPEN
        )
    }
    for record in records:
        alert = open_alerts.get(record.pk)
        if record.is_below_threshold and not alert:
            StockAlert.objects.create(stockrecord=record, threshold=record.low_stock_threshold)
        elif not record.is_below_threshold and alert:
            alert.close()
