"""Which lot a product page points buyers to: the lot on sale.

A product is sold from its producer's newest lot that may be sold (the one rule:
traceability.safety.sale_refusal: not recalled, not past its expiry date, no pre-harvest
breach waiting for review); the product page links to that lot's trace page ("Truy
xuất"). A product sold from lots on sale (marketplace.catalogue.batches) links the lot its
next order takes from: its lots on sale with something left come first, expiring first
first; then a harvested or packed lot before one only planted (its crop still in the
field). A product with no such lot has no trace link. Two queries (the candidate lots
that are not recalled nor expired, then their events).
"""

from django.db.models import Case, Exists, F, OuterRef, Q, When
from django.utils import timezone

from marketplace.models import SaleBatch

from . import safety
from .models import FarmEvent, Lot
from .sale import ON_SALE_KINDS

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
    left_on_sale = SaleBatch.objects.filter(
        source_id=OuterRef("pk"), withdrawn_at__isnull=True, taken__lt=F("quantity")
    )
    # A lot harvested or packed before one only planted (its crop still in the field).
    harvested = FarmEvent.objects.filter(lot=OuterRef("pk"), kind__in=ON_SALE_KINDS)
    newest = (
        lots.select_related("recall")
        .annotate(on_sale=Exists(left_on_sale), harvested=Exists(harvested))
        .order_by(
            F("on_sale").desc(),
            Case(When(on_sale=True, then=F("expiry_date"))).asc(nulls_last=True),
            F("harvested").desc(),
            "-created_at",
            "-pk",
        )[:CANDIDATES]
    )
    sellable = safety.sellable(newest, on=today)
    return sellable[0] if sellable else None
