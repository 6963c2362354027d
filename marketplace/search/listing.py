"""Product listings on the database: search without diacritics, facets with counts, sorting.

Every listing page (catalogue, category, search, province, producer) reads SearchEntry
through `run_listing`, which costs a constant number of queries whatever the page size
or catalogue size: one statement (listing_statement) for every facet count, the number
of results and the page's positions, one for the page's rows (and, on PostgreSQL, the
check whether any entry holds every word, before a typo search).

Facets are disjunctive: values of one facet combine with OR, facets combine with AND, and
each facet's counts apply every *other* facet's selection, so a buyer sees how many
products each choice would give. The words are matched once: the matching entries are a
materialised set every count reads. What the statement read is kept a minute under the
catalogue's version, forgotten at any change (catalogue_changed).
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection, transaction
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
    exact = exact_filter(query, qs)
    if exact is not qs and _typos_tolerated() and not exact.exists():
        return typo_filter(query, qs)
    return exact


def exact_filter(query: str, qs):
    """The entries of `qs` whose folded text holds every word of `query` (`qs` itself
    when the query has no words)."""
    words = terms(query)
    if not words:
        return qs
    all_words, _title_words = _word_filters(words)
    return qs.filter(all_words)


def typo_filter(query: str, qs):
    """What a search finds when no entry holds every word (PostgreSQL: pg_trgm)."""
    return qs.filter(text_folded__trigram_word_similar=fold(query))


def _typos_tolerated() -> bool:
    return connection.vendor == "postgresql"


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
    a producer); `params` is request.GET.

    The matching entries are found once (one statement: listing_statement), and every
    facet count, the number of results and the page's positions are read from that one
    set; the page's rows come in a second query by primary key. A search thus matches
    its words against the catalogue once, not once per facet. When no entry holds every
    word (the statement says so), a typo search (PostgreSQL) runs the statement again."""
    selection = Selection.from_query(params)
    scoped = SearchEntry.objects.all()
    if scope is not None:
        scoped = scoped.filter(scope)
    base = exact_filter(selection.q, scoped)
    per_page = per_page or settings.OSCAR_PRODUCTS_PER_PAGE
    distinct = bool(scope is not None and "categories" in str(scope))
    raw_page = params.get("page")
    number = _page_guess(raw_page)
    options = {"hide": hide, "per_page": per_page, "distinct": distinct}
    rows = _run_statement(base, selection, number=number, **options)
    if base is not scoped and not rows["matched"] and _typos_tolerated():
        base = typo_filter(selection.q, scoped)
        rows = _run_statement(base, selection, number=number, **options)
    total = rows["totals"][0]
    probe = Paginator(_Counted(total, []), per_page)
    try:
        wanted = probe.validate_number(raw_page if raw_page is not None else 1)
    except PageNotAnInteger:
        wanted = 1
    except EmptyPage:
        wanted = probe.num_pages
    if wanted != number:  # a page past the last one (or below 1): the last page, as Django
        number = wanted
        rows = _run_statement(base, selection, number=number, **options)
    by_pk = SearchEntry.objects.select_related("product", "producer", "producer__partner").in_bulk(
        rows["page"]
    )
    entries = [by_pk[pk] for pk in rows["page"] if pk in by_pk]
    paginator = Paginator(_Counted(total, entries, offset=(number - 1) * per_page), per_page)
    page = paginator.page(number)
    return Listing(selection, page, paginator, _facets(rows, selection, hide=hide), entries)


def _page_guess(raw) -> int:
    number = parse_int(raw) if raw is not None else 1
    return number if number is not None and number >= 1 else 1


class _Counted:
    """What the Paginator pages over: the result count and the one page already read."""

    def __init__(self, count: int, rows: list, offset: int = 0):
        self._count, self._rows, self._offset = count, rows, offset

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, item):
        if isinstance(item, slice) and (item.start or 0) == self._offset:
            return self._rows
        raise IndexError("only the page read by run_listing is here")


# Columns of the matching set `m` the statement reads (SearchEntry fields, in order).
_COLUMNS = ("pk", "province_code", "producer_id", "category_pk", "more_category_pks",
            "has_ocop", "has_vietgap", "has_globalgap", "has_organic", "ocop_stars", "price",
            "in_stock", "date_created")  # fmt: skip


def _in(column: str, values, params: list) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _json_ids(column: str) -> str:
    """A table of the ids in a JSON list column, one row each (its `value`)."""
    if connection.vendor == "postgresql":
        return f"jsonb_array_elements_text({column})"
    return f"json_each({column})"


def _facet_sql(selection: Selection, name: str, params: list, t: str) -> str | None:
    """SQL over the entries `t` for one facet's selected values (OR-ed), as
    Selection.facet_q."""
    if name == "category" and selection.category:
        first = _in(f"{t}.category_pk", selection.category, params)
        more = _in("CAST(j.value AS INTEGER)", selection.category, params)
        return (
            f"({first} OR ({t}.more_category_pks IS NOT NULL AND EXISTS (SELECT 1 FROM "
            f"{_json_ids(f'{t}.more_category_pks')} j WHERE {more})))"
        )
    if name == "province" and selection.province:
        return _in(f"{t}.province_code", selection.province, params)
    if name == "producer" and selection.producer:
        return _in(f"{t}.producer_id", selection.producer, params)
    if name == "cert" and selection.cert:
        fields = {key: f for key, _label, f in CERTIFICATES}
        return "(" + " OR ".join(f"{t}.{fields[c]}" for c in selection.cert) + ")"
    if name == "stars" and selection.stars:
        return _in(f"{t}.ocop_stars", selection.stars, params)
    if name == "price" and selection.price:
        return "(" + " OR ".join(_price_sql(key, params, t) for key in selection.price) + ")"
    if name == "in_stock" and selection.in_stock:
        return f"{t}.in_stock"
    return None


def _price_sql(key: str, params: list, t: str) -> str:
    for range_key, _label, low, high in PRICE_RANGES:
        if range_key == key:
            parts = []
            if low is not None:
                parts.append(f"{t}.price >= %s")
                params.append(int(low))
            if high is not None:
                parts.append(f"{t}.price < %s")
                params.append(int(high))
            return "(" + " AND ".join(parts) + ")"
    return "1=1"


def _order_sql(selection: Selection, t: str) -> str:
    if selection.sort == "price-asc":
        return f"{t}.price ASC NULLS LAST, {t}.date_created DESC, {t}.pk ASC"
    if selection.sort == "price-desc":
        return f"{t}.price DESC NULLS LAST, {t}.date_created DESC, {t}.pk ASC"
    if selection.sort == "newest" or not selection.q:
        return f"{t}.date_created DESC, {t}.pk ASC"
    return f"{t}.rank DESC, {t}.date_created DESC, {t}.pk ASC"


def listing_statement(base, selection: Selection, *, hide=(), per_page: int, number: int,
                      distinct: bool = False) -> tuple[str, list]:  # fmt: skip
    """One SQL statement for a listing: the entries of `base` (the words searched for and
    the page's scope) as the matching set `m`, read once, then from `m`: every boolean
    and range facet count, the number of results and the size of `m` itself (one row,
    "totals"), the province, category and producer counts (one row per value), and the
    primary keys of page `number` in order ("page" rows). Each facet's counts apply every
    other facet's selection (facets are disjunctive), exactly as Selection.others_q.

    What the counts test is worked out once per entry, as `m` is read: whether it passes
    each facet's selection (`f_<facet>`) and each price range (`in_price_<n>`); every
    count then combines these flags. The category counts read the entries' own category
    columns (no join with the catalogue's links), each count is grouped before its names
    are joined, and the relevance is computed only for the entries the page is chosen
    from (_ranked_sql)."""
    from oscar.core.loading import get_model

    relevance = bool(selection.q) and selection.sort == "relevance"
    extra = ("title_folded",) if relevance else ()
    body = base.values(*_COLUMNS, *extra).order_by()
    if distinct:
        body = body.distinct()
    body_sql, body_params = body.query.sql_with_params()
    # Each condition's parameters are appended as its SQL is written, in statement order
    # (the flags of `m` are written before the body they read).
    params: list = []
    flags, selected = [], []
    for name in FACETS:
        if (sql := _facet_sql(selection, name, params, "b")) is not None:
            flags.append(f"{sql} AS f_{name}")
            selected.append(name)
    for n, (key, *_rest) in enumerate(PRICE_RANGES):
        flags.append(f"{_price_sql(key, params, 'b')} AS in_price_{n}")
    matching = f"SELECT b.*, {', '.join(flags)} FROM ({body_sql}) b"
    params += body_params

    def others(name: str) -> str:
        """Whether an entry of `m` passes every facet's selection but `name`'s."""
        return " AND ".join(f"m.f_{other}" for other in selected if other != name) or "1=1"

    counts = [others("")]  # the number of results
    counts += [f"{others('cert')} AND m.{flag}" for _key, _label, flag in CERTIFICATES]
    counts += [f"{others('stars')} AND m.ocop_stars = {int(stars)}" for stars in STARS]
    counts += [f"{others('price')} AND m.in_price_{n}" for n in range(len(PRICE_RANGES))]
    counts.append(f"{others('in_stock')} AND m.in_stock")
    width = len(counts) + 1
    pad = ", NULL" * (width - 1)
    branches = [
        "SELECT 'totals' AS kind, NULL AS key, NULL AS label, "
        + ", ".join(f"COUNT(CASE WHEN {cond} THEN 1 END)" for cond in counts)
        + ", COUNT(*) FROM m"
    ]
    if "category" not in hide:
        category = get_model("catalogue", "Category")._meta.db_table
        cond = others("category")
        branches.append(
            f"SELECT 'category', g.category_id, c.name, g.n{pad} FROM ("
            "SELECT x.category_id, CAST(SUM(x.n) AS BIGINT) AS n FROM ("
            f"SELECT m.category_pk AS category_id, COUNT(CASE WHEN {cond} THEN 1 END) AS n "
            "FROM m WHERE m.category_pk IS NOT NULL GROUP BY m.category_pk "
            f"UNION ALL SELECT CAST(j.value AS INTEGER), COUNT(CASE WHEN {cond} THEN 1 END) "
            f"FROM m, {_json_ids('m.more_category_pks')} j "
            "WHERE m.more_category_pks IS NOT NULL GROUP BY CAST(j.value AS INTEGER)"
            f') x GROUP BY x.category_id) g JOIN "{category}" c ON c.id = g.category_id'
        )
    if "province" not in hide:
        branches.append(
            f"SELECT 'province', m.province_code, NULL, "
            f"COUNT(CASE WHEN {others('province')} THEN 1 END){pad} "
            "FROM m WHERE m.province_code IS NOT NULL GROUP BY m.province_code"
        )
    if "producer" not in hide:
        from marketplace.models import ProducerProfile

        Partner = get_model("partner", "Partner")
        branches.append(
            f"SELECT 'producer', g.producer_id, pa.name, g.n{pad} FROM ("
            f"SELECT m.producer_id, COUNT(CASE WHEN {others('producer')} THEN 1 END) AS n "
            "FROM m WHERE m.producer_id IS NOT NULL GROUP BY m.producer_id) g "
            f'JOIN "{ProducerProfile._meta.db_table}" pp ON pp.id = g.producer_id '
            f'JOIN "{Partner._meta.db_table}" pa ON pa.id = pp.partner_id'
        )
    if relevance:
        ranked = _ranked_sql(selection, others(""), number * per_page, params)
    else:
        ranked = f"SELECT m.pk, m.price, m.date_created FROM m WHERE {others('')}"
    # The page's rows first (a bounded sort), then their positions.
    rank = ", r.rank" if relevance else ""
    branches.append(
        f"SELECT 'page', p.pk, NULL, ROW_NUMBER() OVER (ORDER BY {_order_sql(selection, 'p')})"
        f"{pad} FROM (SELECT r.pk, r.price, r.date_created{rank} FROM ({ranked}) r "
        f"ORDER BY {_order_sql(selection, 'r')} LIMIT %s OFFSET %s) p"
    )
    params += [per_page, (number - 1) * per_page]
    sql = f"WITH m AS MATERIALIZED ({matching}) " + " UNION ALL ".join(branches)
    return sql, params


def _ranked_sql(selection: Selection, where: str, needed: int, params: list) -> str:
    """The entries of `m` passing `where`, with their `rank`: rank_expression written over
    `m`, the same value wherever it decides the first `needed` positions.

    The trigram similarity is the costly part, and an entry whose title lacks a word
    (no title bonus) can only come after every entry whose title has them all: when
    those fill the first `needed` positions, only they are ranked. A title holding the
    folded query itself, word for word, has a word similarity of exactly 1 (the query's
    every trigram in one extent, nothing else): it is not computed for those."""
    words = terms(selection.q)
    if not words:
        return f"SELECT m.pk, m.price, m.date_created, 0.0 AS rank FROM m WHERE {where}"
    like = connection.operators["contains"]
    matches, like_params = [], []
    for word in words:
        matches.append(f"m.title_folded {like}")
        like_params.append(f"%{connection.ops.prep_for_like_query(word)}%")
    bonus = f"CASE WHEN ({' AND '.join(matches)}) THEN 2.0 ELSE 0.0 END"
    titled = (
        f"SELECT m.pk, m.price, m.date_created, m.title_folded, {bonus} AS bonus "
        f"FROM m WHERE {where}"
    )
    if connection.vendor != "postgresql":
        params += like_params
        return f"SELECT t.pk, t.price, t.date_created, t.bonus AS rank FROM ({titled}) t"
    query = fold(selection.q)
    phrase = f"% {connection.ops.prep_for_like_query(query)} %"
    params += [phrase, query, *like_params, *like_params, needed]
    return (
        "SELECT t.pk, t.price, t.date_created, t.bonus + CASE "
        f"WHEN t.bonus > 0 AND (' ' || t.title_folded || ' ') {like} THEN CAST(1 AS REAL) "
        f"ELSE WORD_SIMILARITY(%s, t.title_folded) END AS rank FROM ({titled}) t "
        f"WHERE t.bonus > 0 OR (SELECT COUNT(*) FROM m WHERE ({where}) AND "
        f"{' AND '.join(matches)}) < %s"
    )


# What listing_statement read is kept for a short time under the catalogue's version: a
# search repeated (by the next buyer, or the same one paging back) reads no entry again.
# Exact where the cache is shared by the workers (REDIS_URL); with the in-process cache of
# development, another process's change is seen within KEEP_ROWS seconds.
_VERSION_KEY = "listing:version"
KEEP_ROWS = 60


def catalogue_version() -> str:
    """The version the kept listings are filed under: a new one after every change to what
    a listing reads (catalogue_changed)."""
    version = cache.get(_VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        if not cache.add(_VERSION_KEY, version, None):
            version = cache.get(_VERSION_KEY) or version
    return version


def catalogue_changed(**kwargs) -> None:
    """Forget every kept listing: at once, and again when the change commits (a listing read
    in between, before the change was visible, is filed under a version no one reads).
    Called by indexing.index_products for every change of SearchEntry and by
    marketplace.search.receivers for the names a listing shows (categories, producers)."""
    cache.delete(_VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(_VERSION_KEY))


def _run_statement(base, selection, **kwargs) -> dict:
    sql, params = listing_statement(base, selection, **kwargs)
    digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
    key = f"listing:{catalogue_version()}:{connection.alias}:{digest}"
    if (rows := cache.get(key)) is not None:
        return rows
    rows = {"totals": None, "category": [], "province": [], "producer": [], "page": []}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    page = []
    for kind, key_, label, n, *rest in fetched:
        if kind == "totals":
            *rows["totals"], rows["matched"] = [n, *rest]
        elif kind == "page":
            page.append((n, key_))
        else:
            rows[kind].append((key_, label, n))
    rows["page"] = [pk for _position, pk in sorted(page)]
    cache.set(key, rows, KEEP_ROWS)
    return rows


def _facets(rows, selection: Selection, *, hide=()) -> list[Facet]:
    """The facets of a listing from the counts listing_statement read."""
    names = ["total", *(f for _k, _l, f in CERTIFICATES), *STARS,
             *(k for k, *_r in PRICE_RANGES), "in_stock"]  # fmt: skip
    totals = dict(zip(names, rows["totals"], strict=True))
    facets: list[Facet] = []
    if "category" not in hide:
        values = [
            FacetValue(str(pk), name, n, pk in selection.category)
            for pk, name, n in rows["category"]
        ]
        facets.append(Facet("category", _("Category"), sorted(values, key=lambda v: v.label)))
    if "province" not in hide:
        values = [
            FacetValue(str(code), geo.province_name(code), n, code in selection.province)
            for code, _label, n in rows["province"]
        ]
        facets.append(Facet("province", _("Province"), sorted(values, key=lambda v: fold(v.label))))
    facets.append(
        Facet(
            "cert",
            _("Certificate"),
            [
                FacetValue(k, str(label), totals[flag], k in selection.cert)
                for k, label, flag in CERTIFICATES
            ],  # fmt: skip
        )
    )
    facets.append(
        Facet(
            "stars",
            _("OCOP stars"),
            [FacetValue(str(s), f"{s}★", totals[s], s in selection.stars) for s in STARS],
        )
    )
    if "producer" not in hide:
        values = [
            FacetValue(str(pk), name, n, pk in selection.producer)
            for pk, name, n in rows["producer"]
        ]
        facets.append(Facet("producer", _("Producer"), sorted(values, key=lambda v: v.label)))
    facets.append(
        Facet(
            "price",
            _("Price"),
            [
                FacetValue(k, str(label), totals[k], k in selection.price)
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
    "catalogue_changed",
    "catalogue_version",
    "Selection",
    "category_scope",
    "listing_statement",
    "listing_counts_by",
    "run_listing",
    "search_queryset",
]
