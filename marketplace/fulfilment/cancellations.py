"""Cancelling an order, one farm's parcel or one line, before the goods leave the farm.

Who may cancel, and until when (the rule, ``cancel_refusal``):
- the buyer (signed in, or a guest through the signed order-status link), an order or one
  parcel, until that parcel is packed;
- the producer, one line it cannot supply (out of stock, harvest failed) or its whole
  parcel, until it is packed;
- the operator, any parcel or line until the post office has picked it up.

Each cancellation is one transaction: the parcel rows are locked first (SELECT … FOR
UPDATE, in primary-key order), so a cancellation racing the packing of the same parcel
either happens before it (the packing is then refused) or is refused itself. Then the
reservation of the goods is released (marketplace.catalogue.stock.release), the parcel is
marked cancelled with who, when, why (or the line gets a CancelledLine and its amount is
taken off the parcel), the amount no longer due is settled — taken off what the order
costs and, when it was paid, refunded the way it was paid
(marketplace.payments.refunds.settle_cancellation) — and the buyer is told after commit
(marketplace.fulfilment.notifications).
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.catalogue import stock
from marketplace.fulfilment import notifications
from marketplace.models import CancelledLine, Parcel
from marketplace.payments import refunds, stripe_gateway
from marketplace.payments.state import CARD

Line = get_model("order", "Line")

Status = Parcel.Status
Role = Parcel.Role
REASON_MAX = 255


class CancellationError(Exception):
    """A cancellation that must not happen; the message says why, for the user."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


def cancel_refusal(parcel, role: str) -> str | None:
    """Why `role` cannot cancel this parcel (or a line of it) now; None: it can."""
    if parcel.status == Status.CANCELLED:
        return _("This parcel is already cancelled.")
    if role == Role.OPERATOR:
        if parcel.status not in Parcel.OPEN_STATUSES:
            return _("This parcel has left the producer: it can no longer be cancelled.")
        return None
    if parcel.status != Status.NEW:
        return _("This parcel is already packed: it can no longer be cancelled.")
    return None


def may_act(parcel, role: str, by) -> bool:
    """Whether `by` may cancel this parcel as `role`. A buyer is the order's user; a guest
    order is cancelled with `by` None (the page has checked the signed link)."""
    user_ok = by is not None and getattr(by, "is_authenticated", False)
    if role == Role.BUYER:
        if parcel.order.user_id is None:
            return by is None or not user_ok
        return user_ok and by.pk == parcel.order.user_id
    if role == Role.PRODUCER:
        return user_ok and parcel.partner.users.filter(pk=by.pk).exists()
    if role == Role.OPERATOR:
        return user_ok and by.is_superuser
    return False


def _reason(reason) -> str:
    text = " ".join(str(reason or "").split())[:REASON_MAX]
    if not text:
        raise CancellationError(_("Say why it is cancelled."))
    return text


def _refuse(refusal) -> None:
    if refusal:
        raise CancellationError(refusal)


def _active_lines(parcel) -> list:
    return list(
        Line.objects.filter(
            order_id=parcel.order_id, partner_id=parcel.partner_id, cancellation__isnull=True
        ).order_by("pk")
    )


def _cancel_locked(parcels: list[Parcel], *, order, role, reason, by) -> None:
    """Cancel these locked parcels of `order` (checked by the caller)."""
    ids = [parcel.pk for parcel in parcels]
    others = (
        Parcel.objects.filter(order_id=order.pk)
        .exclude(pk__in=ids)
        .exclude(status__in=Parcel.CLOSED_STATUSES)
        .exists()
    )
    _refuse(refunds.cancellation_refusal(order, whole=not others))
    if not others:
        _stop_card_payment(order)
    now = timezone.now()
    amount = Decimal(0)
    user = by if by is not None and getattr(by, "is_authenticated", False) else None
    for parcel in parcels:
        stock.release_lines(_active_lines(parcel))
        parcel.status = Status.CANCELLED
        parcel.cancelled_at = now
        parcel.cancelled_by = user
        parcel.cancelled_role = role
        parcel.cancel_reason = reason
        parcel.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancelled_role",
                "cancel_reason",
            ]
        )
        amount += parcel.goods_total + parcel.shipping_charge
        notifications.parcel_cancelled(parcel)
    refunds.settle_cancellation(
        order=order,
        amount=amount,
        reason=reason,
        by=user,
        parcel=parcels[0] if len(parcels) == 1 else None,
    )


def _stop_card_payment(order) -> None:
    """The whole order is being cancelled: a card payment not made yet is stopped at Stripe
    first, so the buyer cannot pay for it afterwards. If the buyer has just paid (Stripe
    refuses: the payment is recorded when its webhook arrives) or Stripe cannot be
    reached, the cancellation waits: cancelling again then refunds what was paid."""
    source = order.sources.select_related("source_type").first()
    if (
        source is None
        or source.source_type.code != CARD
        or source.amount_debited > 0
        or not source.reference
        or not stripe_gateway.card_ready()
    ):
        return
    try:
        stripe_gateway.cancel_payment_intent(source.reference)
    except stripe_gateway.GatewayError as exc:
        if exc.code == "payment_intent_unexpected_state":
            raise CancellationError(
                _(
                    "The card payment for this order has just been made. Reload the page in "
                    "a minute and cancel again: what was paid will be refunded to the card."
                )
            ) from None
        raise CancellationError(
            _("The card payment could not be stopped at Stripe just now: try again in a minute.")
        ) from None


def _locked(parcels) -> list[Parcel]:
    ids = sorted(parcel.pk for parcel in parcels)
    return list(
        Parcel.objects.select_for_update(of=("self",))
        .select_related("order", "partner")
        .filter(pk__in=ids)
        .order_by("pk")
    )


def cancel_parcel(*, parcel, role: str, reason: str, by=None) -> Parcel:
    """Cancel one producer's parcel of an order (see the module for who and until when)."""
    reason = _reason(reason)
    with transaction.atomic():
        (locked,) = _locked([parcel])
        if not may_act(locked, role, by):
            raise PermissionDenied(_("You cannot cancel this parcel."))
        _refuse(cancel_refusal(locked, role))
        _cancel_locked([locked], order=locked.order, role=role, reason=reason, by=by)
    parcel.refresh_from_db()
    return parcel


def order_cancel_refusal(parcels, role: str) -> str | None:
    """Why the whole order cannot be cancelled by `role` (None: it can): some parcel went
    on, or everything is cancelled already."""
    active = [parcel for parcel in parcels if parcel.status not in Parcel.CLOSED_STATUSES]
    if not active:
        return _("This order is already cancelled.")
    if any(cancel_refusal(parcel, role) for parcel in active):
        return _(
            "Part of this order is already packed or on its way: cancel the parcels that "
            "are still awaiting packing one by one."
        )
    return None


def cancel_order(*, order, role: str, reason: str, by=None) -> list[Parcel]:
    """Cancel every parcel of the order, all or none."""
    reason = _reason(reason)
    with transaction.atomic():
        parcels = _locked(Parcel.objects.filter(order_id=order.pk))
        if not parcels:
            raise CancellationError(_("This order has no parcels to cancel."))
        for parcel in parcels:
            if not may_act(parcel, role, by):
                raise PermissionDenied(_("You cannot cancel this order."))
        _refuse(order_cancel_refusal(parcels, role))
        active = [parcel for parcel in parcels if parcel.status not in Parcel.CLOSED_STATUSES]
        _cancel_locked(active, order=parcels[0].order, role=role, reason=reason, by=by)
    return active


def cancel_line(*, line, reason: str, by, role: str = Role.PRODUCER):
    """The producer (or the operator) cannot supply this line: it is cancelled, its
    reservation released, its amount taken off the parcel and settled. The last line of a
    parcel cancels the parcel (its delivery charge too). Returns the CancelledLine, or the
    cancelled Parcel."""
    reason = _reason(reason)
    if role not in (Role.PRODUCER, Role.OPERATOR):
        raise PermissionDenied(_("You cannot cancel this line."))
    with transaction.atomic():
        line = Line.objects.select_related("order").get(pk=getattr(line, "pk", line))
        parcel = Parcel.objects.filter(order_id=line.order_id, partner_id=line.partner_id).first()
        if parcel is None:
            raise CancellationError(_("This order line is not part of a parcel."))
        (parcel,) = _locked([parcel])
        if not may_act(parcel, role, by):
            raise PermissionDenied(_("You cannot cancel this line."))
        _refuse(cancel_refusal(parcel, role))
        active = _active_lines(parcel)
        if line.pk not in {other.pk for other in active}:
            raise CancellationError(_("This line is already cancelled."))
        if len(active) == 1:
            _cancel_locked([parcel], order=parcel.order, role=role, reason=reason, by=by)
            return parcel
        _refuse(refunds.cancellation_refusal(parcel.order, whole=False))
        amount = line.line_price_incl_tax
        cancelled = CancelledLine.objects.create(
            line=line,
            parcel=parcel,
            quantity=line.quantity,
            amount=amount,
            reason=reason,
            role=role,
            cancelled_by=by,
        )
        stock.release_lines([line])
        parcel.goods_total -= amount
        fields = ["goods_total"]
        if parcel.cod_amount > 0:
            parcel.cod_amount -= amount
            fields.append("cod_amount")
        parcel.save(update_fields=fields)
        refunds.settle_cancellation(
            order=parcel.order, amount=amount, reason=reason, by=by, parcel=parcel
        )
        notifications.line_cancelled(line, parcel)
    return cancelled
