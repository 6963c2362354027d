"""A fake Stripe at the HTTP layer, shared by the card payment tests (and its own tests).

``FakeStripe`` is a ``stripe.HTTPClient`` installed as ``stripe.default_http_client``: the
real stripe library builds every request (form-encoded body, ``Idempotency-Key`` header,
API key) and parses the JSON answers, exactly as with Stripe; nothing leaves the machine.
It keeps PaymentIntents and refunds in memory, replays an idempotency key used again with
the same parameters and refuses it with others (as Stripe does), refuses a refund above
what was received, and can be made unreachable (``down``) or failing (``fail_with``).

Webhooks are signed with the library's own ``WebhookSignature.generate_signature_header``.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from oscar.core.loading import get_model

SECRET_KEY = "sk_test_nongsan_fake"
PUBLISHABLE_KEY = "pk_test_nongsan_fake"
WEBHOOK_SECRET = "whsec_nongsan_test"

Order = get_model("order", "Order")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


@dataclass
class Sent:
    method: str
    path: str
    headers: dict
    params: dict = field(default_factory=dict)


def _nest(pairs) -> dict:
    """`metadata[order_number]=1` → {"metadata": {"order_number": "1"}}."""
    out: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.sent: list[Sent] = []
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.replays: dict[str, tuple[dict, str, int]] = {}
        self.down = False
        self.fail_with: tuple[int, dict] | None = None
        self.refund_status = "succeeded"
        self.delay = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- what the library calls ------------------------------------------------------------

    def request(self, method, url, headers, post_data=None, **kwargs):
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params = _nest(parse_qsl(body or parts.query, keep_blank_values=True))
        sent = Sent(method.upper(), parts.path, dict(headers or {}), params)
        with self._lock:
            self.sent.append(sent)
        if self.delay:
            time.sleep(self.delay)
        if self.down:
            raise stripe.APIConnectionError(
                "Could not connect to Stripe (fake: network down)", should_retry=False
            )
        if self.fail_with is not None:
            status, error = self.fail_with
            return json.dumps({"error": error}), status, {"Request-Id": "req_fake"}
        with self._lock:
            key = sent.headers.get("Idempotency-Key")
            if sent.method == "POST" and key in self.replays:
                previous, text, status = self.replays[key]
                if previous != params:
                    return self._error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    )
                return text, status, {"Request-Id": "req_fake", "Idempotent-Replayed": "true"}
            text, status = self._route(sent)
            if sent.method == "POST" and key:
                self.replays[key] = (params, text, status)
            return text, status, {"Request-Id": "req_fake"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass

    # --- Stripe, as far as these tests need it ---------------------------------------------

    def _error(self, status, kind, message, code=""):
        body = {"error": {"type": kind, "message": message, "code": code}}
        return json.dumps(body), status, {"Request-Id": "req_fake"}

    def _route(self, sent):
        path = sent.path
        if sent.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return self._error(401, "invalid_request_error", "Invalid API Key provided")[:2]
        if sent.method == "POST" and path == "/v1/payment_intents":
            return self._create_intent(sent.params), 200
        if sent.method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(path.rsplit("/", 1)[1])
            if intent is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")[:2]
            return json.dumps(intent), 200
        if (
            sent.method == "POST"
            and path.startswith("/v1/payment_intents/")
            and path.count("/") == 3
        ):
            # Changing a PaymentIntent (its amount) until it is paid or processing.
            intent = self.intents.get(path.rsplit("/", 1)[1])
            if intent is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")[:2]
            if intent["status"] in ("succeeded", "processing", "canceled"):
                return self._error(
                    400,
                    "invalid_request_error",
                    "This PaymentIntent's amount could not be updated because it has a status "
                    f"of {intent['status']}.",
                    "payment_intent_unexpected_state",
                )[:2]
            if "amount" in sent.params:
                intent["amount"] = int(sent.params["amount"])
            return json.dumps(intent), 200
        if sent.method == "POST" and path.endswith("/cancel"):
            intent = self.intents.get(path.split("/")[-2])
            if intent is None:
                return self._error(404, "invalid_request_error", "No such payment_intent")[:2]
            if intent["status"] in ("succeeded", "processing"):
                return self._error(
                    400,
                    "invalid_request_error",
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}.",
                    "payment_intent_unexpected_state",
                )[:2]
            intent.update(status="canceled", cancellation_reason="abandoned")
            return json.dumps(intent), 200
        if sent.method == "POST" and path == "/v1/refunds":
            return self._create_refund(sent.params)
        return self._error(404, "invalid_request_error", f"Unrecognized request URL {path}")[:2]

    def _create_intent(self, params):
        number = next(self._ids)
        pi_id = f"pi_fake{number:04d}"
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{pi_id}_secret_fake{number}",
            "metadata": params.get("metadata", {}),
            "automatic_payment_methods": {"enabled": True},
            "last_payment_error": None,
            "livemode": False,
            "created": int(time.time()),
        }
        self.intents[pi_id] = intent
        return json.dumps(intent)

    def _create_refund(self, params):
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return self._error(400, "invalid_request_error", "No such payment_intent")[:2]
        amount = int(params.get("amount", intent["amount_received"]))
        already = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == intent["id"] and r["status"] != "failed"
        )
        if amount > intent["amount_received"] - already:
            return self._error(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge.",
                "amount_too_large",
            )[:2]
        number = next(self._ids)
        refund = {
            "id": f"re_fake{number:04d}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": f"ch_{intent['id']}",
            "status": self.refund_status,
        }
        self.refunds[refund["id"]] = refund
        return json.dumps(refund), 200

    # --- helpers for the tests --------------------------------------------------------------

    def calls(self, method, path):
        return [s for s in self.sent if s.method == method and s.path == path]

    def pay(self, pi_id) -> dict:
        """The buyer paid: the PaymentIntent as Stripe then has it."""
        intent = self.intents[pi_id]
        intent.update(status="succeeded", amount_received=intent["amount"])
        return dict(intent)

    def charge(self, pi_id) -> dict:
        """The charge of a paid PaymentIntent, with its refunds so far (cumulative)."""
        intent = self.intents[pi_id]
        refunds = [r for r in self.refunds.values() if r["payment_intent"] == pi_id]
        return {
            "id": f"ch_{pi_id}",
            "object": "charge",
            "payment_intent": pi_id,
            "amount": intent["amount"],
            "amount_captured": intent["amount_received"],
            "amount_refunded": sum(r["amount"] for r in refunds if r["status"] != "failed"),
            "currency": intent["currency"],
            "refunded": False,
            "refunds": {"object": "list", "data": refunds},
        }


# --- Fixtures and helpers used by the test_stripe_* modules -----------------------------------


@pytest.fixture
def fake_stripe():
    previous = stripe.default_http_client
    fake = FakeStripe()
    stripe.default_http_client = fake
    yield fake
    stripe.default_http_client = previous


@pytest.fixture
def stripe_keys(settings, fake_stripe):
    """Card payments configured (keys from the settings), Stripe faked."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return fake_stripe


_event_ids = itertools.count(1)
_order_numbers = itertools.count(1)


def event(kind: str, obj: dict, *, event_id=None, created=None) -> dict:
    return {
        "id": event_id or f"evt_fake{next(_event_ids):05d}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": created if created is not None else int(time.time()),
        "type": kind,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def signed(payload: str, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def deliver(client, evt, *, secret=WEBHOOK_SECRET, timestamp=None, signature=None):
    """POST `evt` (a dict, or the raw body) to the webhook, signed like Stripe."""
    payload = evt if isinstance(evt, str | bytes) else json.dumps(evt)
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    headers = {}
    header = signature if signature is not None else signed(text, secret, timestamp)
    if header:
        headers["HTTP_STRIPE_SIGNATURE"] = header
    return client.post("/stripe/webhook/", data=payload, content_type="application/json", **headers)


def card_order(fake: FakeStripe, total=140000, user=None, number=None) -> "Order":
    """An order paid by card awaiting payment (a PaymentIntent at the fake Stripe), written
    directly: for the webhook and refund tests, which do not need the checkout pages."""
    from marketplace.payments import stripe_gateway

    order = Order.objects.create(
        number=number or str(200000 + next(_order_numbers)),
        total_incl_tax=Decimal(total),
        total_excl_tax=Decimal(total),
        shipping_incl_tax=Decimal(0),
        shipping_excl_tax=Decimal(0),
        currency="VND",
        user=user,
        guest_email="" if user else "khach@example.com",
    )
    intent = stripe_gateway.create_payment_intent(order_number=order.number, amount=total)
    source_type, _ = SourceType.objects.get_or_create(code="stripe", defaults={"name": "Card"})
    Source.objects.create(
        order=order,
        source_type=source_type,
        currency="VND",
        amount_allocated=Decimal(total),
        reference=intent["id"],
    )
    return order


def source_of(order):
    return Source.objects.get(order=order)


# --- The fake itself behaves like Stripe where the tests rely on it -----------------------------


def test_the_real_library_talks_to_the_fake_with_key_amount_and_idempotency_key(
    settings, stripe_keys
):
    from marketplace.payments import stripe_gateway

    intent = stripe_gateway.create_payment_intent(order_number="100042", amount=Decimal(150000))
    assert intent["id"].startswith("pi_") and intent["client_secret"]
    (sent,) = stripe_keys.calls("POST", "/v1/payment_intents")
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["Idempotency-Key"] == "nongsan-order-100042"
    # VND is zero-decimal: 150.000 ₫ is sent as 150000, never 15000000.
    assert sent.params["amount"] == "150000"
    assert sent.params["currency"] == "vnd"
    assert sent.params["metadata"] == {"order_number": "100042"}
    assert sent.params["automatic_payment_methods"] == {"enabled": "true"}

    again = stripe_gateway.create_payment_intent(order_number="100042", amount=150000)
    assert again["id"] == intent["id"]  # replayed, not a second PaymentIntent
    assert len(stripe_keys.intents) == 1


def test_a_reused_order_number_with_another_amount_gets_its_own_payment_intent(stripe_keys):
    # Placement failed after the PaymentIntent was created, the buyer changed the basket.
    from marketplace.payments import stripe_gateway

    first = stripe_gateway.create_payment_intent(order_number="100043", amount=150000)
    second = stripe_gateway.create_payment_intent(order_number="100043", amount=120000)
    assert first["id"] != second["id"]
    assert stripe_keys.intents[second["id"]]["amount"] == 120000
    keys = [s.headers["Idempotency-Key"] for s in stripe_keys.calls("POST", "/v1/payment_intents")]
    assert keys == ["nongsan-order-100043", "nongsan-order-100043", "nongsan-order-100043-120000"]


def test_fractions_of_a_dong_are_never_sent(stripe_keys):
    from marketplace.payments import stripe_gateway

    for bad in (Decimal("150000.50"), 0, -5):
        with pytest.raises(ValueError):
            stripe_gateway.create_payment_intent(order_number="100044", amount=bad)
    assert stripe_keys.sent == []
