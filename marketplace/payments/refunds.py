"""Refunds, for every payment method, never more than was paid.

- card: ``refund_card`` asks Stripe (idempotent per Refund row) and records the refund on
  the order when Stripe says it succeeded;
- VietQR transfer and cash collected on delivery: ``request_transfer_refund`` writes a
  pending Refund (the marketplace owes the buyer a transfer); the operator makes the
  transfer from a banking app (a VietQR code for the buyer's account helps) and records it
  with ``record_transfer_back`` (bank, account, holder, bank reference, who, when): only
  then is the refund recorded on the order.
- ``refund`` picks the way by the order's payment method (the operator's refund page);
- ``charges_producer``: the operator refunds goods a producer delivered (damaged, short,
  not as described) and names the parcel: once the refund is made, the producer's sale is
  reduced by it (marketplace.finance.settlements.charge_refund). Refunds of cancelled or
  returned parcels are not charged: those goods were never sold.
- ``cancel_transfer_refund``: a transfer back not made yet is withdrawn (a wrong amount,
  the buyer paid again); what it held may be refunded again.
- ``settle_cancellation``: part of an order was cancelled (marketplace.fulfilment
  .cancellations): what is due goes down by its amount (payments.state.reduce_due) and
  what was paid beyond what is now due is refunded, the same two ways.

Every function locks the order's payment source first (SELECT … FOR UPDATE) and checks the
amount against what may still be refunded — paid, less refunded, less refunds still
pending (card refunds Stripe is processing, transfers not yet made) — while it is
locked, so two refunds at once cannot together exceed what was paid.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.core.banks import BANKS
from marketplace.core.money import format_dong
from marketplace.finance.settlements import charge_refund
from marketplace.models import Parcel, Refund
from marketplace.payments import stripe_gateway
from marketplace.payments.state import (
    CARD,
    COD,
    PaymentError,
    locked_source,
    record_refund,
    reduce_due,
)

BANK_BINS = {code for code, _short, _name in BANKS}


class RefundRefused(Exception):
    """A refund that must not be made; the message is for people."""


class RefundFailed(Exception):
    """Stripe refused or could not be reached; the Refund row is kept as failed."""

    def __init__(self, message, refund):
        super().__init__(message)
        self.refund = refund


def pending_total(source) -> Decimal:
    return Refund.objects.filter(source=source, status=Refund.Status.PENDING).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)


def refundable_of(source) -> Decimal:
    """What may still be refunded: paid, less refunded, less refunds still pending."""
    if source is None:
        return Decimal(0)
    left = source.amount_debited - source.amount_refunded - pending_total(source)
    return max(left, Decimal(0))


def _whole_amount(amount) -> Decimal:
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
        raise RefundRefused(_("Enter a whole number of đồng greater than zero."))
    return amount


def _check_refundable(source, amount) -> None:
    refundable = refundable_of(source)
    if amount > refundable:
        raise RefundRefused(
            _("At most %(amount)s can be refunded on this order.")
            % {"amount": format_dong(refundable)}
        )


def _check_charge(order, parcel, charges_producer) -> None:
    if not charges_producer:
        return
    if parcel is None or parcel.order_id != order.pk or parcel.status != Parcel.Status.DELIVERED:
        raise RefundRefused(
            _("Only goods of a delivered parcel of this order can be charged to its producer.")
        )


def refund_card(
    *, order, amount, reason: str = "", by=None, parcel=None, charges_producer=False
) -> Refund:
    """Refund `amount` đồng of the order's card payment through Stripe. Raises
    RefundRefused (nothing asked of Stripe) or RefundFailed (Stripe said no)."""
    failure = None
    with transaction.atomic():
        source = locked_source(order)
        if source is None or source.source_type.code != CARD or not source.reference:
            raise RefundRefused(_("This order was not paid by card."))
        amount = _whole_amount(amount)
        _check_refundable(source, amount)
        _check_charge(order, parcel, charges_producer)
        refund = Refund.objects.create(
            order=order,
            source=source,
            amount=amount,
            reason=reason[:255],
            created_by=by,
            method=Refund.Method.CARD,
            parcel=parcel,
            charges_producer=charges_producer,
        )
        try:
            answer = stripe_gateway.create_refund(
                payment_intent_id=source.reference, amount=amount, refund_pk=refund.pk
            )
        except stripe_gateway.GatewayError as exc:
            refund.status = Refund.Status.FAILED
            refund.save(update_fields=["status"])
            failure = exc.message
        else:
            refund.stripe_refund_id = answer.get("id") or None
            status = answer.get("status")
            if status == "succeeded":
                refund.status = Refund.Status.SUCCEEDED
                record_refund(order, amount=amount, reference=refund.stripe_refund_id or "")
            elif status in ("failed", "canceled"):
                refund.status = Refund.Status.FAILED
                failure = answer.get("failure_reason") or status
            refund.save(update_fields=["stripe_refund_id", "status"])
            charge_refund(refund=refund, by=by)
    if failure is not None:
        raise RefundFailed(failure, refund)
    return refund


def request_transfer_refund(
    *, order, amount, reason: str = "", by=None, parcel=None, charges_producer=False
) -> Refund:
    """The marketplace owes the buyer `amount` by bank transfer (an order paid by VietQR,
    or cash collected on delivery): a pending Refund, counted at once against what may
    still be refunded, recorded on the order when the operator records the transfer."""
    with transaction.atomic():
        source = locked_source(order)
        if source is None:
            raise RefundRefused(_("This order has no payment to refund."))
        if source.source_type.code == CARD:
            raise RefundRefused(_("This order was paid by card: refund it to the card."))
        amount = _whole_amount(amount)
        _check_refundable(source, amount)
        _check_charge(order, parcel, charges_producer)
        return Refund.objects.create(
            order=order,
            source=source,
            amount=amount,
            reason=reason[:255],
            created_by=by,
            method=Refund.Method.TRANSFER,
            parcel=parcel,
            charges_producer=charges_producer,
        )


def refund(
    *, order, amount, reason: str = "", by=None, parcel=None, charges_producer=False
) -> Refund:
    """Refund `amount` of a paid order the way it was paid: to the card through Stripe, or
    as a bank transfer back for the operator to make. With `charges_producer`, `parcel` is
    a delivered parcel whose goods are refunded: its producer's sale is reduced once the
    refund is made."""
    source = order.sources.select_related("source_type").first()
    way = refund_card if source is not None and source.source_type.code == CARD else None
    way = way or request_transfer_refund
    return way(
        order=order,
        amount=amount,
        reason=reason,
        by=by,
        parcel=parcel,
        charges_producer=charges_producer,
    )


def transfer_refusal(refund) -> str | None:
    if refund.method != Refund.Method.TRANSFER:
        return _("This refund is made by Stripe, not by bank transfer.")
    if refund.status == Refund.Status.CANCELLED:
        return _("This refund was cancelled.")
    if refund.status != Refund.Status.PENDING:
        return _("This refund has already been transferred.")
    return None


def cancel_transfer_refund(*, refund, by, reason) -> Refund:
    """Withdraw a transfer back that was not made (a wrong amount, the buyer paid again):
    the refund is cancelled, with who and why, and what it held may be refunded again."""
    if not (by and by.is_authenticated and by.is_superuser):
        raise PermissionDenied(_("Only the marketplace operator cancels refunds."))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise RefundRefused(_("Say why this refund is cancelled."))
    with transaction.atomic():
        locked_source(refund.order)
        locked = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        if why := transfer_refusal(locked):
            raise RefundRefused(why)
        locked.status = Refund.Status.CANCELLED
        locked.executed_at = timezone.now()
        locked.executed_by = by
        locked.reason = (f"{locked.reason} — " if locked.reason else "") + reason
        locked.reason = locked.reason[:255]
        locked.save(update_fields=["status", "executed_at", "executed_by", "reason"])
    refund.status, refund.reason = locked.status, locked.reason
    return refund


def clean_account(*, bank_bin, account_number, account_name) -> tuple[str, str, str]:
    bank_bin = str(bank_bin or "").strip()
    number = "".join(str(account_number or "").split())
    name = " ".join(str(account_name or "").split()).upper()
    if bank_bin not in BANK_BINS:
        raise RefundRefused(_("Choose the buyer's bank."))
    if not number.isascii() or not number.isalnum() or not 6 <= len(number) <= 19:
        raise RefundRefused(_("An account number has 6 to 19 letters or digits."))
    if not name:
        raise RefundRefused(_("Enter the account holder's name, as the bank shows it."))
    return bank_bin, number, name[:70]


def record_transfer_back(
    *, refund, by, bank_bin, account_number, account_name, bank_reference
) -> Refund:
    """The operator made the transfer of a pending refund to the buyer's account: it is
    recorded (account, bank reference, who, when) and the refund counts on the order."""
    if not (by and by.is_authenticated and by.is_superuser):
        raise PermissionDenied(_("Only the marketplace operator records refunds."))
    bank_bin, account_number, account_name = clean_account(
        bank_bin=bank_bin, account_number=account_number, account_name=account_name
    )
    reference = " ".join(str(bank_reference or "").split())[:100]
    if not reference:
        raise RefundRefused(_("Enter the bank reference of the transfer."))
    with transaction.atomic():
        locked_source(refund.order)  # the order's money first, as every refund does
        locked = (
            Refund.objects.select_for_update(of=("self",)).select_related("order").get(pk=refund.pk)
        )
        if reason := transfer_refusal(locked):
            raise RefundRefused(reason)
        try:
            record_refund(locked.order, amount=locked.amount, reference=reference)
        except PaymentError as exc:
            raise RefundRefused(str(exc)) from None
        locked.status = Refund.Status.SUCCEEDED
        locked.bank_bin, locked.account_number, locked.account_name = (
            bank_bin,
            account_number,
            account_name,
        )
        locked.bank_reference = reference
        locked.executed_at = timezone.now()
        locked.executed_by = by
        locked.save()
        charge_refund(refund=locked, by=by)
    for field in (
        "status",
        "bank_bin",
        "account_number",
        "account_name",
        "bank_reference",
        "executed_at",
        "executed_by",
    ):
        setattr(refund, field, getattr(locked, field))
    return refund


# --- Cancellations -----------------------------------------------------------------------------


def cancellation_refusal(order, *, whole: bool) -> str | None:
    """Why part of this order cannot be cancelled for money reasons (None: it can). A card
    payment not made yet is for the whole order (its PaymentIntent cannot shrink): only the
    whole order may be cancelled then."""
    source = order.sources.select_related("source_type").first()
    if source is None or whole:
        return None
    if source.source_type.code == CARD and source.amount_debited <= 0:
        return _(
            "This order is not paid yet and a card payment covers the whole order: pay it "
            "first, or cancel the whole order."
        )
    return None


def settle_cancellation(*, order, amount, reason: str = "", by=None, parcel=None) -> Refund | None:
    """`amount` of the order (a cancelled line or parcel) is no longer due; what was paid
    beyond what is now due is refunded the way it was paid. Returns that refund, if any
    (a card refund Stripe refused is kept as failed, for the operator to retry)."""
    amount = Decimal(amount)
    with transaction.atomic():
        source = reduce_due(order, amount=amount)
        if source is None or source.source_type.code == COD:
            return None  # cash on delivery: nothing was collected on an open parcel
        held = source.amount_debited - source.amount_refunded - pending_total(source)
        excess = min(amount, held - source.amount_allocated)
        if excess <= 0:
            return None
        try:
            return refund(order=order, amount=excess, reason=reason, by=by, parcel=parcel)
        except RefundFailed as exc:
            return exc.refund
