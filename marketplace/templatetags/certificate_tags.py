"""`{% product_badges product %}`: the badges of a product's active certificates."""

from django import template

from ..certificates import active_for_product

register = template.Library()


@register.inclusion_tag("marketplace/partials/badges.html")
def product_badges(product):
    """One query: the active certificates covering the product, shaped like the
    SearchEntry.badges list ({"id", "kind", "label"}) so one partial renders both."""
    badges = [
        {"id": c.pk, "kind": c.kind, "label": c.badge_label} for c in active_for_product(product)
    ]
    return {"badges": badges}
