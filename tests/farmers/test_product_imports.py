"""Products in bulk: a farmer (or staff for a farmer in their scope) creates and updates
products from a spreadsheet keyed on their own product code, and changes the price and
stock of many products on one page; new products and changes buyers read wait for the
operator's approval, bad rows say why in Vietnamese and never stop the others.

The demo farmer runs the Krông Pắc shop; the Ea Kiết branch's staff cover the Ea Kiết
cooperative only; the Đắk Lắk post office covers both.
"""

import csv
import html
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext
from oscar.core.loading import get_model

from farmers.imports import products as product_imports
from farmers.models import ProductImport
from marketplace.catalogue import listings
from marketplace.models import ProductListing
from tests.marketplace.test_farmer_products import (
    client_for,
    make_products,
    producer,
    set_approval,
    users,
    visible_to_buyers,
)

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

HEADERS = [str(label) for _key, label in product_imports.FIELDS]


def sheet(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row(sku, title="Bơ sáp loại 1", category="Trái cây", unit="kg", price=45000, stock=30,
        weight=1, description="Bơ sáp Krông Pắc.", gtin=""):  # fmt: skip
    return [sku, title, category, unit, price, stock, weight, description, gtin]


def run(user, owner, data, name="san-pham.xlsx", callbacks=None) -> ProductImport:
    record = product_imports.create_product_import(
        actor=user, producer=owner, upload=SimpleUploadedFile(name, data)
    )
    mapping = product_imports.guess_product_mapping(record.headers)
    with callbacks(execute=True):
        product_imports.start_product_import(record=record, mapping=mapping)
    record.refresh_from_db()
    assert record.status == ProductImport.Status.DONE, record.error
    return record


def outcomes(record) -> dict:
    return {entry["sku"]: entry["outcome"] for entry in record.report}


def by_sku(owner, sku):
    return StockRecord.objects.select_related("product").get(partner=owner.partner, partner_sku=sku)


@pytest.mark.django_db
def test_import_creates_then_the_same_file_changes_nothing_then_updates(
    demo, django_capture_on_commit_callbacks
):
    set_approval(True)
    farmer, owner = users()["farmer"], producer("krongpac")
    data = sheet([row("BO-01"), row("BO-02", title="Bơ 034", price="52.000", stock=12)])
    first = run(farmer, owner, data, callbacks=django_capture_on_commit_callbacks)
    assert outcomes(first) == {"BO-01": "created", "BO-02": "created"}
    bo2 = by_sku(owner, "BO-02")
    assert (bo2.price, bo2.num_in_stock, bo2.product.title) == (Decimal(52000), 12, "Bơ 034")
    # New products wait for the operator, hidden from buyers.
    assert bo2.product.listing.status == ProductListing.Status.PENDING
    assert not visible_to_buyers(bo2.product)
    assert gettext("Waits for the operator's approval.") in first.report[0]["message"]

    again = run(farmer, owner, data, callbacks=django_capture_on_commit_callbacks)
    assert outcomes(again) == {"BO-01": "unchanged", "BO-02": "unchanged"}
    assert (
        StockRecord.objects.filter(partner=owner.partner, partner_sku__startswith="BO-").count()
        == 2
    )

    # Approved, then a stock-only change stays on sale; a price change goes back to review.
    for sku in ("BO-01", "BO-02"):
        listing = by_sku(owner, sku).product.listing
        ProductListing.objects.filter(pk=listing.pk).update(status="approved")
        Product.objects.filter(pk=listing.product_id).update(is_public=True)
    only = [str(h) for h in (HEADERS[0], HEADERS[4], HEADERS[5])]
    update = sheet([["BO-01", None, 31], ["BO-02", 55000, None]], headers=only)
    third = run(farmer, owner, update, callbacks=django_capture_on_commit_callbacks)
    assert outcomes(third) == {"BO-01": "updated", "BO-02": "updated"}
    bo1, bo2 = by_sku(owner, "BO-01"), by_sku(owner, "BO-02")
    assert (bo1.num_in_stock, bo1.price) == (31, Decimal(45000))
    assert bo1.product.listing.status == ProductListing.Status.APPROVED
    assert bo2.price == Decimal(55000) and bo2.num_in_stock == 12  # blank cell: kept
    assert bo2.product.listing.status == ProductListing.Status.PENDING
    assert not Product.objects.get(pk=bo2.product_id).is_public


@pytest.mark.django_db
def test_bad_rows_are_reported_one_by_one_and_the_good_ones_imported(
    demo, django_capture_on_commit_callbacks
):
    farmer, owner = users()["farmer"], producer("krongpac")
    rows = [
        row("MAU-001"),  # the template's example
        row("OK-1"),
        row("LE-1", price=12500.5),
        row("DM-1", category="Đồ điện tử"),
        row("DV-1", unit="thùng"),
        row("TEN-1", title=None),
        row("OK-1", title="Lặp lại"),
        row(None, title="Không mã"),
        row("P1-99999"),
        row("NEG-1", stock=-3),
    ]
    record = run(farmer, owner, sheet(rows), callbacks=django_capture_on_commit_callbacks)
    report = {entry["row"]: entry for entry in record.report}
    assert [report[n]["outcome"] for n in range(2, 12)] == [
        "skipped", "created", "error", "error", "error", "error", "error", "error", "error",
        "error",
    ]  # fmt: skip
    assert (record.created_count, record.error_count, record.skipped_count) == (1, 8, 1)
    assert str(listings.PRICE_MESSAGES["decimal"]) in report[4]["message"]
    assert "Đồ điện tử" in report[5]["message"]
    assert "thùng" in report[6]["message"]
    assert gettext("Enter the name of the product.") in report[7]["message"]
    assert (
        gettext("The same product code is already in row %(row)s.") % {"row": 3}
        == (report[8]["message"])
    )
    assert report[9]["outcome"] == "error" and report[9]["message"]
    assert gettext("The stock cannot be negative.") in report[11]["message"]
    assert not StockRecord.objects.filter(partner=owner.partner, partner_sku="LE-1").exists()

    # The page shows the table of bad rows; the CSV report has every row.
    client = client_for(farmer)
    page = client.get(
        reverse("bulk:import-detail", args=[owner.slug, record.pk]) + "?ket-qua=error"
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Đồ điện tử" in text and "LE-1" in text and "OK-1" in text
    report_csv = client.get(reverse("bulk:import-report", args=[owner.slug, record.pk]))
    lines = list(csv.reader(io.StringIO(report_csv.content.decode("utf-8-sig"))))
    assert len(lines) == 1 + len(rows)


@pytest.mark.django_db
def test_a_farmer_uploads_maps_and_sees_the_report_through_the_pages(
    demo, django_capture_on_commit_callbacks
):
    farmer, owner = users()["farmer"], producer("krongpac")
    client = client_for(farmer)
    home = client.get(reverse("shop:home")).content.decode()
    start = reverse("bulk:imports", args=[owner.slug])
    assert start in home and reverse("bulk:edit", args=[owner.slug]) in home
    template = client.get(reverse("bulk:import-template", args=[owner.slug]))
    assert template.status_code == 200
    # The template lists the shop's products: importing it unchanged changes nothing.
    sheet_rows = list(openpyxl.load_workbook(io.BytesIO(template.content)).active.values)
    assert sheet_rows[0][0] == gettext("Product code (SKU)")
    existing = StockRecord.objects.filter(partner=owner.partner).count()
    assert len(sheet_rows) == 2 + existing
    upload = client.post(start, {"file": SimpleUploadedFile("mau.xlsx", template.content)})
    assert upload.status_code == 302
    record = ProductImport.objects.get(producer=owner)
    post = {
        f"col_{index}": key
        for key, index in product_imports.guess_product_mapping(record.headers).items()
    }
    with django_capture_on_commit_callbacks(execute=True):
        mapped = client.post(reverse("bulk:import-map", args=[owner.slug, record.pk]), post)
    assert mapped.status_code == 302
    record.refresh_from_db()
    assert record.status == "done", record.error
    assert (record.skipped_count, record.unchanged_count, record.error_count) == (1, existing, 0)
    progress = client.get(reverse("bulk:import-progress", args=[owner.slug, record.pk])).json()
    assert progress["finished"] and progress["counts"]["unchanged"] == existing

    bad = client.post(start, {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert bad.status_code == 200
    assert product_imports._no_rows() in html.unescape(bad.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "eakiet", "krongpac"),
    [
        ("anonymous", 302, 302),
        ("buyer", 404, 404),
        ("farmer", 404, 200),
        ("other_farmer", 404, 404),
        ("branch_staff", 200, 404),
        ("post_office_staff", 200, 200),
        ("operator", 200, 200),
    ],
)
def test_who_may_import_and_edit_for_which_producer(demo, role, eakiet, krongpac):
    client = client_for(users()[role])
    for key, expected in (("eakiet", eakiet), ("krongpac", krongpac)):
        slug = producer(key).slug
        for name in ("bulk:imports", "bulk:import-template", "bulk:edit"):
            assert client.get(reverse(name, args=[slug])).status_code == expected, (name, key)


@pytest.mark.django_db
def test_staff_cannot_import_for_a_farmer_outside_their_scope(
    demo, django_capture_on_commit_callbacks
):
    staff, outside, inside = users()["branch_staff"], producer("krongpac"), producer("eakiet")
    with pytest.raises(PermissionDenied):
        product_imports.create_product_import(
            actor=staff, producer=outside, upload=SimpleUploadedFile("a.xlsx", sheet([row("X")]))
        )
    post = client_for(staff).post(
        reverse("bulk:imports", args=[outside.slug]),
        {"file": SimpleUploadedFile("a.xlsx", sheet([row("X")]))},
    )
    assert post.status_code == 404
    assert not ProductImport.objects.filter(producer=outside).exists()
    record = run(staff, inside, sheet([row("EK-1")]), callbacks=django_capture_on_commit_callbacks)
    listing = by_sku(inside, "EK-1").product.listing
    assert record.created_count == 1 and listing.listed_by_staff and listing.listed_by == staff
    # Another producer's import is 404 to staff of the other scope, and to the farmer.
    for who in ("farmer", "other_farmer"):
        url = reverse("bulk:import-detail", args=[inside.slug, record.pk])
        assert client_for(users()[who]).get(url).status_code == 404
    wrong = reverse("bulk:import-detail", args=[outside.slug, record.pk])
    assert client_for(users()["operator"]).get(wrong).status_code == 404


# --- Price and stock of many products ----------------------------------------------------------


def _edit_post(page, changes: dict) -> dict:
    """The formset as the page sent it, with `changes` {sku: (price, stock)}."""
    formset = page.context["formset"]
    data = {f"sp-{key}": value for key, value in formset.management_form.initial.items()}
    for form, (record, _bound) in zip(formset, page.context["lines"], strict=True):
        price, stock = changes.get(record.partner_sku, (form.initial["price"], None))
        data[f"{form.prefix}-record"] = form.initial["record"]
        data[f"{form.prefix}-price"] = price
        data[f"{form.prefix}-num_in_stock"] = (
            stock if stock is not None else form.initial["num_in_stock"]
        )
    return data


@pytest.mark.django_db
def test_the_price_and_stock_page_saves_many_rows_with_the_listing_rules(demo):
    set_approval(True)
    farmer, owner = users()["farmer"], producer("krongpac")
    client = client_for(farmer)
    url = reverse("bulk:edit", args=[owner.slug])
    page = client.get(url)
    assert page.status_code == 200
    records = [record for record, _form in page.context["lines"]]
    first, second = records[0], records[1]
    for record in (first, second):
        ProductListing.objects.filter(product=record.product).delete()
    before = {r.pk: (r.price, r.num_in_stock) for r in records}

    # A bad cell: nothing saved, the message beside it, what was typed kept.
    bad = client.post(
        url,
        _edit_post(page, {first.partner_sku: ("12.500,5", 7), second.partner_sku: ("99000", 9)}),
    )
    assert bad.status_code == 200
    text = html.unescape(bad.content.decode())
    assert str(listings.PRICE_MESSAGES["decimal"]) in text and "12.500,5" in text
    after = {r.pk: (r.price, r.num_in_stock) for r in StockRecord.objects.filter(pk__in=before)}
    assert after == before

    # Good cells: a stock change is on sale at once, a price change waits for approval.
    ok = client.post(
        url,
        _edit_post(
            page,
            {first.partner_sku: (str(int(first.price)), 77), second.partner_sku: ("99.000", None)},
        ),
    )
    assert ok.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (
        first.num_in_stock == 77
        and not ProductListing.objects.filter(product=first.product).exists()
    )
    assert second.price == Decimal(99000)
    assert (
        ProductListing.objects.get(product=second.product).status == ProductListing.Status.PENDING
    )
    assert not Product.objects.get(pk=second.product_id).is_public


@pytest.mark.django_db
def test_the_price_and_stock_page_refuses_rows_of_another_shop_and_forged_forms(demo):
    farmer, owner = users()["farmer"], producer("krongpac")
    client = client_for(farmer)
    url = reverse("bulk:edit", args=[owner.slug])
    page = client.get(url)
    data = _edit_post(page, {})
    foreign = StockRecord.objects.filter(partner=producer("eakiet").partner).first()
    data["sp-0-record"] = str(foreign.pk)
    data["sp-0-price"] = "1000"
    response = client.post(url, data)
    assert response.status_code == 200
    assert gettext("This product is no longer in the shop: reload the page.") in html.unescape(
        response.content.decode()
    )
    foreign.refresh_from_db()
    assert foreign.price != Decimal(1000)
    for forged in (
        {},
        {"sp-TOTAL_FORMS": "x"},
        {"sp-TOTAL_FORMS": "9999", "sp-INITIAL_FORMS": "0"},
    ):
        assert client.post(url, forged).status_code == 200


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_price_and_stock_page_takes_the_same_queries_for_3_and_20_products(demo):
    farmer, owner = users()["farmer"], producer("krongpac")
    client = client_for(farmer)
    url = reverse("bulk:edit", args=[owner.slug])
    client.get(url)  # the first visit of a session fills its caches
    few = _queries(client, url)
    make_products(owner, farmer, 20)
    many = _queries(client, url)
    assert many == few
    assert many <= 20
