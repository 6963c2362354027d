"""Orders in every payment method, placed through the real order creator, for the
cancellation, return, refund and ledger tests (shared by the property-based test).

``place(buyer, {"NS0005": 1}, "cod" | "vietqr" | "stripe")`` places an order like the
checkout does (locked stock, parcels, payment source; a card order gets a PaymentIntent at
the fake Stripe); ``pay(order, operator)`` pays a VietQR order (marked received) or a card
order (as Stripe's webhook records it).
"""

from decimal import Decimal

from django.utils.translation import override
from oscar.core.loading import get_model

from marketplace.demo import orders as demo_orders
from marketplace.finance import transfers
from marketplace.finance.checks import run_checks
from marketplace.payments import stripe_gateway
from marketplace.payments.state import CARD, VIETQR, record_payment

Source = get_model("payment", "Source")


def place(buyer, items: dict, method: str):
    with override("vi"):
        order = demo_orders.place(buyer, items, method, "test order")
    if method == CARD:
        intent = stripe_gateway.create_payment_intent(
            order_number=order.number, amount=order.total_incl_tax
        )
        Source.objects.filter(order=order).update(reference=intent["id"])
    return order


def pay(order, operator, fake_stripe=None) -> None:
    source = Source.objects.select_related("source_type").get(order=order)
    owed = source.amount_allocated - source.amount_debited
    if source.source_type.code == VIETQR:
        transfers.mark_received(order, operator, owed, note="FT-test")
    elif source.source_type.code == CARD:
        if fake_stripe is not None:
            fake_stripe.pay(source.reference)
        record_payment(order, method=CARD, amount=owed, reference=source.reference)


def source_of(order):
    return Source.objects.select_related("source_type").get(order=order)


def assert_reconciles():
    problems = run_checks()
    assert problems == [], problems


def money(value) -> Decimal:
    return Decimal(value)
