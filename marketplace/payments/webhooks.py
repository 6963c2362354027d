"""Stripe's webhook: the only way a card payment is marked paid, and how refunds made in
Stripe come back to the order.

Each delivery is checked (signature with the webhook secret, timestamp at most 5 minutes
old, a well-formed event): anything else gets 400 and changes nothing. A genuine event is
recorded once by its id (``StripeEvent``): a duplicate gets 200 and nothing else happens.
Recording and acting happen in one transaction, so an event is never recorded without
its effect. Events may arrive in any order and more than once:

- ``payment_intent.succeeded``: the order whose card source has this PaymentIntent as its
  reference is paid — once: the source row is locked and an order already paid is left
  alone. The amount received must equal what the order still owes in VND (`due_of`: a
  converted pre-order's deposit paid part of it), and the order number in
  the metadata (when there is one) must be the order's, else nothing is paid and the event
  is logged for the operator.
- ``payment_intent.payment_failed``: recorded; the buyer's card page shows it (unless the
  order is paid — a late failure after a success changes nothing) and offers to retry.
- ``charge.refunded``: Stripe's ``amount_refunded`` is cumulative, so only the difference
  with what the order has recorded is recorded (the refund page records its own refunds
  first, and the same event twice, or an older one after a newer, adds nothing). Refund
  rows named in the event are marked with Stripe's status.
- ``refund.updated`` / ``charge.refund.updated``: the Refund row gets Stripe's status.
- anything else (``payment_intent.created`` …): recorded, no effect.

A PaymentIntent we do not know is recorded and logged, and answered 200 (Stripe would
otherwise retry it for days).
"""

import datetime
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.finance.settlements import charge_refund
from marketplace.models import Refund, StripeEvent
from marketplace.payments import stripe_gateway
from marketplace.payments.state import CARD, PaymentError, due_of, record_payment, record_refund

logger = logging.getLogger("marketplace.payments.stripe")

Source = get_model("payment", "Source")

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CHARGE_REFUNDED = "charge.refunded"
REFUND_UPDATED = ("refund.updated", "charge.refund.updated")


# --- Reading an event defensively: a signed event is still checked field by field ---------


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _whole(value) -> int | None:
    """A non-negative whole number from JSON, else None (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _created(event) -> datetime.datetime:
    seconds = _whole(event.get("created"))
    if seconds is None:
        return timezone.now()
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return timezone.now()


def payment_intent_of(event) -> str:
    obj = event["data"]["object"]
    if event["type"].startswith("payment_intent."):
        return _str(obj.get("id"))
    return _str(obj.get("payment_intent"))


# --- Handling ------------------------------------------------------------------------------


def handle_event(event: dict) -> str:
    """Record `event` once and act on it; returns what happened (for logs and tests):
    "duplicate", "ignored", "paid", "already_paid", "refused", "unknown", "refunded",
    "recorded"."""
    pi_id = payment_intent_of(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event["id"][:255],
                    type=event["type"][:100],
                    payment_intent=pi_id[:255],
                    created=_created(event),
                    payload=event,
                )
        except IntegrityError:
            logger.info("Stripe event %s received again: ignored", event["id"])
            return "duplicate"
        handler = HANDLERS.get(event["type"])
        if handler is None:
            return "ignored"
        return handler(event["data"]["object"], pi_id)


def _locked_source(pi_id: str):
    """The card source whose reference is this PaymentIntent, locked (None if unknown)."""
    if not pi_id:
        return None
    return (
        Source.objects.select_for_update(of=("self",))
        .select_related("order", "source_type")
        .filter(source_type__code=CARD, reference=pi_id)
        .first()
    )


def _payment_succeeded(intent: dict, pi_id: str) -> str:
    source = _locked_source(pi_id)
    if source is None:
        logger.warning("Stripe: payment for unknown PaymentIntent %s ignored", pi_id)
        return "unknown"
    order = source.order
    metadata = intent.get("metadata") if isinstance(intent.get("metadata"), dict) else {}
    number = _str(metadata.get("order_number"))
    if number and number != order.number:
        logger.error(
            "Stripe: PaymentIntent %s names order %s but belongs to order %s: not paid",
            pi_id,
            number,
            order.number,
        )
        return "refused"
    if source.amount_debited >= source.amount_allocated:
        logger.info("Stripe: order %s already paid (%s)", order.number, pi_id)
        return "already_paid"
    received = _whole(intent.get("amount_received"))
    currency = _str(intent.get("currency")).lower()
    due = due_of(source)  # a converted pre-order's deposit already paid part of it
    if currency != stripe_gateway.CURRENCY or received is None or Decimal(received) != due:
        logger.error(
            "Stripe: PaymentIntent %s received %r %s for order %s owing %s VND: not marked paid",
            pi_id,
            intent.get("amount_received"),
            currency,
            order.number,
            due,
        )
        return "refused"
    try:
        record_payment(order, method=CARD, amount=received, reference=pi_id)
    except PaymentError as exc:
        logger.error("Stripe: payment of order %s not recorded: %s", order.number, exc)
        return "refused"
    logger.info("Stripe: order %s paid by card (%s)", order.number, pi_id)
    # A refund that arrived before the payment is applied now.
    _sync_refunds(order, pi_id)
    return "paid"


def _payment_failed(intent: dict, pi_id: str) -> str:
    source = _locked_source(pi_id)
    if source is None:
        logger.warning("Stripe: failure of unknown PaymentIntent %s", pi_id)
        return "unknown"
    if source.amount_debited >= source.amount_allocated:
        logger.info("Stripe: late failure for paid order %s ignored", source.order.number)
        return "already_paid"
    return "recorded"  # the card page reads it from the recorded events


def stripe_refunded_total(pi_id: str) -> int:
    """The highest cumulative amount Stripe has said is refunded for this PaymentIntent
    (over every charge.refunded event recorded, in whatever order they came)."""
    best = 0
    payloads = StripeEvent.objects.filter(type=CHARGE_REFUNDED, payment_intent=pi_id).values_list(
        "payload", flat=True
    )
    for payload in payloads:
        try:
            amount = _whole(payload["data"]["object"].get("amount_refunded"))
        except (KeyError, TypeError, AttributeError):
            amount = None
        if amount is not None:
            best = max(best, amount)
    return best


def _sync_refunds(order, pi_id: str) -> str:
    """Record what Stripe has refunded beyond what the order has recorded. Runs with the
    source locked (by the caller's transaction)."""
    source = Source.objects.select_for_update().filter(order=order).first()
    stripe_total = Decimal(stripe_refunded_total(pi_id))
    missing = stripe_total - source.amount_refunded
    if missing <= 0:
        return "recorded"
    if missing > source.amount_debited - source.amount_refunded:
        # The payment itself has not arrived yet: applied when it does.
        logger.warning(
            "Stripe: refund of %s on order %s waits for its payment", missing, order.number
        )
        return "recorded"
    try:
        record_refund(order, amount=missing, reference=pi_id)
    except PaymentError as exc:
        logger.error("Stripe: refund on order %s not recorded: %s", order.number, exc)
        return "refused"
    logger.info("Stripe: %s refunded on order %s", missing, order.number)
    return "refunded"


def _mark_refund(refund: dict) -> None:
    refund_id = _str(refund.get("id"))
    status = _str(refund.get("status"))
    if not refund_id:
        return
    if status == "succeeded":
        new = Refund.Status.SUCCEEDED
    elif status in ("failed", "canceled"):
        new = Refund.Status.FAILED
    else:
        return
    changed = list(Refund.objects.filter(stripe_refund_id=refund_id).exclude(status=new))
    Refund.objects.filter(pk__in=[row.pk for row in changed]).update(status=new)
    for row in changed:
        row.status = new
        charge_refund(refund=row)  # goods of a delivered parcel: the producer's sale too


def _charge_refunded(charge: dict, pi_id: str) -> str:
    source = _locked_source(pi_id)
    if source is None:
        logger.warning("Stripe: refund for unknown PaymentIntent %s ignored", pi_id)
        return "unknown"
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, dict) else None
    for refund in data if isinstance(data, list) else []:
        if isinstance(refund, dict):
            _mark_refund(refund)
    return _sync_refunds(source.order, pi_id)


def _refund_updated(refund: dict, pi_id: str) -> str:
    _mark_refund(refund)
    return "recorded"


HANDLERS = {
    SUCCEEDED: _payment_succeeded,
    FAILED: _payment_failed,
    CHARGE_REFUNDED: _charge_refunded,
    **dict.fromkeys(REFUND_UPDATED, _refund_updated),
}


# --- The view ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_gateway.verify_webhook(request.body, request.headers.get("Stripe-Signature"))
    except stripe_gateway.InvalidWebhook as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return HttpResponseBadRequest("invalid webhook", content_type="text/plain")
    outcome = handle_event(event)
    return HttpResponse(outcome, content_type="text/plain")
