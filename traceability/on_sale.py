"""Which lot a product page points buyers to: the lot on sale.

A product is sold from its producer's newest lot that may be sold (the one rule:
traceability.safety.sale_refusal: not recalled, not past its expiry date, no pre-harvest
breach waiting for review); the product page links to that lot's trace page ("Truy
xuất"). A product with no such lot has no trace link. Two queries (the newest lots that
are not recalled nor expired, then their events).
"""

from django.db.models import Q
from django.utils import timezone

from . import safety
from .models import Lot

CANDIDATES = 5


def lot_on_sale(product, *, producer=None, today=None):
    """The lot `product` is sold from now (of `producer` when given), or None."""
    if product is None or product.pk is None:
        return None
    today = today or timezone.localdate()
    lots = Lot.objects.filter(product_id=product.pk, recall__isnull=True).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today)
    )
    if producer is not None:
        lots = lots.filter(producer_id=producer.pk)
    newest = lots.select_related("recall").order_by("-created_at", "-pk")[:CANDIDATES]
    sellable = safety.sellable(newest, on=today)
    return sellable[0] if sellable else None
