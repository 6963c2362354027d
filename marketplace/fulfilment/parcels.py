"""Parcels: one per producer of an order, shipped by Vietnam Post.

They are written in the same transaction as the order (``create_parcels``, called by the
order creator), from the same quote that priced the delivery, so the buyer pays for exactly
the parcels the producers will pack. What the post office collects on delivery is set once
the payment method is saved (``set_cash_on_delivery``), or with the parcels when the order
creator is told the order is paid on delivery.
"""

import math

from django.db.models import F

from marketplace.fulfilment import shipping
from marketplace.models import Parcel


def create_parcels(order, basket, shipping_address, *, cash_on_delivery=False) -> list[Parcel]:
    """The order's parcels, one per producer of the basket's delivery quote; with
    `cash_on_delivery`, each collecting its goods and delivery (as ``set_cash_on_delivery``)."""
    quote = shipping.basket_quote(basket, shipping.province_of(shipping_address))
    parcels = [
        Parcel(
            order=order,
            partner_id=part.partner_id,
            weight_grams=math.ceil(part.weight_kg * 1000),
            goods_total=part.goods,
            shipping_charge=0 if (quote.free or not quote.available) else part.charge,
        )
        for part in quote.parcels
    ]
    if cash_on_delivery:
        set_cash_on_delivery(order, parcels)
    return Parcel.objects.bulk_create(parcels)


def set_cash_on_delivery(order, parcels=None) -> None:
    """The post office collects goods and delivery for each parcel of a COD order: the
    `parcels` given, not yet written (``create_parcels``), or else the order's."""
    if parcels is not None:
        for parcel in parcels:
            parcel.cod_amount = parcel.goods_total + parcel.shipping_charge
        return
    Parcel.objects.filter(order=order).update(cod_amount=F("goods_total") + F("shipping_charge"))
