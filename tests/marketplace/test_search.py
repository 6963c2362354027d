"""Search without diacritics, ranking, facets: on SQLite and on PostgreSQL."""

import unicodedata
from decimal import Decimal
from itertools import product as cartesian

import pytest
from django.db import connection
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.core.text import fold
from marketplace.models import SearchEntry
from marketplace.search.listing import (
    CERTIFICATES,
    PRICE_RANGES,
    Selection,
    catalogue_version,
    order_entries,
    run_listing,
    search_filter,
    search_queryset,
)
from marketplace.search.views import card_links
from marketplace.shops.services import open_producer_shop

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")

TONED = {
    "a": "àáảãạ", "ă": "ằắẳẵặ", "â": "ầấẩẫậ", "e": "èéẻẽẹ", "ê": "ềếểễệ", "i": "ìíỉĩị",
    "o": "òóỏõọ", "ô": "ồốổỗộ", "ơ": "ờớởỡợ", "u": "ùúủũụ", "ư": "ừứửữự", "y": "ỳýỷỹỵ",
}  # fmt: skip
BASE = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}


@pytest.mark.parametrize(("vowel", "toned"), [(v, t) for v, ts in TONED.items() for t in ts])
def test_every_tone_mark_on_every_vowel_folds_to_the_plain_letter(vowel, toned):
    plain = BASE.get(vowel, vowel)
    assert fold(toned) == plain
    assert fold(toned.upper()) == plain
    assert fold(unicodedata.normalize("NFD", toned)) == plain  # decomposed input too
    assert fold(vowel) == plain


@pytest.mark.parametrize("text", ["Đ", "đ", "Đắk", "ĐẮK"])
def test_d_with_stroke_folds_to_d(text):
    assert fold(text)[0] == "d"


# (with diacritics, without): each pair must find the same, non-empty set of demo products.
EQUIVALENT_QUERIES = [
    ("Cà phê Buôn Ma Thuột", "ca phe buon ma thuot"),
    ("Cà phê", "CA PHE"),
    ("Đắk Lắk", "dak lak"),
    ("ĐẮK LẮK", "Dak Lak"),
    ("đương quy", "DUONG QUY"),
    ("Sầu riêng", "sau rieng"),
    ("Hồ tiêu Chư Sê", "ho tieu chu se"),
    ("Sâm Ngọc Linh", "sam ngoc linh"),
    ("Quế Trà Bồng", "que tra bong"),
    ("Hồng không hạt", "hong khong hat"),
    ("Chè Tân Cương", "che tan cuong"),
    ("Gạo lứt", "gao lut"),
    ("Hành tím Vĩnh Châu", "hanh tim vinh chau"),
    ("Dâu tây Đà Lạt", "dau tay da lat"),
    ("Nhãn lồng Hưng Yên", "nhan long hung yen"),
    ("Mận hậu Mộc Châu", "man hau moc chau"),
    ("Mật ong hoa nhãn", "mat ong hoa nhan"),
    ("Miến dong", "mien dong"),
    ("Hạt mắc ca", "hat mac ca"),
    ("Tiêu sọ trắng", "tieu so trang"),
    ("Shan tuyết", "shan tuyet"),
    ("Thái Nguyên", "thai nguyen"),
    ("Quảng Ngãi", "quang ngai"),
    ("Lâm Đồng", "lam dong"),
    ("Bơ", "bo"),
]


def _found(query):
    return set(search_queryset(query).values_list("product_id", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(("accented", "plain"), EQUIVALENT_QUERIES)
def test_queries_with_and_without_diacritics_find_the_same_products(demo, accented, plain):
    with_marks = _found(accented)
    assert with_marks, f"{accented!r} found nothing on {connection.vendor}"
    assert _found(plain) == with_marks
    assert _found(unicodedata.normalize("NFD", accented)) == with_marks


@pytest.mark.django_db
def test_ca_phe_finds_the_coffee_and_not_the_rice(demo):
    titles = set(Product.objects.filter(pk__in=_found("ca phe")).values_list("title", flat=True))
    assert "Cà phê Robusta Buôn Ma Thuột rang xay 500g" in titles
    assert "Cà phê Arabica Cầu Đất rang xay 500g" in titles
    assert not any(title.startswith("Gạo") for title in titles)


@pytest.mark.django_db
def test_dak_lak_finds_products_of_dak_lak_producers(demo):
    found = _found("dak lak")
    entries = SearchEntry.objects.filter(pk__in=found)
    provinces = set(entries.values_list("province_code", flat=True))
    assert 66 in provinces
    expected = set(SearchEntry.objects.filter(province_code=66).values_list("pk", flat=True))
    assert expected <= found  # every Đắk Lắk product, since its producer's address matches


def _make_product(title, description="", price=100000, producer=None, stock=5):
    producer = producer or open_producer_shop(
        name=f"HTX {title[:20]}", kind="cooperative", province_code=66,
        commune_code=geo.find_commune(66, "Ea Kiết"),
    )  # fmt: skip
    product = Product.objects.create(title=title, description=description, is_public=True)
    StockRecord.objects.create(
        product=product, partner=producer, partner_sku=f"T{product.pk}",
        price=Decimal(price), price_currency="VND", num_in_stock=stock,
    )  # fmt: skip
    return product


@pytest.mark.django_db
def test_title_matches_rank_above_description_matches(db):
    in_description = _make_product("Hũ quà biếu", "Có kèm mật ong rừng nguyên chất")
    in_title = _make_product("Mật ong rừng U Minh", "Hũ thủy tinh 500 ml")
    ranked = list(search_queryset("mat ong").order_by("-rank", "pk").values_list("pk", flat=True))
    assert ranked.index(in_title.pk) < ranked.index(in_description.pk)


@pytest.mark.django_db
def test_hidden_products_are_never_found(db):
    product = _make_product("Cà phê chồn đặc biệt")
    assert product.pk in _found("ca phe chon")
    product.is_public = False
    product.save()
    assert product.pk not in _found("ca phe chon")
    assert not SearchEntry.objects.filter(product=product).exists()


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize(("typo", "title"), [
    ("ca phee buon ma thuot", "Cà phê Robusta Buôn Ma Thuột rang xay 500g"),
    ("sau rienq", "Sầu riêng Ri6 Krông Pắc"),
    ("ngoc lihn", "Sâm Ngọc Linh tươi 10 năm tuổi (100 g)"),
])  # fmt: skip
def test_a_typo_still_finds_the_product_on_postgresql(demo, typo, title):
    if connection.vendor != "postgresql":
        pytest.skip("typo tolerance uses pg_trgm: PostgreSQL only (make test runs it there)")
    product = Product.objects.get(title=title)
    assert product.pk in _found(typo)


CERT_FIELDS = {k: f for k, _l, f in CERTIFICATES}
RANGES = {k: (low, high) for k, _l, low, high in PRICE_RANGES}


def passes(entry, name, values) -> bool:
    """Whether a search entry passes one facet's selected values (OR-ed), by hand."""
    if not values:
        return True
    if name == "province":
        return str(entry.province_code) in values
    if name == "producer":
        return str(entry.producer_id) in values
    if name == "cert":
        return any(getattr(entry, CERT_FIELDS[v]) for v in values)
    if name == "stars":
        return str(entry.ocop_stars) in values
    if name == "price":
        return entry.price is not None and any(
            (RANGES[v][0] is None or entry.price >= RANGES[v][0])
            and (RANGES[v][1] is None or entry.price < RANGES[v][1])
            for v in values
        )
    if name == "in_stock":
        return entry.in_stock
    if name == "category":
        return bool({str(c.pk) for c in entry.product.categories.all()} & set(values))
    raise AssertionError(name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"province": ["66"]},
        {"province": ["66", "52"], "price": ["100k-300k"]},
        {"cert": ["ocop"], "in_stock": ["1"]},
        {"stars": ["4", "5"], "price": ["duoi-100k", "100k-300k", "tren-1tr"]},
    ],
    ids=["none", "one-province", "two-provinces-price", "ocop-in-stock", "stars-prices"],
)
def test_facet_counts_equal_a_brute_force_count(demo, selection):
    _check_against_brute_force(selection)


def _check_against_brute_force(selection):
    params = QueryDict(mutable=True)
    for key, values in selection.items():
        params.setlist(key, values)
    listing = run_listing(params, per_page=1000)
    entries = list(SearchEntry.objects.prefetch_related("product__categories"))
    checked = 0
    for facet in listing.facets:
        others = {k: v for k, v in selection.items() if k != facet.name}
        for value in facet.values:
            expected = sum(
                1
                for e in entries
                if passes(e, facet.name, [value.key])
                and all(passes(e, k, v) for k, v in others.items())
            )
            assert value.count == expected, (facet.name, value.key, value.label)
            checked += 1
    assert checked > 20
    # The results are exactly the entries passing every selected facet.
    expected_ids = {e.pk for e in entries if all(passes(e, k, v) for k, v in selection.items())}
    assert {e.pk for e in listing.entries} == expected_ids
    assert listing.paginator.count == len(expected_ids)


@pytest.mark.django_db
def test_facet_counts_stay_exact_for_products_in_several_categories(demo):
    """A product's categories are indexed as its lowest category and the others: every
    category counts it once, and choosing any of them finds it."""
    first, second, third = Category.objects.order_by("pk")[:3]
    in_first = list(Product.objects.filter(categories=first).order_by("pk")[:3])
    assert in_first
    for product in in_first:
        ProductCategory.objects.get_or_create(product=product, category=second)
    ProductCategory.objects.get_or_create(product=in_first[0], category=third)
    several = SearchEntry.objects.filter(more_category_pks__isnull=False)
    assert several.count() == len(in_first)
    for selection in (
        {},
        {"category": [str(second.pk)]},
        {"category": [str(first.pk), str(third.pk)], "in_stock": ["1"]},
        {"category": [str(third.pk)], "province": ["66", "52"]},
    ):
        _check_against_brute_force(selection)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "q=ca+phe",
        "q=mat+ong",
        "q=sau+rieng&province=66",
        "q=dak+lak&cert=ocop",
        "q=gao+lut",
        "q=rang+xay",
        "q=robusta+rang",
        "q=ca+phe+robusta+500g",
    ],
)
def test_every_listing_page_is_in_the_order_of_the_ranking(demo, query):
    """The statement ranks only what decides the page (listing._ranked_sql): each page,
    small ones too, holds exactly the entries order_entries puts there."""
    params = QueryDict(query)
    selection = Selection.from_query(params)
    ranked = order_entries(search_filter(selection.q).filter(selection.all_q()), selection)
    expected = list(ranked.values_list("pk", flat=True))
    assert expected
    shown, number = [], 1
    while True:
        page = QueryDict(query, mutable=True)
        page["page"] = str(number)
        listing = run_listing(page, per_page=2)
        if listing.page.number != number:
            break
        shown += [entry.pk for entry in listing.entries]
        number += 1
    assert shown == expected


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_title_holding_the_query_word_for_word_is_fully_similar_on_postgresql(demo):
    """listing._ranked_sql ranks a title holding the folded query word for word with a word
    similarity of 1 without computing it: what pg_trgm computes for every such title."""
    if connection.vendor != "postgresql":
        pytest.skip("word similarity is pg_trgm's: PostgreSQL only (make test runs it there)")
    titles = list(SearchEntry.objects.values_list("title_folded", flat=True))
    queries = set()
    for title in titles:
        words = title.split()
        for size in (1, 2, 3, 4):
            queries |= {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q, t, word_similarity(q, t) FROM unnest(%s::text[]) q, unnest(%s::text[]) t "
            "WHERE (' ' || t || ' ') LIKE ('%% ' || q || ' %%') AND word_similarity(q, t) < 1",
            [sorted(queries), titles],
        )
        assert cursor.fetchall() == []
    assert len(queries) > 100


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_listing_falls_back_on_a_typo_search_on_postgresql(demo):
    if connection.vendor != "postgresql":
        pytest.skip("typo tolerance uses pg_trgm: PostgreSQL only (make test runs it there)")
    product = Product.objects.get(title="Cà phê Robusta Buôn Ma Thuột rang xay 500g")
    listing = run_listing(QueryDict("q=ca+phee+buon+ma+thuot"), per_page=1000)
    assert product.pk in {entry.pk for entry in listing.entries}
    assert listing.paginator.count == len(listing.entries) > 0


@pytest.mark.django_db
def test_card_links_are_what_reverse_gives(demo):
    entries = list(
        SearchEntry.objects.filter(producer__isnull=False).select_related("product", "producer")[:6]
    )
    entries[0].product.slug = "cà-phê-đặc-biệt"  # quoted as reverse() quotes it
    for language in ("vi", "en"):
        with translation.override(language):
            card_links(entries)
            for entry in entries:
                assert entry.product_url == entry.product.get_absolute_url()
                assert entry.add_url == reverse("basket:add", kwargs={"pk": entry.product.pk})
                assert entry.producer_url == reverse(
                    "marketplace:producer", args=[entry.producer.slug]
                )
                assert entry.image_url


@pytest.mark.django_db
def test_every_combination_of_province_and_certificate_filters_is_consistent(demo):
    provinces = [str(p) for p in SearchEntry.objects.values_list("province_code", flat=True)]
    for province, cert in cartesian(sorted(set(provinces))[:4], ["ocop", "vietgap"]):
        params = QueryDict(f"province={province}&cert={cert}")
        listing = run_listing(params, per_page=1000)
        for entry in listing.entries:
            assert str(entry.province_code) == province
            assert getattr(entry, f"has_{cert}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "q=ca+phe",
        "q=ca+phe&province=66&cert=ocop&page=1",
        "q=mat+ong&stars=4&stars=5&sort=price-asc",
    ],
)
def test_a_listing_matches_the_words_searched_for_once(demo, query, django_assert_max_num_queries):
    """Every facet count, the number of results, the page's positions and whether any
    entry holds every word (else a typo search, PostgreSQL) come from one statement over
    the matching entries; the page's rows from one more."""
    with django_assert_max_num_queries(2) as captured:
        listing = run_listing(QueryDict(query))
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum(" LIKE " in sql for sql in statements) == 1
    assert listing.paginator.count == len(run_listing(QueryDict(query), per_page=1000).entries)


@pytest.mark.django_db
def test_the_search_page_stays_within_its_query_budget(client, demo, django_assert_max_num_queries):
    client.get("/search/?q=ca+phe")  # the session and the basket of a first visit
    # The listing statement and the page's rows, inside the request's transaction.
    with django_assert_max_num_queries(4):
        response = client.get("/search/?q=ca+phe&cert=ocop")
    assert response.status_code == 200
    assert "☑" in response.content.decode()  # the chosen filter, ticked


@pytest.mark.django_db
def test_a_page_past_the_last_shows_the_last_page(demo):
    listing = run_listing(QueryDict("q=ca+phe&page=999"), per_page=2)
    assert listing.page.number == listing.paginator.num_pages > 1
    assert len(listing.entries) == listing.paginator.count - 2 * (listing.page.number - 1)


@pytest.mark.django_db
def test_a_listing_read_again_reads_only_its_page_until_the_catalogue_changes(
    demo, django_assert_num_queries
):
    """What the listing statement read is kept under the catalogue's version: the same
    listing again costs the page's rows alone, and any change of an entry, a category or a
    producer's name is seen at once (listing.catalogue_changed)."""
    query = QueryDict("q=ca+phe")
    first = run_listing(query)
    with django_assert_num_queries(1):
        again = run_listing(query)
    assert [e.pk for e in again.entries] == [e.pk for e in first.entries]
    assert again.paginator.count == first.paginator.count
    in_stock = {f.name: f for f in first.facets}["in_stock"].values[0].count
    # A product sold out: the entry changes, the listing reads it again.
    entry = next(e for e in first.entries if e.in_stock)
    record = entry.product.stockrecords.get()
    record.num_in_stock = record.num_allocated or 0
    record.save()
    changed = run_listing(query)
    assert {f.name: f for f in changed.facets}["in_stock"].values[0].count == in_stock - 1
    # A category renamed: its facet shows the new name.
    category = Category.objects.get(pk=entry.category_pk)
    category.name = "Cà phê đặc sản"
    category.save()
    labels = [v.label for v in {f.name: f for f in run_listing(query).facets}["category"].values]
    assert "Cà phê đặc sản" in labels
    # A producer renamed: its facet shows the new name.
    partner = entry.producer.partner
    partner.name = "HTX Cà phê mới"
    partner.save()
    labels = [v.label for v in {f.name: f for f in run_listing(query).facets}["producer"].values]
    assert "HTX Cà phê mới" in labels


@pytest.mark.django_db
def test_a_listing_read_before_a_change_commits_is_not_kept_for_after(
    demo, django_capture_on_commit_callbacks
):
    """A listing read while a change is not yet committed is filed under a version
    forgotten again at the commit (listing.catalogue_changed)."""
    query = QueryDict("q=ca+phe")
    before = run_listing(query).paginator.count
    product = Product.objects.filter(search_entry__title_folded__contains="ca phe").first()
    with django_capture_on_commit_callbacks(execute=True):
        product.is_public = False
        product.save()
        version = catalogue_version()
    assert catalogue_version() != version
    assert run_listing(query).paginator.count == before - 1
