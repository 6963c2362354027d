"""Product listings on the database: search without diacritics, facets with counts, sorting.

Every listing page (catalogue, category, search, province, producer) reads SearchEntry
through `run_listing`, which costs a constant number of queries whatever the page size
or catalogue size: 4 facet queries, 1 count, 1 page of rows.

Facets are disjunctive: values of one facet combine with OR, facets combine with AND, and
each facet's counts apply every *other* facet's selection, so a buyer sees how many
products each choice would give. All counts of the boolean and range facets come from a
single aggregate query; province, producer and category counts from one GROUP BY each.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, Count, F, FloatField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from marketplace.core import geo
from marketplace.core.numbers import parse_int
from marketplace.core.text import fold, terms
from marketplace.models import SearchEntry

PRICE_RANGES = [
    ("duoi-100k", _("Under 100.000 ₫"), None, Decimal(100_000)),
    ("100k-300k", _("100.000 – 300.000 ₫"), Decimal(100_000), Decimal(300_000)),
    ("300k-1tr", _("300.000 – 1.000.000 ₫"), Decimal(300_000), Decimal(1_000_000)),
    ("tren-1tr", _("Over 1.000.000 ₫"), Decimal(1_000_000), None),
]
CERTIFICATES = [
    ("ocop", "OCOP", "has_ocop"),
    ("vietgap", "VietGAP", "has_vietgap"),
    ("globalgap", "GlobalGAP", "has_globalgap"),
    ("organic", _("Organic"), "has_organic"),
]
STARS = [3, 4, 5]
SORTS = {
    "relevance": _("Relevance"),
    "price-asc": _("Price: low to high"),
    "price-desc": _("Price: high to low"),
    "newest": _("Newest"),
}
FACETS = ("category", "province", "producer", "cert", "stars", "price", "in_stock")
MAX_QUERY_LENGTH = 200


def _ints(values, allowed=None) -> list[int]:
    out = []
    for value in values:
        number = parse_int(value)
        if number is None:
            continue
        if (allowed is None or number in allowed) and number not in out:
            out.append(number)
    return out


@dataclass
class Selection:
    """What the buyer asked for, cleaned: unknown values are dropped, never an error."""

    q: str = ""
    category: list[int] = field(default_factory=list)
    province: list[int] = field(default_factory=list)
    producer: list[int] = field(default_factory=list)
    cert: list[str] = field(default_factory=list)
    stars: list[int] = field(default_factory=list)
    price: list[str] = field(default_factory=list)
    in_stock: bool = False
    sort: str = "relevance"

    @classmethod
    def from_query(cls, params) -> "Selection":
        cert_keys = {key for key, _label, _field in CERTIFICATES}
        price_keys = {key for key, *_rest in PRICE_RANGES}
        sort = params.get("sort", "relevance")
        return cls(
            q=(params.get("q") or "").strip()[:MAX_QUERY_LENGTH],
            category=_ints(params.getlist("category")),
            province=[p for p in _ints(params.getlist("province")) if geo.is_valid_province(p)],
            producer=_ints(params.getlist("producer")),
            cert=[c for c in dict.fromkeys(params.getlist("cert")) if c in cert_keys],
            stars=_ints(params.getlist("stars"), allowed=set(STARS)),
            price=[p for p in dict.fromkeys(params.getlist("price")) if p in price_keys],
            in_stock=params.get("in_stock") in ("1", "on", "true"),
            sort=sort if sort in SORTS else "relevance",
        )

    def facet_q(self, name: str) -> Q:
        """The filter of one facet (all its selected values, OR-ed)."""
        if name == "category" and self.category:
            return Q(product__categories__in=self.category)
        if name == "province" and self.province:
            return Q(province_code__in=self.province)
        if name == "producer" and self.producer:
            return Q(producer_id__in=self.producer)
        if name == "cert" and self.cert:
            fields = {key: f for key, _label, f in CERTIFICATES}
            return _any(Q(**{fields[c]: True}) for c in self.cert)
        if name == "stars" and self.stars:
            return Q(ocop_stars__in=self.stars)
        if name == "price" and self.price:
            return _any(_price_q(key) for key in self.price)
        if name == "in_stock" and self.in_stock:
            return Q(in_stock=True)
        return Q()

    def others_q(self, name: str) -> Q:
        q = Q()
        for other in FACETS:
            if other != name:
                q &= self.facet_q(other)
        return q

    def all_q(self) -> Q:
        return self.others_q("")

    @property
    def is_filtered(self) -> bool:
        return any(self.facet_q(name) != Q() for name in FACETS)


def _any(qs) -> Q:
    result = Q()
    for q in qs:
        result |= q
    return result


def _price_q(key: str) -> Q:
    for range_key, _label, low, high in PRICE_RANGES:
        if range_key == key:
            q = Q()
            if low is not None:
                q &= Q(price__gte=low)
            if high is not None:
                q &= Q(price__lt=high)
            return q
    return Q()


def _word_filters(words):
    all_words, title_words = Q(), Q()
    for word in words:
        all_words &= Q(text_folded__contains=word)
        title_words &= Q(title_folded__contains=word)
    return all_words, title_words


def search_filter(query: str, base=None):
    """Entries matching every word of `query`, folded (no diacritics, any case).

    On PostgreSQL the substring matches are served by the trigram GIN index; when no
    entry contains every word, a trigram word-similarity match (`%>`, also indexed) is
    tried instead, so a typo still finds the product ("ca phee", "sau rienq").
    """
    qs = base if base is not None else SearchEntry.objects.all()
    words = terms(query)
    if not words:
        return qs
    all_words, _title_words = _word_filters(words)
    exact = qs.filter(all_words)
    if connection.vendor == "postgresql" and not exact.exists():
        return qs.filter(text_folded__trigram_word_similar=fold(query))
    return exact


def rank_expression(query: str):
    """Title matches first, then (PostgreSQL) closeness of the title to the query."""
    words = terms(query)
    if not words:
        return Value(0.0, output_field=FloatField())
    _all_words, title_words = _word_filters(words)
    bonus = Case(When(title_words, then=Value(2.0)), default=Value(0.0))
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramWordSimilarity

        return bonus + TrigramWordSimilarity(fold(query), "title_folded")
    return bonus


def search_queryset(query: str, base=None):
    """search_filter with a `rank` annotation (for callers that only search)."""
    return search_filter(query, base).annotate(rank=rank_expression(query))


@dataclass
class FacetValue:
    key: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]

    @property
    def has_values(self) -> bool:
        return any(v.count or v.selected for v in self.values)


@dataclass
class Listing:
    selection: Selection
    page: object
    paginator: Paginator
    facets: list[Facet]
    entries: list


def _counts(qs, group_field: str, others: Q, *extra_values) -> list[dict]:
    return list(
        qs.filter(**{f"{group_field}__isnull": False})
        .values(group_field, *extra_values)
        .annotate(n=Count("pk", filter=others, distinct=True))
        .order_by()
    )


def facets_for(base, selection: Selection, *, hide=()) -> list[Facet]:
    """Facet counts over `base` (the query and the page's fixed scope, no facet filters)."""
    facets: list[Facet] = []
    aggregates = {}
    cert_others = selection.others_q("cert")
    for key, _label, flag in CERTIFICATES:
        aggregates[f"cert_{key}"] = Count("pk", filter=cert_others & Q(**{flag: True}))
    star_others = selection.others_q("stars")
    for stars in STARS:
        aggregates[f"stars_{stars}"] = Count("pk", filter=star_others & Q(ocop_stars=stars))
    price_others = selection.others_q("price")
    for key, *_rest in PRICE_RANGES:
        aggregates[f"price_{key}"] = Count("pk", filter=price_others & _price_q(key))
    aggregates["in_stock"] = Count("pk", filter=selection.others_q("in_stock") & Q(in_stock=True))
    totals = base.aggregate(**aggregates)  # one query for all boolean and range facets

    if "category" not in hide:
        rows = _counts(base, "product__categories", selection.others_q("category"),
                       "product__categories__name")  # fmt: skip
        values = [
            FacetValue(
                str(r["product__categories"]),
                r["product__categories__name"],
                r["n"],
                r["product__categories"] in selection.category,
            )  # fmt: skip
            for r in rows
        ]
        facets.append(Facet("category", _("Category"), sorted(values, key=lambda v: v.label)))
    if "province" not in hide:
        rows = _counts(base, "province_code", selection.others_q("province"))
        values = [
            FacetValue(
                str(r["province_code"]),
                geo.province_name(r["province_code"]),
                r["n"],
                r["province_code"] in selection.province,
            )  # fmt: skip
            for r in rows
        ]
        facets.append(Facet("province", _("Province"), sorted(values, key=lambda v: fold(v.label))))
    facets.append(
        Facet(
            "cert",
            _("Certificate"),
            [
                FacetValue(k, str(label), totals[f"cert_{k}"], k in selection.cert)
                for k, label, _f in CERTIFICATES
            ],  # fmt: skip
        )
    )
    facets.append(
        Facet(
            "stars",
            _("OCOP stars"),
            [
                FacetValue(str(s), f"{s}★", totals[f"stars_{s}"], s in selection.stars)
                for s in STARS
            ],  # fmt: skip
        )
    )
    if "producer" not in hide:
        rows = _counts(base, "producer", selection.others_q("producer"), "producer__partner__name")
        values = [
            FacetValue(
                str(r["producer"]),
                r["producer__partner__name"],
                r["n"],
                r["producer"] in selection.producer,
            )  # fmt: skip
            for r in rows
        ]
        facets.append(Facet("producer", _("Producer"), sorted(values, key=lambda v: v.label)))
    facets.append(
        Facet(
            "price",
            _("Price"),
            [
                FacetValue(k, str(label), totals[f"price_{k}"], k in selection.price)
                for k, label, *_r in PRICE_RANGES
            ],  # fmt: skip
        )
    )
    facets.append(
        Facet(
            "in_stock",
            _("Availability"),
            [FacetValue("1", str(_("In stock")), totals["in_stock"], selection.in_stock)],
        )
    )
    return facets


def order_entries(qs, selection: Selection):
    if selection.q and selection.sort == "relevance":
        qs = qs.annotate(rank=rank_expression(selection.q))
    if selection.sort == "price-asc":
        return qs.order_by(F("price").asc(nulls_last=True), "-date_created", "pk")
    if selection.sort == "price-desc":
        return qs.order_by(F("price").desc(nulls_last=True), "-date_created", "pk")
    if selection.sort == "newest" or not selection.q:
        return qs.order_by("-date_created", "pk")
    return qs.order_by("-rank", "-date_created", "pk")


def run_listing(params, *, scope: Q | None = None, hide=(), per_page=None) -> Listing:
    """Run a listing page: `scope` fixes what the page is about (a category, a province,
    a producer); `params` is request.GET."""
    selection = Selection.from_query(params)
    base = SearchEntry.objects.all()
    if scope is not None:
        base = base.filter(scope)
    base = search_filter(selection.q, base)
    facets = facets_for(base, selection, hide=hide)
    filtered = base.filter(selection.all_q())
    if selection.category or "categories" in str(scope):
        filtered = filtered.distinct()  # a product in two matching categories counts once
    ordered = order_entries(filtered, selection).select_related(
        "product", "producer", "producer__partner"
    )
    paginator = Paginator(ordered, per_page or settings.OSCAR_PRODUCTS_PER_PAGE)
    page = paginator.get_page(params.get("page"))
    return Listing(selection, page, paginator, facets, list(page.object_list))


def category_scope(category) -> Q:
    ids = category.get_descendants_and_self().values_list("pk", flat=True)
    return Q(product__categories__in=list(ids))


def listing_counts_by(field_name: str) -> dict:
    return dict(
        SearchEntry.objects.values_list(field_name)
        .annotate(n=Count("pk"))
        .order_by()
        .values_list(field_name, "n")
    )


__all__ = [
    "CERTIFICATES",
    "PRICE_RANGES",
    "SORTS",
    "Listing",
    "Selection",
    "category_scope",
    "facets_for",
    "listing_counts_by",
    "run_listing",
    "search_queryset",
]
