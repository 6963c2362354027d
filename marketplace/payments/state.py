"""What has been paid for an order, recorded once and read the same way everywhere.

Every order has one payment source (Oscar's ``payment.Source``): cash on delivery,
VietQR transfer or card. Money that arrives is a *debit* on that source (Oscar's
Transaction) plus a ``PaymentEvent`` "paid" on the order; a card refund is a *refund*
on it plus a ``PaymentEvent`` "refunded". ``record_payment`` and ``record_refund`` lock the
source row first, so two webhooks, a webhook and a member of staff, or two imports of the
same statement cannot pay an order twice; they refuse what would pay more than the order
total or refund more than was paid. They lock the source row only (``of=("self",)``): a
lock on the joined order or source type would block every transaction that writes a row
pointing at them, and deadlock with a cancellation that holds a parcel.

What an order costs goes down when part of it is cancelled or returned (``reduce_due``:
the source's ``amount_allocated`` is what is still due for the parcels that go on);
money already paid beyond that is refunded (marketplace.payments.refunds). So for an order
paid on delivery, ``amount_allocated`` is the sum of the COD amounts of its parcels that
are neither cancelled nor returned, and the order is paid once those are collected.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.payments.labels import CARD, COD, PAID_EVENT, REFUND_EVENT, VIETQR

Source = get_model("payment", "Source")
PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventType = get_model("order", "PaymentEventType")


STATES = {
    "on_delivery": _("Pay on delivery"),
    "awaiting_transfer": _("Awaiting bank transfer"),
    "awaiting_card": _("Awaiting card payment"),
    "partly_paid": _("Partly paid"),
    "paid": _("Paid"),
    "partly_refunded": _("Partly refunded"),
    "refunded": _("Refunded"),
    "nothing_due": _("Nothing to pay"),
    "none": _("No payment recorded"),
}


class PaymentError(Exception):
    """A payment or refund that must not be recorded; the message is for staff."""


@dataclass
class PaymentState:
    code: str
    method: str
    allocated: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def label(self):
        return STATES[self.code]

    @property
    def outstanding(self) -> Decimal:
        """What the buyer still has to pay (``due_of``)."""
        return max(self.allocated - self.paid, Decimal(0))

    @property
    def net(self) -> Decimal:
        """What the marketplace holds: paid less refunded."""
        return self.paid - self.refunded

    @property
    def covered(self) -> bool:
        """What is still due is paid (net of refunds)."""
        return self.allocated > 0 and self.net >= self.allocated


def due_of(source) -> Decimal:
    """THE rule for what a buyer still has to pay on a payment source: what is due
    (``amount_allocated``, lowered when part of the order is cancelled) less what was paid
    (a converted pre-order's deposit counts as paid). The card page shows and charges it,
    the VietQR code carries it, Stripe's webhook expects exactly it."""
    if source is None:
        return Decimal(0)
    return max(source.amount_allocated - source.amount_debited, Decimal(0))


def source_of(order):
    """The order's payment source (from the prefetch cache when there is one)."""
    sources = list(order.sources.all())
    return sources[0] if sources else None


def payment_state(order) -> PaymentState:
    source = source_of(order)
    if source is None:
        return PaymentState("none", "", Decimal(0), Decimal(0), Decimal(0))
    method = source.source_type.code
    allocated, paid, refunded = (
        source.amount_allocated,
        source.amount_debited,
        source.amount_refunded,
    )
    if refunded > 0:
        code = "refunded" if refunded >= paid else "partly_refunded"
    elif paid >= allocated and paid > 0:
        code = "paid"
    elif allocated <= 0:
        code = "nothing_due"
    elif paid > 0:
        code = "partly_paid"
    else:
        code = {COD: "on_delivery", VIETQR: "awaiting_transfer", CARD: "awaiting_card"}.get(
            method, "none"
        )
    return PaymentState(code, method, allocated, paid, refunded)


PARCEL_STATES = {
    "cod_to_collect": _("To collect on delivery"),
    "cod_collected": _("Collected on delivery"),
    "paid_in_advance": _("Paid in advance"),
    "awaiting_payment": _("Not paid yet: the buyer has not paid in advance"),
    "partly_refunded": _("Partly refunded"),
    "refunded": _("Refunded"),
    "cancelled": _("Cancelled: nothing to pay"),
    "returned": _("Returned to the producer: nothing collected"),
}


@dataclass(frozen=True)
class ParcelPayment:
    """A parcel's payment state (``parcel.payment``): cash the post office collects on
    delivery (``cod``), or nothing because the order is paid in advance. ``cod``,
    ``to_collect`` and ``collected`` are read from the parcel's own fields (no query);
    ``code`` of a parcel paid in advance asks its order's payment (payment_state: one
    query unless the order's sources are prefetched), so a VietQR or card order not paid
    yet is never shown as "paid in advance"."""

    to_collect: Decimal  # what the post office collects from the buyer (0: paid in advance)
    collected: Decimal | None  # what it did collect, once recorded
    parcel: object = field(default=None, compare=False, repr=False)
    ended: str = ""  # "cancelled" or "returned": nothing to pay or collect any more

    @property
    def cod(self) -> bool:
        return self.to_collect > 0

    @cached_property
    def code(self) -> str:
        if self.ended:
            return self.ended
        if self.cod:
            return "cod_to_collect" if self.collected is None else "cod_collected"
        if getattr(self.parcel, "order_id", None) is None:  # a parcel not saved with an order
            return "paid_in_advance"
        state = payment_state(self.parcel.order).code
        if state in ("refunded", "partly_refunded"):
            return state
        return "paid_in_advance" if state == "paid" else "awaiting_payment"

    @property
    def paid_in_advance(self) -> bool:
        return self.code == "paid_in_advance"

    @property
    def label(self):
        return PARCEL_STATES[self.code]


def parcel_payment(parcel) -> ParcelPayment:
    """THE parcel payment rule: a parcel with an amount to collect is paid on delivery (to
    collect until the cash is recorded); any other is paid in advance with its order, once
    the order is paid (awaiting payment before, refunded after a refund). A cancelled or
    returned parcel has nothing to collect."""
    if parcel.status in ("cancelled", "returned"):
        return ParcelPayment(Decimal(0), None, parcel, ended=parcel.status)
    to_collect = parcel.cod_amount or Decimal(0)
    return ParcelPayment(to_collect, parcel.cod_collected, parcel)


def _event_type(code, name):
    event_type, _created = PaymentEventType.objects.get_or_create(
        code=code, defaults={"name": name}
    )
    return event_type


def record_payment(order, *, method: str, amount, reference: str = "") -> Source:
    """Money received for `order` by `method`. Refuses (PaymentError) a payment on an order
    of another method, a non-positive amount or one that would pay more than the total."""
    amount = Decimal(amount)
    if amount <= 0:
        raise PaymentError(_("The amount must be positive."))
    with transaction.atomic():
        source = (
            Source.objects.select_for_update(of=("self",))
            .select_related("source_type")
            .filter(order=order)
            .first()
        )
        if source is None or source.source_type.code != method:
            raise PaymentError(_("This order is not paid this way."))
        if source.amount_debited + amount > source.amount_allocated:
            raise PaymentError(_("This would pay more than the order total."))
        source.debit(amount, reference=reference)
        PaymentEvent.objects.create(
            order=order,
            amount=amount,
            reference=reference,
            event_type=_event_type(PAID_EVENT, "Paid"),
        )
        return source


def locked_source(order):
    """The order's payment source, locked (SELECT … FOR UPDATE), with its type; or None."""
    return (
        Source.objects.select_for_update(of=("self",))
        .select_related("source_type")
        .filter(order=order)
        .order_by("pk")
        .first()
    )


def reduce_due(order, *, amount) -> Source | None:
    """Part of the order (a line, a parcel) is cancelled or returned: `amount` less is due.
    Never below zero (PaymentError). Returns the locked source (None: no payment source)."""
    amount = Decimal(amount)
    if amount < 0:
        raise PaymentError(_("The amount must be positive."))
    with transaction.atomic():
        source = locked_source(order)
        if source is None or amount == 0:
            return source
        if amount > source.amount_allocated:
            raise PaymentError(_("This would make the order cost less than nothing."))
        source.amount_allocated -= amount
        source.save(update_fields=["amount_allocated"])
        return source


def record_refund(order, *, amount, reference: str = "") -> Source:
    """A refund of `amount` on the order's source; never more than was paid and not
    refunded yet."""
    amount = Decimal(amount)
    if amount <= 0:
        raise PaymentError(_("The amount must be positive."))
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(order=order).first()
        if source is None:
            raise PaymentError(_("This order has no payment to refund."))
        if amount > source.amount_debited - source.amount_refunded:
            raise PaymentError(_("A refund cannot be more than what was paid."))
        source.refund(amount, reference=reference)
        PaymentEvent.objects.create(
            order=order,
            amount=amount,
            reference=reference,
            event_type=_event_type(REFUND_EVENT, "Refunded"),
        )
        return source
