"""Links from storefront pages to trace pages, for templates (marketplace never imports
traceability): `{% lot_on_sale product producer as lot %}` (traceability.on_sale) and
`{{ lot|trace_url }}`, the lot's public trace page in the current language."""

from django import template
from django.urls import reverse

from ..on_sale import lot_on_sale as _lot_on_sale

register = template.Library()


@register.simple_tag
def lot_on_sale(product, producer=None):
    return _lot_on_sale(product, producer=producer)


@register.filter
def trace_url(lot) -> str:
    if not lot:
        return ""
    return reverse("traceability:short", kwargs={"short_code": lot.short_code})
