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
``0 <= num_allocated <= num_in_stock`` holds after each of them. They call Oscar's own
``allocate`` / ``consume_allocation`` / ``cancel_allocation`` for the writes. Products
whose class does not track stock are left alone, as Oscar does.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from . import batches

StockRecord = get_model("partner", "StockRecord")


class StockError(Exception):
    """A stock movement that must not happen; the message is for people."""


def _locked(stockrecord):
    pk = getattr(stockrecord, "pk", stockrecord)
    return (
        StockRecord.objects.select_for_update(of=("self",))
        .select_related("product__product_class")
        .get(pk=pk)
    )


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
        if _tracked(record):
            if batches.is_lot_sold(record):
                batches.allocate(record, line=line, quantity=quantity)
            left = available(record)
            if quantity > left:
                raise StockError(shortage_message(record.product.get_title(), left))
            record.allocate(quantity)
    _sync(stockrecord, record)
    return record


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
            if batches.is_lot_sold(record):
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
        if _tracked(record) and batches.is_lot_sold(record):
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
