"""Writes of the wholesale domain: a buyer registers its business, the operator reviews
it, a producer sets and removes price breaks, and an order placed by an approved business
keeps its VAT invoice details. Keyword-only arguments, one transaction each."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.models import BusinessBuyer, OrderInvoice, PriceBreak
from marketplace.wholesale import pricing
from marketplace.wholesale.tax_codes import clean_tax_code

StockRecord = get_model("partner", "StockRecord")
MAX_QUANTITY = 1_000_000


def register_business(
    *, user, kind: str, company_name: str, tax_code: str, address: str, invoice_email: str
) -> BusinessBuyer:
    """The buyer's business details, new or changed: they wait for the operator's approval
    again (wholesale prices stop until then)."""
    if kind not in BusinessBuyer.Kind.values:
        raise ValidationError({"kind": _("Choose the type of business.")})
    code = clean_tax_code(tax_code)
    with transaction.atomic():
        business = BusinessBuyer.objects.select_for_update().filter(user=user).first()
        business = business or BusinessBuyer(user=user)
        business.kind = kind
        business.company_name = company_name.strip()
        business.tax_code = code
        business.address = address.strip()
        business.invoice_email = invoice_email.strip()
        business.status = BusinessBuyer.Status.PENDING
        business.reason = ""
        business.reviewed_by = None
        business.reviewed_at = None
        business.full_clean()
        business.save()
    transaction.on_commit(lambda: pricing.forget(user.pk))
    pricing.forget(user.pk)
    return business


def review_business(
    *, business_id: int, operator, approve: bool, reason: str = ""
) -> BusinessBuyer:
    """The operator approves a business buyer (wholesale prices apply from its next basket
    line) or refuses it, saying why."""
    if not operator.is_superuser:
        raise PermissionDenied
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Say why, so the buyer can correct it.")})
    with transaction.atomic():
        business = BusinessBuyer.objects.select_for_update().get(pk=business_id)
        business.status = (
            BusinessBuyer.Status.APPROVED if approve else BusinessBuyer.Status.REJECTED
        )
        business.reason = "" if approve else reason[:255]
        business.reviewed_by = operator
        business.reviewed_at = timezone.now()
        business.save()
    pricing.forget(business.user_id)
    transaction.on_commit(lambda: pricing.forget(business.user_id))
    return business


def _own_stockrecord(partner, product):
    record = StockRecord.objects.filter(partner=partner, product=product).first()
    if record is None:
        raise PermissionDenied
    return record


def set_price_break(*, partner, product, min_quantity: int, price: Decimal) -> PriceBreak:
    """From `min_quantity` units, business buyers pay `price` a unit (replacing the break
    at that quantity). The price must be below the retail price."""
    record = _own_stockrecord(partner, product)
    errors = {}
    if not isinstance(min_quantity, int) or not 2 <= min_quantity <= MAX_QUANTITY:
        errors["min_quantity"] = _("A wholesale price starts from 2 units or more.")
    if price is None or price <= 0:
        errors["price"] = _("Enter a price above 0.")
    elif record.price is not None and price >= record.price:
        errors["price"] = _("A wholesale price must be below the retail price.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found, _created = PriceBreak.objects.update_or_create(
            product=product, min_quantity=min_quantity, defaults={"price": price}
        )
    return found


def remove_price_break(*, partner, price_break_id: int) -> None:
    with transaction.atomic():
        found = PriceBreak.objects.select_for_update().filter(pk=price_break_id).first()
        if found is None:
            return
        _own_stockrecord(partner, found.product)
        found.delete()


def record_invoice(*, order, user) -> OrderInvoice | None:
    """At placement, inside the order's transaction: an approved business buyer's VAT
    invoice details go with the order (as they are now)."""
    if user is None or not user.is_authenticated:
        return None
    business = BusinessBuyer.objects.filter(
        user_id=user.pk, status=BusinessBuyer.Status.APPROVED
    ).first()
    if business is None:
        return None
    invoice, _created = OrderInvoice.objects.get_or_create(
        order=order,
        defaults={
            "company_name": business.company_name,
            "tax_code": business.tax_code,
            "address": business.address,
            "email": business.invoice_email,
        },
    )
    return invoice


def on_order_placed(sender, order, user, **kwargs) -> None:
    """Oscar's order_placed signal (sent inside the placement's transaction)."""
    record_invoice(order=order, user=user)
