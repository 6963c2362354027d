"""Food safety on the trace page and the farmer's pages: lots that may not be sold
(expired, recalled, harvested inside a pre-harvest interval), the confirmation and the
operator's review, banned active ingredients, bounded dates, standards and brand."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from traceability import safety, services
from traceability.models import (
    ZERO_HASH,
    BannedIngredient,
    FarmEvent,
    Lot,
    SafetyReview,
    compute_hash,
)

from .conftest import FARMER, OPERATOR, sign_in

Product = get_model("catalogue", "Product")
pytestmark = pytest.mark.django_db
BUY = "Buy this product"
NOT_FOR_SALE = "Not for sale: do not buy or eat this lot"


def vi(message) -> str:
    with translation.override("vi"):
        return gettext(message)


def lot(code) -> Lot:
    return Lot.objects.select_related("recall", "product").get(code=code)


def page(client, a_lot, language="vi") -> str:
    prefix = "" if language == "vi" else f"/{language}"
    response = client.get(f"{prefix}/t/{a_lot.short_code}/")
    assert response.status_code == 200
    return response.content.decode()


def offers_to_buy(html, a_lot) -> bool:
    return f'class="buy" href="{a_lot.product.get_absolute_url()}"' in html


# --- The demo keeps one lot of each kind, and none of them is offered ------------------------


def test_the_demo_has_an_expired_a_recalled_and_a_pre_harvest_lot_none_offered(client, traces):
    cases = {
        "DEMO-NS0007": safety.EXPIRED,
        "DEMO-NS0018": safety.RECALLED,
        "DEMO-NS0006": safety.PRE_HARVEST_PENDING,
    }
    for code, reason in cases.items():
        unsafe = lot(code)
        assert safety.sale_refusal(unsafe).code == reason, code
        html = page(client, unsafe)
        assert not offers_to_buy(html, unsafe), code
        assert vi(NOT_FOR_SALE) in html and vi(BUY) not in html, code
        assert str(safety.MESSAGES[reason]) in html, code
    # Every other demo lot may be sold and offers its product.
    fresh = [x for x in Lot.objects.select_related("recall", "product") if x.code not in cases]
    assert fresh and safety.sellable(fresh) == fresh
    html = page(client, lot("DEMO-NS0005"))
    assert offers_to_buy(html, lot("DEMO-NS0005")) and vi(NOT_FOR_SALE) not in html
    # The pre-harvest lot waits in the operator's queue.
    assert list(safety.lots_to_review()) == [lot("DEMO-NS0006")]


def test_the_product_stays_on_sale_from_its_other_lots(client, traces):
    """The Monthong lot is not sold, but the product page still sells the product."""
    unsafe = lot("DEMO-NS0006")
    html = client.get(unsafe.product.get_absolute_url()).content.decode()
    assert "add-to-basket" in html or "basket/add" in html
    other = services.create_lot(
        product=unsafe.product,
        producer=unsafe.producer,
        by=None,
        quantity=50,
        unit="kg",
        province_code=unsafe.province_code,
        commune_code=unsafe.commune_code,
        production_date=timezone.localdate(),
    )
    other = lot(other.code)
    assert safety.sale_refusal(other) is None
    assert offers_to_buy(page(client, other), other)


def test_every_reason_is_listed_and_the_most_serious_first(traces):
    recalled = lot("DEMO-NS0018")
    Lot.objects.filter(pk=recalled.pk).update(expiry_date=timezone.localdate() - timedelta(1))
    recalled.refresh_from_db()
    codes = [r.code for r in safety.sale_refusals(recalled)]
    assert codes == [safety.RECALLED, safety.EXPIRED]
    # The last day before expiry is still a day of sale.
    fresh = lot("DEMO-NS0005")
    assert safety.sale_refusal(fresh, on=fresh.expiry_date) is None
    assert safety.sale_refusal(fresh, on=fresh.expiry_date + timedelta(1)).code == "expired"


def test_an_expired_lot_stops_being_offered_without_waiting_for_the_cache(client, traces):
    from traceability.views import head_timeout

    fresh = lot("DEMO-NS0005")
    assert offers_to_buy(page(client, fresh), fresh)
    Lot.objects.filter(pk=fresh.pk).update(expiry_date=timezone.localdate())
    fresh.refresh_from_db()
    # Its page is cached at most until the day after its expiry date begins.
    midnight = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(1), datetime.min.time())
    )
    assert head_timeout(fresh) <= (midnight - timezone.now()).total_seconds() + 2


# --- Pre-harvest interval: warn, confirm, review ------------------------------------------------


def new_lot(product_upc="NS0007", **extra) -> Lot:
    base = lot("DEMO-NS0005")
    return services.create_lot(
        product=Product.objects.get(upc=product_upc),
        producer=base.producer,
        by=None,
        quantity=100,
        unit="kg",
        province_code=base.province_code,
        commune_code=base.commune_code,
        production_date=timezone.localdate(),
        **extra,
    )


def spray(a_lot, *, days_ago, interval=7, name="Abamectin 1.8EC", confirm=False, **extra):
    day = timezone.localdate() - timedelta(days=days_ago)
    return services.record_event(
        confirm_pre_harvest=confirm,
        lot=a_lot,
        by=None,
        kind=FarmEvent.Kind.INPUT_APPLIED,
        event_time=timezone.make_aware(datetime.combine(day, datetime.min.time())),
        details={
            "product_name": name,
            "dose": "10",
            "applied_on": day.isoformat(),
            "pre_harvest_interval_days": interval,
            **extra,
        },
    )


def test_a_harvest_inside_the_interval_warns_then_waits_for_the_operator(client, traces):
    a_lot = new_lot()
    spray(a_lot, days_ago=2)
    sign_in(client, FARMER)
    url = f"/lo-hang/{a_lot.pk}/su-kien/"
    harvest = {
        "kind": "harvest",
        "event_date": timezone.localdate().isoformat(),
        "event_clock": "07:00",
        "quantity": "80",
    }
    response = client.post(url, harvest)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="pre-harvest-warning"' in html
    assert "Abamectin 1.8EC" in html and 'name="confirm_pre_harvest"' in html
    assert 'type="checkbox"' in html
    assert a_lot.events.count() == 1  # nothing saved
    response = client.post(url, {**harvest, "confirm_pre_harvest": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/lo-hang/{a_lot.pk}/"
    a_lot = lot(a_lot.code)
    assert a_lot.events.count() == 2 and a_lot.safety_review == SafetyReview.PENDING
    assert safety.sale_refusal(a_lot).code == safety.PRE_HARVEST_PENDING
    assert 'id="not-for-sale"' in response.content.decode()
    assert not offers_to_buy(page(client, a_lot), a_lot)
    # It cannot be packed for an order either.
    from traceability.line_lots import LineLots

    offered = LineLots().choices(
        partner_id=a_lot.producer.partner_id, product_ids=[a_lot.product_id]
    )
    assert a_lot not in offered.get(a_lot.product_id, [])

    # The operator reaches the queue from their home, by clicking.
    client.logout()
    sign_in(client, OPERATOR)
    home = client.get("/quan-tri/").content.decode()
    assert 'href="/quan-tri/lo-can-xem-xet/"' in home
    assert vi("Lots to review (harvested inside a pre-harvest interval)") in home
    queue = client.get("/quan-tri/lo-can-xem-xet/").content.decode()
    assert f'href="/quan-tri/lo-can-xem-xet/{a_lot.pk}/"' in queue
    review_url = f"/quan-tri/lo-can-xem-xet/{a_lot.pk}/"
    assert "Abamectin 1.8EC" in client.get(review_url).content.decode()
    # A decision needs its reason.
    response = client.post(review_url, {"decision": "cleared", "note": ""})
    assert response.status_code == 200 and Lot.objects.get(pk=a_lot.pk).safety_review == "pending"
    response = client.post(
        review_url, {"decision": "cleared", "note": "Mẫu kiểm nghiệm dư lượng đạt QCVN 8-3"}
    )
    assert response.status_code == 302
    a_lot = lot(a_lot.code)
    assert a_lot.safety_review == SafetyReview.CLEARED and safety.sale_refusal(a_lot) is None
    assert offers_to_buy(page(client, a_lot), a_lot)  # the cached page was dropped
    assert a_lot not in safety.lots_to_review()


def test_only_the_operator_reviews_and_a_refused_lot_stays_unsold(client, traces):
    unsafe = lot("DEMO-NS0006")
    sign_in(client, FARMER)
    assert client.get(f"/quan-tri/lo-can-xem-xet/{unsafe.pk}/").status_code in (302, 403)
    farmer = unsafe.created_by
    with pytest.raises(ValidationError):
        safety.review_lot(lot=unsafe, by=farmer, decision="cleared", note="ok")
    client.logout()
    sign_in(client, OPERATOR)
    client.post(
        f"/quan-tri/lo-can-xem-xet/{unsafe.pk}/", {"decision": "refused", "note": "Dư lượng vượt"}
    )
    unsafe = lot("DEMO-NS0006")
    assert safety.sale_refusal(unsafe).code == safety.PRE_HARVEST_REFUSED
    assert not offers_to_buy(page(client, unsafe), unsafe)


def test_the_service_refuses_an_unconfirmed_breach_and_any_new_one_needs_a_new_review(traces):
    a_lot = new_lot()
    spray(a_lot, days_ago=3)
    when = timezone.now()
    with pytest.raises(safety.PreHarvestWarning) as info:
        services.record_event(
            lot=a_lot, by=None, kind="harvest", event_time=when, details={"quantity": "5"}
        )
    assert "Abamectin 1.8EC" in info.value.messages[0]
    services.record_event(
        lot=a_lot,
        by=None,
        kind="harvest",
        event_time=when,
        details={"quantity": "5"},
        confirm_pre_harvest=True,
    )
    boss = get_user_model().objects.get(email=OPERATOR)
    safety.review_lot(lot=a_lot, by=boss, decision="cleared", note="Kiểm nghiệm đạt")
    assert safety.sale_refusal(lot(a_lot.code)) is None
    # An input recorded late, whose interval the harvest also breaks: a new review.
    with pytest.raises(safety.PreHarvestWarning):
        spray(a_lot, days_ago=1, name="Emamectin benzoate", interval=14)
    spray(a_lot, days_ago=1, name="Emamectin benzoate", interval=14, confirm=True)
    a_lot = lot(a_lot.code)
    assert a_lot.safety_review == SafetyReview.PENDING
    assert safety.sale_refusal(a_lot).code == safety.PRE_HARVEST_PENDING


# --- Banned active ingredients ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ingredient", "banned"),
    [
        ("Lorsban 40EC", "Chlorpyrifos-Ethyl", "Chlorpyrifos ethyl"),
        ("Thuốc cỏ GLYPHOSATE 480SL", "", "Glyphosate"),
        ("Furadan 3GR", "", "Carbofuran"),
        ("Thuốc trừ cỏ", "2,4 D", "2,4-D"),
        ("Gramoxone 20SL", "", "Paraquat"),
        ("Dipterex", "trichlorfon", "Trichlorfon"),
        ("Thuốc trừ cỏ", "2,4-DB", None),
        ("Abamectin 1.8EC", "Abamectin", None),
        ("Chlorpyrifos methyl 40EC", "", None),
    ],
)
def test_banned_ingredients_are_found_without_case_or_diacritics(traces, name, ingredient, banned):
    found = safety.banned_ingredient(name, ingredient)
    assert (found.name if found else None) == banned


def test_a_banned_ingredient_is_refused_with_the_reason_and_the_list_is_data(client, traces):
    a_lot = new_lot()
    sign_in(client, FARMER)
    today = timezone.localdate().isoformat()
    post = {
        "kind": "input_applied",
        "event_date": today,
        "event_clock": "06:30",
        "product_name": "Thuốc cỏ Roundup",
        "active_ingredient": "Glyphosate isopropylamine salt",
        "dose": "10",
        "applied_on": today,
        "pre_harvest_interval_days": "7",
    }
    response = client.post(f"/lo-hang/{a_lot.pk}/su-kien/", post)
    html = response.content.decode()
    assert response.status_code == 200 and a_lot.events.count() == 0
    glyphosate = BannedIngredient.objects.get(name="Glyphosate")
    assert "Glyphosate" in html and glyphosate.source in html
    assert "is-invalid" in html
    # The operator keeps the list: an ingredient no longer listed is accepted.
    client.logout()
    sign_in(client, OPERATOR)
    assert 'href="/quan-tri/hoat-chat-cam/"' in client.get("/quan-tri/").content.decode()
    listing = client.get("/quan-tri/hoat-chat-cam/").content.decode()
    assert "Glyphosate" in listing and 'href="/admin/traceability/bannedingredient/"' in listing
    change = f"/admin/traceability/bannedingredient/{glyphosate.pk}/change/"
    form = client.get(change)
    assert form.status_code == 200
    response = client.post(
        change,
        {
            "name": glyphosate.name,
            "aliases": glyphosate.aliases,
            "group": glyphosate.group,
            "source": glyphosate.source,
            "note": "Hết hiệu lực (thử)",
            # "active" left out: unticked
        },
    )
    assert response.status_code == 302
    assert not BannedIngredient.objects.get(pk=glyphosate.pk).active
    client.logout()
    sign_in(client, FARMER)
    assert client.post(f"/lo-hang/{a_lot.pk}/su-kien/", post).status_code == 302


def test_the_shipped_list_cites_its_sources_and_seeds_the_table(traces):
    text = safety.BANNED_FILE.read_text(encoding="utf-8")
    for source in ("10/2019/TT-BNNPTNT", "09/2023/TT-BNNPTNT", "1186/QĐ-BNN-BVTV", "278/QĐ"):
        assert source in text
    rows = safety.read_banned_file()
    names = {row["name"] for row in rows}
    assert {"Chlorpyrifos ethyl", "Glyphosate", "Carbofuran", "Paraquat", "2,4-D"} <= names
    assert all(row["source"] for row in rows)
    assert set(BannedIngredient.objects.values_list("name", flat=True)) >= names


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_dates_out_of_bounds_are_a_form_error_never_a_500(client, traces, bad):
    a_lot = new_lot()
    sign_in(client, FARMER)
    today = timezone.localdate().isoformat()
    for post, field in (
        ({"kind": "harvest", "event_date": bad, "event_clock": "07:00", "quantity": "5"}, "date"),
        (
            {
                "kind": "input_applied",
                "event_date": today,
                "event_clock": "07:00",
                "product_name": "Abamectin 1.8EC",
                "dose": "10",
                "applied_on": bad,
                "pre_harvest_interval_days": "7",
            },
            "applied_on",
        ),
    ):
        response = client.post(f"/lo-hang/{a_lot.pk}/su-kien/", post)
        assert response.status_code == 200, (bad, field)
        html = response.content.decode()
        assert "is-invalid" in html and ("01/01/2000" in html or "(" in html), field
    assert a_lot.events.count() == 0
    product = Product.objects.get(upc="NS0007")
    response = client.post(
        "/lo-hang/tao/",
        {
            "product": product.pk,
            "quantity": "1",
            "unit": "kg",
            "province_code": a_lot.province_code,
            "commune_code": a_lot.commune_code,
            "production_date": bad,
        },
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()


def test_one_validator_bounds_event_dates(traces):
    tomorrow = timezone.localdate() + timedelta(days=1)
    safety.validate_event_date(tomorrow)
    safety.validate_event_date(date(2000, 1, 1))
    for bad in (tomorrow + timedelta(1), date(1999, 12, 31), date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(ValidationError):
            safety.validate_event_date(bad)
    with pytest.raises(ValidationError):
        safety.validate_event_date(datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    with pytest.raises(ValidationError) as info:
        services.record_event(
            lot=lot("DEMO-NS0005"),
            by=None,
            kind="growing_note",
            event_time=datetime(9999, 12, 31, 20, 0, tzinfo=UTC),
        )
    assert "event_time" in info.value.message_dict


def test_a_row_of_year_9999_does_not_take_the_pages_down(client, traces):
    """A row written before dates were bounded: the trace page and the lot page render."""
    a_lot = lot("DEMO-NS0001")
    last = a_lot.events.order_by("-sequence").first()
    for kind, when, details in (
        (
            FarmEvent.Kind.INPUT_APPLIED,
            datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
            {
                "product_name": "X",
                "dose": "1",
                "applied_on": "9999-12-31",
                "pre_harvest_interval_days": 7,
            },
        ),
        (
            FarmEvent.Kind.HARVEST,
            datetime(1, 1, 1, 0, 0, tzinfo=UTC),
            {"quantity": "1"},
        ),
    ):
        event = FarmEvent(
            lot=a_lot,
            sequence=last.sequence + 1,
            kind=kind,
            event_time=when,
            details=details,
            previous_hash=last.hash or ZERO_HASH,
        )
        event.hash = compute_hash(event, lot=a_lot)
        event.save()
        last = event
    assert client.get(f"/t/{a_lot.short_code}/").status_code == 200
    sign_in(client, FARMER)
    from django.core.cache import cache

    cache.clear()
    client.logout()
    sign_in(client, OPERATOR)
    assert client.get(f"/lo-hang/{a_lot.pk}/").status_code == 200


# --- Standards and brand (Circular 02/2024/TT-BKHCN) -------------------------------------------


def test_the_farmer_gives_standards_and_brand_and_the_page_shows_them(client, traces):
    product = Product.objects.get(upc="NS0007")
    base = lot("DEMO-NS0005")
    sign_in(client, FARMER)
    form = client.get(f"/lo-hang/tao/?san_pham={product.pk}").content.decode()
    assert 'name="standards"' in form and 'name="brand"' in form
    post = {
        "product": product.pk,
        "quantity": "10",
        "unit": "kg",
        "province_code": base.province_code,
        "commune_code": base.commune_code,
        "production_date": timezone.localdate().isoformat(),
        "standards": "VietGAP",
        "brand": "Bơ Krông Pắc",
    }
    response = client.post("/lo-hang/tao/", post)
    assert response.status_code == 200
    assert "TCVN" in response.content.decode() and "is-invalid" in response.content.decode()
    post["standards"] = "tcvn 11892-1:2017 ;  TCCS 01:2025/KP"
    response = client.post("/lo-hang/tao/", post)
    assert response.status_code == 302
    made = Lot.objects.filter(product=product).order_by("-pk").select_related("product").first()
    assert made.standards == "tcvn 11892-1:2017; TCCS 01:2025/KP"
    # Signed with the lot, as its other facts (the verifier prints them too).
    from traceability.models import TraceRecord

    body = TraceRecord.objects.get(lot=made, type="lot").body
    assert "TCCS 01:2025/KP" in body and "Bơ Krông Pắc" in body
    html = page(client, made)
    assert "TCCS 01:2025/KP" in html and "Bơ Krông Pắc" in html
    assert vi("Standards applied") in html and vi("Brand") in html
    assert vi("Record intact") in html or vi("Not verified yet") in html
    # The next lot of the product starts from the same standards and brand.
    form = client.get(f"/lo-hang/tao/?san_pham={product.pk}").content.decode()
    assert "TCCS 01:2025/KP" in form and "Bơ Krông Pắc" in form


def test_the_trace_page_stays_within_its_budget_with_the_safety_rules(
    client, traces, django_assert_max_num_queries, django_assert_num_queries
):
    unsafe = lot("DEMO-NS0006")
    url = f"/t/{unsafe.short_code}/"
    with django_assert_max_num_queries(4 + 1):  # + the scan's INSERT (eager tasks)
        assert client.get(url).status_code == 200
    with django_assert_num_queries(0 + 1):
        assert client.get(url).status_code == 200


def test_the_farmer_sees_which_of_their_lots_are_not_for_sale(client, traces):
    sign_in(client, FARMER)
    html = client.get("/lo-hang/").content.decode()
    rows = {
        code: html.split(f"{vi('Lot')} {code}")[1].split("</a>")[0]
        for code in ("DEMO-NS0005", "DEMO-NS0006", "DEMO-NS0007")
    }
    assert vi("Not for sale") not in rows["DEMO-NS0005"]
    assert str(safety.MESSAGES[safety.PRE_HARVEST_PENDING]) in rows["DEMO-NS0006"]
    assert str(safety.MESSAGES[safety.EXPIRED]) in rows["DEMO-NS0007"]


def test_lots_harvested_inside_an_interval_before_the_upgrade_wait_for_review(traces):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("traceability.migrations.0004_lot_safety")
    Lot.objects.update(safety_review="")
    migration.flag_pre_harvest_breaches(apps, None)
    assert list(Lot.objects.filter(safety_review="pending").values_list("code", flat=True)) == [
        "DEMO-NS0006"
    ]
