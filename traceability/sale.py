"""Lots on sale: traceability's side of marketplace.catalogue.batches.

- `put_lot_on_sale`: a farmer (or staff on their behalf: access.lots_for, the scope rule)
  puts a harvested or packed lot on sale. It must be sellable today
  (safety.sale_refusal, the one rule); its quantity becomes stock of the product in the
  product's unit (`quantity_in_product_unit`: the same unit, or kilograms from a mass unit
  such as tạ, yến, lạng, tấn, g; otherwise the farmer says how many), never more than the
  lot holds less what was already sold from it.
- `withdraw_lot`: a lot recalled (recalls.recall_lot) or failing the pre-harvest check
  (safety.mark_for_review, safety.review_lot) leaves the stock at once.
- `take_off_sale`: the farmer (or staff in scope) takes a lot off sale by hand; the same
  withdrawal, so what remains of it leaves the stock at once.
- `withdraw_unsellable`: the daily sweep (beat, just after midnight, and idempotent):
  every lot on sale that sale_refusal now refuses (its expiry date passed) leaves the stock.
  Placing an order never takes from a batch past its expiry date in any case
  (batches.allocate).
"""

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.catalogue import batches
from marketplace.core.text import fold

from . import safety
from .access import lots_for
from .epcis import UNITS
from .models import FarmEvent, Lot

StockRecord = get_model("partner", "StockRecord")

ON_SALE_KINDS = (FarmEvent.Kind.HARVEST, FarmEvent.Kind.PACKING)
KILOGRAMS = {"KGM": Decimal(1), "GRM": Decimal("0.001"), "TNE": Decimal(1000)}


def product_unit(product) -> str:
    return str(getattr(product.attr, "unit", "") or "")


def quantity_in_product_unit(lot, unit: str) -> int | None:
    """How many of `unit` (the product's) the lot holds, rounded down; None when the two
    units cannot be compared (the farmer says how many)."""
    try:
        quantity = Decimal(lot.quantity)
    except (InvalidOperation, TypeError, ValueError):
        return None
    lot_unit, product_unit_ = fold(lot.unit or "").strip(), fold(unit or "").strip()
    if lot_unit and lot_unit == product_unit_:
        return int(quantity.to_integral_value(ROUND_FLOOR))
    if product_unit_ == "kg":
        words = str(lot.unit or "").strip().lower().split()
        code, factor = UNITS.get(words[0].split("/")[0] if words else "", (None, 1))
        if code in KILOGRAMS:
            kilograms = quantity * Decimal(factor) * KILOGRAMS[code]
            return int(kilograms.to_integral_value(ROUND_FLOOR))
    return None


def stockrecord_of(lot):
    return (
        StockRecord.objects.filter(product_id=lot.product_id, partner_id=lot.producer.partner_id)
        .order_by("pk")
        .first()
    )


def most_on_sale(lot) -> int | None:
    """The most of `lot` that may still be put on sale (None: the units differ and only
    the farmer knows)."""
    whole = quantity_in_product_unit(lot, product_unit(lot.product))
    if whole is None:
        return None
    return max(0, whole - batches.sold_from_source(lot.pk))


def put_lot_on_sale(*, lot, by, quantity=None):
    """Put `lot` on sale (see the module docstring); `quantity` in the product's unit,
    by default all that is left of it. ValidationError with a message when it may not."""
    if by is not None and not lots_for(by).filter(pk=lot.pk).exists():
        raise PermissionDenied(_("You cannot sell this lot."))
    lot = Lot.objects.select_related("product", "producer", "recall").get(pk=lot.pk)
    refusal = safety.sale_refusal(lot)
    if refusal is not None:
        raise ValidationError(refusal.message)
    if not FarmEvent.objects.filter(lot=lot, kind__in=ON_SALE_KINDS).exists():
        raise ValidationError(_("Record the harvest or the packing of this lot first."))
    record = stockrecord_of(lot)
    if record is None:
        raise ValidationError(_("This product has no price and stock yet: add them first."))
    most = most_on_sale(lot)
    if quantity is None:
        quantity = most
    if quantity is None:
        raise ValidationError(
            {
                "quantity": _("Say how many %(unit)s of the product this lot makes.")
                % {"unit": product_unit(lot.product) or _("units")}
            }
        )
    if most is not None and quantity > most:
        raise ValidationError(
            {
                "quantity": _("This lot holds at most %(n)s %(unit)s more to sell.")
                % {"n": most, "unit": product_unit(lot.product)}
            }
        )
    try:
        return batches.put_on_sale(
            stockrecord=record,
            source_id=lot.pk,
            label=lot.code,
            quantity=quantity,
            expires_on=lot.expiry_date,
            by=by,
        )
    except batches.BatchError as exc:
        raise ValidationError({"quantity": str(exc)}) from None


def withdraw_lot(*, lot, reason: str) -> int:
    """`lot` may no longer be sold: what remains of it leaves the stock at once."""
    return batches.withdraw(source_id=lot.pk, reason=reason)


BY_HAND = "by_hand"


def take_off_sale(*, lot, by) -> int:
    """`by` (the lot's farmer or staff in scope) takes `lot` off sale: what remains of it
    leaves the stock at once (withdraw_lot, the one withdrawal). How much left the stock.
    ValidationError when it is not on sale."""
    if not lots_for(by).filter(pk=lot.pk).exists():
        raise PermissionDenied(_("You cannot sell this lot."))
    if not batches.is_source_on_sale(lot.pk):
        raise ValidationError(_("This lot is not on sale."))
    return withdraw_lot(lot=lot, reason=BY_HAND)


def withdraw_unsellable() -> int:
    """Withdraw every lot on sale that may not be sold today; how many were withdrawn."""
    ids = set(batches.open_sources())
    if not ids:
        return 0
    lots = list(Lot.objects.filter(pk__in=ids).select_related("recall"))
    refusals = safety.refusals_of(lots)
    count = 0
    for lot in lots:
        if refusals[lot.pk]:
            withdraw_lot(lot=lot, reason=refusals[lot.pk][0].code)
            count += 1
    return count


@shared_task(name="traceability.withdraw_unsellable_lots")
def withdraw_unsellable_lots() -> int:
    return withdraw_unsellable()


# --- Demo -----------------------------------------------------------------------------------

# Fruit sold by the kg from their demo lots (traceability.demo), no test relies on their
# typed stock: Hưng Yên longan, Mộc Châu plums, Lâm Đồng avocado.
DEMO_ON_SALE = ("NS0033", "NS0036", "NS0031")


def seed_demo(stdout=None) -> list[str]:
    """Put the demo lots of DEMO_ON_SALE on sale (idempotent). For settings.DEMO_SEEDERS,
    after "traceability.demo.seed"; returns the lines `seed_demo` prints."""
    lots = Lot.objects.filter(
        product__upc__in=DEMO_ON_SALE, code__in=[f"DEMO-{upc}" for upc in DEMO_ON_SALE]
    ).select_related("product", "producer", "recall")
    lines = []
    for lot in lots.order_by("product__upc"):
        if not batches.is_source_on_sale(lot.pk) and not batches.sold_from_source(lot.pk):
            try:
                put_lot_on_sale(lot=lot, by=None)
            except ValidationError:
                continue
        lines.append(f"  On sale   lot {lot.code}: {lot.product.get_title()}")
    return lines
