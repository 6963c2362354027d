"""Reads that span relations, each with a query budget in the tests."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.certificates.services import EXPIRING_SOON_DAYS
from marketplace.core import geo
from marketplace.core.text import fold
from marketplace.models import (
    Certificate,
    Parcel,
    ProducerPhoto,
    ProducerProfile,
    ProductListing,
    SearchEntry,
)
from marketplace.search.listing import listing_counts_by

StockRecord = get_model("partner", "StockRecord")


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


def ocop_entries(limit: int = 4):
    """Products with an OCOP badge, most stars first (one query)."""
    return (
        SearchEntry.objects.filter(has_ocop=True)
        .select_related("product", "producer", "producer__partner")
        .order_by("-ocop_stars", "-date_created", "pk")[:limit]
    )


def badge_dicts(certificates) -> list[dict]:
    """Certificates as the badges partial shows them (as SearchEntry.badges keeps them)."""
    return [{"id": c.pk, "kind": c.kind, "label": c.badge_label} for c in certificates]


def featured_producers(limit: int = 4, *, today=None) -> list[ProducerProfile]:
    """Producers for the home page: those with the most products buyers can see, each with
    `product_count` and `badges` (its certificates that show a badge today:
    Certificate.objects.badges). Three queries."""
    today = today or timezone.localdate()
    counts = listing_counts_by("producer_id")
    top = sorted((pk for pk in counts if pk is not None), key=lambda pk: (-counts[pk], pk))
    producers = list(
        ProducerProfile.objects.filter(pk__in=top[: limit * 2])
        .select_related("partner")
        .prefetch_related(
            Prefetch(
                "certificates",
                queryset=Certificate.objects.badges(on=today).order_by("kind", "pk"),
                to_attr="badge_certificates",
            )
        )
    )
    # Those with a story and badges first, then the most products.
    producers.sort(
        key=lambda p: (not p.story, not p.badge_certificates, -counts[p.pk], p.partner.name)
    )
    producers = producers[:limit]
    for producer in producers:
        producer.product_count = counts[producer.pk]
        producer.badges = badge_dicts(producer.badge_certificates)
    return producers


# --- The seller's channel: what needs doing now ------------------------------------------

# A product is low on stock when what is left to sell (in stock − reserved) is at most its
# stock record's low-stock threshold, or this many when the farmer set none.
LOW_STOCK = 5


@dataclass(frozen=True)
class SellerTodo:
    to_pack: int
    certificates_expiring: int
    waiting_approval: int
    low_stock: int


def seller_todo(producer, *, today=None) -> SellerTodo:
    """What the farmer should do now, counted: orders to pack, verified certificates that
    expire within EXPIRING_SOON_DAYS, listings waiting for approval, products low on stock.
    Four queries."""
    today = today or timezone.localdate()
    left = Coalesce(F("num_in_stock"), 0) - Coalesce(F("num_allocated"), 0)
    return SellerTodo(
        to_pack=Parcel.objects.filter(
            partner_id=producer.partner_id, status=Parcel.Status.NEW
        ).count(),
        certificates_expiring=Certificate.objects.filter(
            producer=producer,
            status=Certificate.Status.VERIFIED,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=EXPIRING_SOON_DAYS),
        ).count(),
        waiting_approval=ProductListing.objects.filter(
            producer=producer, status=ProductListing.Status.PENDING
        ).count(),
        low_stock=StockRecord.objects.filter(partner_id=producer.partner_id)
        .annotate(left=left)
        .filter(left__lte=Coalesce(F("low_stock_threshold"), LOW_STOCK))
        .count(),
    )
