"""`{% basket_parcels basket formset as parcels %}`: the basket page's lines grouped by
producer, as they will ship (one parcel per producer, marketplace.fulfilment.shipping):
each group has the producer, its parcel (weight, estimated delivery charge while the
address is unknown: the farthest zone) and the formset's forms of its lines."""

from django import template

from marketplace.fulfilment import shipping

register = template.Library()


@register.simple_tag
def basket_parcels(basket, formset):
    quote = shipping.basket_quote(basket, None)
    forms = {form.instance.pk: form for form in formset}
    groups = []
    for parcel in quote.parcels:
        groups.append(
            {
                "parcel": parcel,
                "priced": quote.available,
                "forms": [forms[line.pk] for line in parcel.lines if line.pk in forms],
            }
        )
    # Lines without a stock record (no producer): their own group, without a parcel.
    grouped = {line.pk for parcel in quote.parcels for line in parcel.lines}
    rest = [form for pk, form in forms.items() if pk not in grouped]
    if rest:
        groups.append({"parcel": None, "priced": False, "forms": rest})
    return {"groups": groups, "free": quote.free, "count": len(quote.parcels)}
