"""The product page's wholesale prices: `{% wholesale_for product as wholesale %}` gives
`breaks` ([(from quantity, unit price)]) to an approved business buyer (from the request's
strategy, no query once the buyer's breaks are loaded), else `offered` (whether the
product has wholesale prices at all: one query), to invite businesses to register."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def wholesale_for(context, product):
    request = context.get("request")
    strategy = getattr(request, "strategy", None)
    if strategy is not None and hasattr(strategy, "price_breaks") and strategy.wholesale:
        return {"breaks": strategy.price_breaks(product), "offered": False}
    return {"breaks": [], "offered": product.price_breaks.exists()}
