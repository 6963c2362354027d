"""`{% order_progress order as progress %}`: what the buyer needs to know about an order
after placing it: the payment state, each parcel (producer, status, tracking number) and,
while a bank transfer is awaited, the VietQR code. Two queries (sources, parcels)."""

from django import template

from marketplace.models import Parcel
from marketplace.payments.state import payment_state

register = template.Library()


@register.simple_tag
def order_progress(order):
    from marketplace.payments.checkout import vietqr_for

    state = payment_state(order)
    parcels = list(Parcel.objects.filter(order=order).select_related("partner").order_by("pk"))
    return {
        "payment": state,
        "parcels": parcels,
        "vietqr": vietqr_for(order) if state.code == "awaiting_transfer" else None,
    }
