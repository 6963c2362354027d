"""Reads that span relations, each with a query budget in the tests."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404

from marketplace.core import geo
from marketplace.core.text import fold
from marketplace.models import Certificate, ProducerPhoto, ProducerProfile, SearchEntry
from marketplace.search.listing import listing_counts_by


def province_slug(code: int) -> str:
    from vietnam_provinces import Province

    for province in Province.iter_all():
        if province.code.value == code:
            return province.codename.replace("_", "-")
    return ""


def province_by_slug(slug: str) -> int | None:
    from vietnam_provinces import Province

    for province in Province.iter_all():
        if province.codename.replace("_", "-") == slug:
            return province.code.value
    return None


def provinces_with_products() -> list[dict]:
    """Provinces that have products a buyer can see, with counts: one query."""
    counts = listing_counts_by("province_code")
    rows = [
        {"code": code, "name": geo.province_name(code), "slug": province_slug(code), "count": n}
        for code, n in counts.items()
        if code is not None
    ]
    return sorted(rows, key=lambda row: fold(row["name"]))


def producers_in_province(code: int):
    return (
        ProducerProfile.objects.filter(province_code=code)
        .select_related("partner")
        .annotate(products=Count("partner__stockrecords__product__search_entry", distinct=True))
        .filter(products__gt=0)
        .order_by("partner__name")
    )


def producer_for_page(slug: str) -> ProducerProfile:
    """A producer's shop page: profile, photos and certificates buyers may see (3 queries)."""
    return get_object_or_404(
        ProducerProfile.objects.select_related("partner").prefetch_related(
            Prefetch("photos", queryset=ProducerPhoto.objects.order_by("display_order", "pk")),
            Prefetch(
                "certificates",
                queryset=Certificate.objects.filter(
                    status__in=[
                        Certificate.Status.VERIFIED,
                        Certificate.Status.EXPIRED,
                        Certificate.Status.PENDING,
                    ]  # fmt: skip
                ).order_by("status", "-valid_until"),
                to_attr="public_certificates",
            ),
        ),
        slug=slug,
    )


def latest_entries(limit: int = 8):
    return SearchEntry.objects.select_related("product", "producer", "producer__partner").order_by(
        "-date_created", "pk"
    )[:limit]
