"""The only module that talks to Stripe (the ``stripe`` library, 16.x).

Everything here takes and returns plain values (dicts of what Stripe answered), so the
checkout, the webhook and the refund page never see a Stripe object, and the tests fake
Stripe at the HTTP layer (``stripe.default_http_client``) while this code and the real
library build the requests and parse the answers.

Amounts: VND is a zero-decimal currency for Stripe, so 150000 means 150.000 ₫ — never
multiplied by 100. Keys come from the environment (settings); without all three the card
option is hidden (``card_ready``).
"""

import json
import logging
from decimal import Decimal

import stripe
from django.conf import settings

logger = logging.getLogger("marketplace.payments.stripe")

CURRENCY = "vnd"
# A buyer waits on "Place order": answer within seconds, even when Stripe is slow.
TIMEOUT_SECONDS = 20
WEBHOOK_TOLERANCE_SECONDS = 300


class GatewayError(Exception):
    """Stripe refused or could not be reached. ``message`` is Stripe's own text (English,
    for logs and for the operator), ``code`` its error code when there is one."""

    def __init__(self, message: str, *, code: str = "", reachable: bool = True):
        super().__init__(message)
        self.message = message
        self.code = code
        self.reachable = reachable


class InvalidWebhook(Exception):
    """A webhook delivery that is not a genuine, fresh, well-formed Stripe event."""


def card_ready() -> bool:
    """Card payments are offered only with the secret key, the publishable key and the
    webhook secret all configured."""
    return bool(
        settings.STRIPE_SECRET_KEY
        and settings.STRIPE_PUBLISHABLE_KEY
        and settings.STRIPE_WEBHOOK_SECRET
    )


def publishable_key() -> str:
    return settings.STRIPE_PUBLISHABLE_KEY


def _ensure_http_client() -> None:
    # The library's default client waits 80 s per attempt; ours gives up sooner. A client
    # set before (the tests' fake) is kept.
    if stripe.default_http_client is None:
        stripe.default_http_client = stripe.RequestsClient(timeout=TIMEOUT_SECONDS)


def _options(**extra) -> dict:
    _ensure_http_client()
    return {"api_key": settings.STRIPE_SECRET_KEY, **extra}


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _failure(exc: stripe.StripeError) -> GatewayError:
    reachable = not isinstance(exc, stripe.APIConnectionError)
    return GatewayError(
        exc.user_message or str(exc) or exc.__class__.__name__,
        code=getattr(exc, "code", "") or "",
        reachable=reachable,
    )


def vnd_amount(amount) -> int:
    """Whole đồng as Stripe wants them (zero-decimal); refuses fractions of a đồng."""
    value = Decimal(amount)
    if value != value.to_integral_value() or value <= 0:
        raise ValueError(f"not a positive whole number of đồng: {amount}")
    return int(value)


def create_payment_intent(*, order_number: str, amount) -> dict:
    """A PaymentIntent for an order about to be placed (idempotent per order number).

    If the same order number was used before with another amount (a placement that failed
    after the PaymentIntent was created, then the basket changed), Stripe refuses to reuse
    the key with other parameters; one more attempt is made with the amount in the key."""
    whole = vnd_amount(amount)
    params = {
        "amount": whole,
        "currency": CURRENCY,
        "metadata": {"order_number": order_number},
        "automatic_payment_methods": {"enabled": True},
    }
    try:
        try:
            intent = stripe.PaymentIntent.create(
                **params, **_options(idempotency_key=f"nongsan-order-{order_number}")
            )
        except stripe.IdempotencyError:
            logger.warning("Order %s: PaymentIntent key reused with another amount", order_number)
            intent = stripe.PaymentIntent.create(
                **params,
                **_options(idempotency_key=f"nongsan-order-{order_number}-{whole}"),
            )
    except stripe.StripeError as exc:
        logger.error("Order %s: Stripe refused the PaymentIntent: %s", order_number, exc)
        raise _failure(exc) from exc
    return _plain(intent)


def retrieve_payment_intent(payment_intent_id: str) -> dict:
    try:
        return _plain(stripe.PaymentIntent.retrieve(payment_intent_id, **_options()))
    except stripe.StripeError as exc:
        logger.warning("Stripe: cannot read PaymentIntent %s: %s", payment_intent_id, exc)
        raise _failure(exc) from exc


# The states in which a PaymentIntent's amount may be changed: the buyer has not yet
# paid, nor started paying (no 3-D Secure under way).
AMENDABLE = ("requires_payment_method", "requires_confirmation")


def set_payment_intent_amount(payment_intent_id: str, amount) -> dict:
    """Bring a PaymentIntent nobody has paid yet to `amount` đồng (what its order still
    owes); Stripe refuses once it is paid or processing."""
    whole = vnd_amount(amount)
    try:
        intent = stripe.PaymentIntent.modify(
            payment_intent_id,
            amount=whole,
            **_options(idempotency_key=f"nongsan-amount-{payment_intent_id}-{whole}"),
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused to change PaymentIntent %s: %s", payment_intent_id, exc)
        raise _failure(exc) from exc
    return _plain(intent)


def cancel_payment_intent(payment_intent_id: str) -> dict:
    """Stop a PaymentIntent nobody has paid yet (its order was cancelled): the card page can
    no longer take the money. Stripe refuses (code ``payment_intent_unexpected_state``)
    once the buyer has paid or the payment is processing; cancelling twice is harmless."""
    try:
        intent = stripe.PaymentIntent.cancel(
            payment_intent_id,
            cancellation_reason="abandoned",
            **_options(idempotency_key=f"nongsan-cancel-{payment_intent_id}"),
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused to cancel PaymentIntent %s: %s", payment_intent_id, exc)
        raise _failure(exc) from exc
    return _plain(intent)


def create_refund(*, payment_intent_id: str, amount, refund_pk: int) -> dict:
    """Refund `amount` đồng of a PaymentIntent; idempotent per Refund row."""
    try:
        refund = stripe.Refund.create(
            payment_intent=payment_intent_id,
            amount=vnd_amount(amount),
            **_options(idempotency_key=f"nongsan-refund-{refund_pk}"),
        )
    except stripe.StripeError as exc:
        logger.error("Stripe refused refund #%s of %s: %s", refund_pk, payment_intent_id, exc)
        raise _failure(exc) from exc
    return _plain(refund)


def verify_webhook(payload: bytes, signature: str | None) -> dict:
    """The event of a webhook delivery, as a dict, once its signature (with the webhook
    secret) and its timestamp (at most 5 minutes old) are checked. Anything else raises
    InvalidWebhook: a missing or wrong signature, a stale timestamp, a body that is not
    UTF-8 JSON describing an event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidWebhook("no webhook secret configured")
    try:
        stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - whatever a signed but malformed body raises
        # Not UTF-8, not JSON, not an object, or not a v1 event.
        raise InvalidWebhook(f"malformed payload: {exc!r}") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not event["id"]
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise InvalidWebhook("not a Stripe event")
    return event
