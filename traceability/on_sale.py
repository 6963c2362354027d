"""Which lot a product page points buyers to: the lot on sale.

A product is sold from its producer's newest lot that is not recalled and not past its
expiry date; the product page links to that lot's trace page ("Truy xuất"). A product with
no such lot has no trace link. One query.
"""

from django.db.models import Q
from django.utils import timezone

from .models import Lot


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
    return (
        lots.only("pk", "code", "short_code", "production_date")
        .order_by("-created_at", "-pk")
        .first()
    )
