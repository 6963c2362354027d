"""Keep SearchEntry rows in step with the catalogue.

`index_products(ids)` rebuilds the rows of the given products in a constant number of
queries (whatever the number of ids): a product a buyer may see gets a row with its
folded text and facet values; any other loses its row. Signals (marketplace.search.receivers)
call it on every save that changes what a buyer sees; bulk jobs call it directly.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.html import strip_tags
from oscar.core.loading import get_model

from marketplace.core.text import fold
from marketplace.models import Certificate, ProductListing, SearchEntry
from marketplace.search.listing import catalogue_changed

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

THUMBNAIL_GEOMETRY = "300x300"
BATCH = 500


def is_visible(product) -> bool:
    """What buyers may see: public, and approved if it went through listing review."""
    if not product.is_public or product.structure == Product.PARENT:
        return False
    listing = getattr(product, "listing", None)
    return listing is None or listing.status == ProductListing.Status.APPROVED


def thumbnail_url(image) -> str:
    if image is None or not image.original:
        return ""
    try:
        from sorl.thumbnail import get_thumbnail

        return get_thumbnail(
            image.original, THUMBNAIL_GEOMETRY, crop="center", quality=80, upscale=False
        ).url
    except Exception:  # a broken image file must not break indexing
        logger.warning("thumbnail failed for %s", image.original.name, exc_info=True)
        return ""


def _products(ids):
    return (
        Product.objects.filter(pk__in=ids)
        .select_related("listing")
        .prefetch_related(
            Prefetch(
                "stockrecords",
                queryset=StockRecord.objects.select_related(
                    "partner", "partner__producer_profile"
                ).order_by("pk"),
            ),
            Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")),
            "categories",
        )
    )


def _active_badges(products) -> dict[int, list[Certificate]]:
    """Active certificates covering each product, in two queries for the whole batch."""
    producer_ids = set()
    for product in products:
        for record in product.stockrecords.all():
            profile = getattr(record.partner, "producer_profile", None)
            if profile is not None:
                producer_ids.add(profile.pk)
    today = timezone.localdate()
    certificates = (
        Certificate.objects.badges(on=today)
        .filter(producer_id__in=producer_ids)
        .prefetch_related("products")
        .order_by("kind", "-ocop_stars", "pk")
    )
    by_producer = defaultdict(list)
    for certificate in certificates:
        by_producer[certificate.producer_id].append(certificate)
    result = {}
    for product in products:
        found = []
        for record in product.stockrecords.all():
            profile = getattr(record.partner, "producer_profile", None)
            for certificate in by_producer.get(profile.pk if profile else None, []):
                if certificate.shows_badge(on=today, product=product):
                    found.append(certificate)
        result[product.pk] = found
    return result


def build_entry(product, certificates) -> SearchEntry:
    records = list(product.stockrecords.all())
    record = records[0] if records else None
    profile = getattr(record.partner, "producer_profile", None) if record else None
    images = list(product.images.all())
    category_objects = sorted(product.categories.all(), key=lambda c: c.pk)
    categories = [c.name for c in product.categories.all()]
    text_parts = [product.title, strip_tags(product.description or ""), product.upc or ""]
    text_parts += categories
    if record is not None:
        text_parts.append(record.partner.name)
    if profile is not None:
        text_parts += [profile.province_name, profile.commune_name]
    ocop = [c.ocop_stars for c in certificates if c.kind == Certificate.Kind.OCOP]
    kinds = {c.kind for c in certificates}
    return SearchEntry(
        product=product,
        title_folded=fold(product.title)[:255],
        text_folded=fold(" ".join(text_parts)),
        producer=profile,
        province_code=profile.province_code if profile else None,
        category_pk=category_objects[0].pk if category_objects else None,
        more_category_pks=[c.pk for c in category_objects[1:]] or None,
        price=record.price if record else None,
        in_stock=bool(record and (record.net_stock_level or 0) > 0),
        ocop_stars=max(ocop) if ocop else None,
        has_ocop=Certificate.Kind.OCOP in kinds,
        has_vietgap=Certificate.Kind.VIETGAP in kinds,
        has_globalgap=Certificate.Kind.GLOBALGAP in kinds,
        has_organic=Certificate.Kind.ORGANIC in kinds,
        badges=[{"id": c.pk, "kind": c.kind, "label": c.badge_label} for c in certificates],
        thumbnail_url=thumbnail_url(images[0] if images else None),
        date_created=product.date_created or timezone.now(),
    )


def index_products(ids: Iterable[int]) -> int:
    """Rebuild the search rows of these products; return how many are visible. The
    listings kept (listing.catalogue_changed) are forgotten."""
    ids = sorted({int(i) for i in ids if i is not None})
    visible = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        # Which are visible, read lightly first: products waiting for approval (a
        # spreadsheet's new ones, say) are not loaded with everything an entry needs.
        shown = [
            p.pk
            for p in Product.objects.filter(pk__in=chunk)
            .select_related("listing")
            .only("pk", "is_public", "structure", "listing__status")
            if is_visible(p)
        ]
        products = list(_products(shown)) if shown else []
        badges = _active_badges(products)
        entries = [build_entry(p, badges[p.pk]) for p in products if is_visible(p)]
        with transaction.atomic():
            SearchEntry.objects.filter(product_id__in=chunk).delete()
            SearchEntry.objects.bulk_create(entries)
        visible += len(entries)
    if ids:
        catalogue_changed()
    return visible


def index_producer(producer_id: int) -> int:
    ids = StockRecord.objects.filter(partner__producer_profile=producer_id).values_list(
        "product_id", flat=True
    )
    return index_products(list(ids))


def reindex_all() -> int:
    return index_products(Product.objects.values_list("pk", flat=True))
