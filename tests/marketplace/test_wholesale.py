"""Wholesale prices: producers set price breaks by quantity, business buyers (tax code
validated, approved by the operator) get them in their basket exactly from the threshold,
their VAT invoice details go with the order to the producer, and money and stock still
reconcile (verify_ledger)."""

import html
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from oscar.core.loading import get_model

from marketplace.fulfilment import services as fulfilment
from marketplace.models import BusinessBuyer, PriceBreak
from marketplace.wholesale import pricing, services
from marketplace.wholesale.tax_codes import clean_tax_code, is_valid_tax_code
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import client_for, producer, users

Product = get_model("catalogue", "Product")
Basket = get_model("basket", "Basket")

DURIAN = "NS0005"  # Sầu riêng Ri6 Krông Pắc, the demo farmer's, 120.000 ₫ a kg
GOOD_CODES = {
    "0100233488": "0100233488",
    "0100112437": "0100112437",
    "0314409058-002": "0314409058-002",
    "0314409058002": "0314409058-002",
    "0312 68 78 78 - 001": "0312687878-001",
    "01.00.112.437": "0100112437",
}
BAD_CODES = [
    "",
    "12345",
    "0100233480",
    "01002334881",
    "0314409058-000",
    "0100000008",
    "²100233488",
    "010023348８",
    "0100233488-1",
    "abcdefghij",
]


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- Tax codes --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed,kept", GOOD_CODES.items())
def test_good_tax_codes_are_kept_as_written_on_invoices(typed, kept):
    assert clean_tax_code(typed) == kept


@pytest.mark.parametrize("typed", BAD_CODES)
def test_bad_tax_codes_are_refused_with_a_vietnamese_message(typed):
    with pytest.raises(ValidationError) as refused:
        clean_tax_code(typed)
    message = " ".join(refused.value.messages)
    assert "mã số thuế" in message.lower()
    assert not is_valid_tax_code(typed)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_last_digit_makes_a_valid_code_or_none(first_nine):
    valid = [d for d in "0123456789" if is_valid_tax_code(first_nine + d)]
    assert len(valid) <= 1


# --- The price rule ---------------------------------------------------------------------------


def test_a_break_applies_exactly_from_its_threshold():
    breaks = [(10, Decimal(100000)), (50, Decimal(90000))]
    retail = Decimal(120000)
    assert pricing.unit_price(retail=retail, quantity=1, breaks=breaks) == retail
    assert pricing.unit_price(retail=retail, quantity=9, breaks=breaks) == retail
    assert pricing.unit_price(retail=retail, quantity=10, breaks=breaks) == 100000
    assert pricing.unit_price(retail=retail, quantity=49, breaks=breaks) == 100000
    assert pricing.unit_price(retail=retail, quantity=50, breaks=breaks) == 90000
    assert pricing.unit_price(retail=retail, quantity=500, breaks=breaks[::-1]) == 90000


@given(
    st.dictionaries(st.integers(2, 500), st.integers(1, 200000), max_size=5),
    st.integers(1, 1000),
    st.integers(1, 200000),
)
def test_the_price_is_that_of_the_largest_threshold_reached_never_above_retail(
    table, quantity, retail
):
    breaks = [(m, Decimal(p)) for m, p in table.items()]
    price = pricing.unit_price(retail=Decimal(retail), quantity=quantity, breaks=breaks)
    reached = [m for m in table if m <= quantity]
    expected = min(Decimal(table[max(reached)]), Decimal(retail)) if reached else retail
    assert price == expected


# --- In the shop ------------------------------------------------------------------------------


@pytest.fixture
def trade(demo):
    people = users()
    farm = producer("krongpac")
    durian = Product.objects.get(upc=DURIAN)
    services.set_price_break(
        partner=farm.partner, product=durian, min_quantity=10, price=Decimal(100000)
    )
    buyer = people["buyer"]
    business = services.register_business(
        user=buyer,
        kind="restaurant",
        company_name="Công ty TNHH Nhà hàng Hoa Sen",
        tax_code="0100233488",
        address="12 Lê Duẩn, Buôn Ma Thuột, Đắk Lắk",
        invoice_email="ketoan@hoasen.vn",
    )
    return {**people, "farm": farm, "durian": durian, "business": business}


def approve(trade):
    services.review_business(
        business_id=trade["business"].pk, operator=trade["operator"], approve=True
    )


def basket_price(user, quantity) -> Decimal:
    from oscar.core.loading import get_class

    basket = Basket.objects.create(owner=user)
    basket.strategy = get_class("partner.strategy", "Selector")().strategy(user=user)
    basket.add_product(Product.objects.get(upc=DURIAN), quantity)
    line = basket.all_lines()[0]
    # No "the price has changed since you added it" for a price that follows the quantity.
    assert line.get_warning() is None
    return line.unit_price_incl_tax


@pytest.mark.django_db
def test_only_an_approved_business_gets_the_break_from_its_threshold(trade):
    buyer = trade["buyer"]
    # Waiting for approval: retail.
    assert basket_price(buyer, 10) == 120000
    approve(trade)
    assert basket_price(buyer, 9) == 120000
    assert basket_price(buyer, 10) == 100000
    # Growing a line past the threshold: the whole line gets the break, without a warning.
    basket = Basket.objects.create(owner=buyer)
    from oscar.core.loading import get_class

    basket.strategy = get_class("partner.strategy", "Selector")().strategy(user=buyer)
    basket.add_product(trade["durian"], 9)
    basket.add_product(trade["durian"], 1)
    [line] = basket.all_lines()
    assert line.quantity == 10 and line.unit_price_incl_tax == 100000
    assert line.line_price_incl_tax == 1000000 and line.get_warning() is None
    # Another buyer, and a rejected business: retail.
    assert basket_price(trade["other_farmer"], 10) == 120000
    services.review_business(
        business_id=trade["business"].pk,
        operator=trade["operator"],
        approve=False,
        reason="Mã số thuế không khớp tên công ty",
    )
    assert basket_price(buyer, 10) == 120000


@pytest.mark.django_db
def test_a_producer_sets_breaks_below_retail_only_and_for_its_own_products(trade):
    farm, durian = trade["farm"], trade["durian"]
    with pytest.raises(ValidationError):
        services.set_price_break(
            partner=farm.partner, product=durian, min_quantity=20, price=Decimal(120000)
        )
    with pytest.raises(ValidationError):
        services.set_price_break(
            partner=farm.partner, product=durian, min_quantity=1, price=Decimal(1000)
        )
    pepper = Product.objects.get(upc="NS0009")
    with pytest.raises(Exception):  # noqa: B017  (PermissionDenied)
        services.set_price_break(
            partner=farm.partner, product=pepper, min_quantity=10, price=Decimal(1000)
        )
    # The same threshold again replaces its price.
    services.set_price_break(
        partner=farm.partner, product=durian, min_quantity=10, price=Decimal(95000)
    )
    assert PriceBreak.objects.get(product=durian, min_quantity=10).price == 95000


@pytest.mark.django_db
def test_a_wholesale_order_carries_its_invoice_and_money_and_stock_reconcile(trade):
    approve(trade)
    client = client_for(trade["buyer"])
    order = checkout(client, {DURIAN: 10, "NS0009": 1})
    line = order.lines.get(product=trade["durian"])
    assert line.unit_price_incl_tax == 100000 and line.line_price_incl_tax == 1000000
    parcel = order.parcels.get(partner=trade["farm"].partner)
    assert parcel.goods_total == 1000000
    assert order.invoice.tax_code == "0100233488"
    assert order.invoice.company_name == "Công ty TNHH Nhà hàng Hoa Sen"

    # The producer sees the invoice details on the parcel page.
    farmer = client_for(trade["farmer"])
    page = text(farmer.get(reverse("fulfilment:producer-parcel", kwargs={"pk": parcel.pk})))
    assert "Hóa đơn GTGT" in page and "0100233488" in page and "ketoan@hoasen.vn" in page

    # Taken to the end: packed, picked up, delivered, cash collected; the books reconcile.
    fulfilment.pack(parcel, trade["farmer"])
    fulfilment.set_tracking(parcel, trade["post_office_staff"], "EB123456785VN")
    fulfilment.pick_up(parcel, trade["post_office_staff"])
    fulfilment.deliver(parcel, trade["post_office_staff"])
    parcel.refresh_from_db()
    fulfilment.collect_cod(parcel, trade["post_office_staff"], parcel.cod_amount)
    call_command("verify_ledger", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_a_buyer_without_an_approved_business_has_no_invoice(trade):
    buyer = client_for(trade["buyer"])
    order = checkout(buyer, {DURIAN: 10})
    assert order.lines.get().unit_price_incl_tax == 120000
    assert not hasattr(order, "invoice") or order.invoice is None
    # Neither the buyer's order page nor the packing slip shows an invoice block.
    page = text(buyer.get(reverse("customer:order", kwargs={"order_number": order.number})))
    assert "Hóa đơn GTGT" not in page
    parcel = order.parcels.get(partner=trade["farm"].partner)
    slip = client_for(trade["farmer"]).get(
        reverse("fulfilment:packing-slip", kwargs={"pk": parcel.pk})
    )
    assert "Hóa đơn GTGT" not in text(slip)


@pytest.mark.django_db
def test_the_invoice_details_show_on_the_buyers_order_and_the_packing_slip(trade):
    approve(trade)
    buyer = client_for(trade["buyer"])
    order = checkout(buyer, {DURIAN: 10})
    invoice_facts = (
        "Hóa đơn GTGT cho doanh nghiệp",
        "Tên doanh nghiệp",
        "Công ty TNHH Nhà hàng Hoa Sen",
        "Mã số thuế (MST)",
        "0100233488",
        "Địa chỉ ghi trên hóa đơn",
        "12 Lê Duẩn, Buôn Ma Thuột, Đắk Lắk",
        "E-mail nhận hóa đơn",
        "ketoan@hoasen.vn",
    )
    # The buyer, on their order's page (in Vietnamese).
    response = buyer.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert response.status_code == 200
    page = text(response)
    for fact in invoice_facts:
        assert fact in page, fact
    # The producer, on the packing slip they print for the parcel.
    parcel = order.parcels.get(partner=trade["farm"].partner)
    slip = client_for(trade["farmer"]).get(
        reverse("fulfilment:packing-slip", kwargs={"pk": parcel.pk})
    )
    assert slip.status_code == 200
    for fact in invoice_facts:
        assert fact in text(slip), fact


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_buyer_registers_from_the_account_and_a_bad_tax_code_comes_back(demo):
    client = client_for(users()["buyer"])
    profile = text(client.get(reverse("customer:profile-view")))
    url = reverse("wholesale:business")
    assert url == "/tai-khoan/doanh-nghiep/" and f'href="{url}"' in profile
    data = {
        "kind": "shop",
        "company_name": "HTX Nông sản Ea Kiết",
        "tax_code": "0100233480",
        "address": "Xã Ea Kiết, Đắk Lắk",
        "invoice_email": "htx@eakiet.vn",
    }
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "chữ số kiểm tra" in text(refused) and "HTX Nông sản Ea Kiết" in text(refused)
    data["tax_code"] = "0314409058-002"
    assert client.post(url, data).status_code == 302
    business = BusinessBuyer.objects.get(user=users()["buyer"])
    assert business.status == "pending" and business.tax_code == "0314409058-002"
    assert "Chờ duyệt" in text(client.get(url)) or "chờ" in text(client.get(url)).lower()


@pytest.mark.django_db
def test_the_operator_approves_from_the_queue_linked_on_its_home(
    trade, django_assert_max_num_queries
):
    operator = client_for(trade["operator"])
    home = text(operator.get(reverse("operator:home")))
    queue = reverse("wholesale:queue")
    assert f'href="{queue}"' in home
    operator.get(queue)
    with django_assert_max_num_queries(12):
        page = text(operator.get(queue))
    assert "Công ty TNHH Nhà hàng Hoa Sen" in page and "0100233488" in page
    # Everyone else: 403; a visitor signs in first.
    assert client_for(trade["buyer"]).get(queue).status_code == 403
    assert client_for(None).get(queue).status_code == 302
    approve_url = reverse("wholesale:approve", kwargs={"pk": trade["business"].pk})
    assert client_for(trade["farmer"]).post(approve_url).status_code == 403
    assert operator.get(approve_url).status_code == 405
    assert operator.post(approve_url).status_code == 302
    trade["business"].refresh_from_db()
    assert trade["business"].status == "approved"


@pytest.mark.django_db
def test_a_rejection_needs_a_reason_the_buyer_reads(trade):
    operator = client_for(trade["operator"])
    reject_url = reverse("wholesale:reject", kwargs={"pk": trade["business"].pk})
    operator.post(reject_url, {"reason": ""})
    trade["business"].refresh_from_db()
    assert trade["business"].status == "pending"
    operator.post(reject_url, {"reason": "Tên công ty không khớp mã số thuế"})
    page = text(client_for(trade["buyer"]).get(reverse("wholesale:business")))
    assert "Tên công ty không khớp mã số thuế" in page


@pytest.mark.django_db
def test_the_farmer_sets_breaks_from_its_products_page(trade):
    farmer = client_for(trade["farmer"])
    durian = trade["durian"]
    url = reverse("wholesale:price-breaks", kwargs={"pk": durian.pk})
    assert f'href="{url}"' in text(farmer.get(reverse("shop:products")))
    refused = farmer.post(url, {"min_quantity": "50", "price": "130.000"})
    assert refused.status_code == 400 and "thấp hơn giá bán lẻ" in text(refused)
    refused = farmer.post(url, {"min_quantity": "1²", "price": "90.000"})
    assert refused.status_code == 400
    assert farmer.post(url, {"min_quantity": "50", "price": "90.000"}).status_code == 302
    page = text(farmer.get(url))
    assert "90.000" in page and "100.000" in page
    found = PriceBreak.objects.get(product=durian, min_quantity=50)
    remove = reverse("wholesale:price-break-remove", kwargs={"pk": durian.pk, "break_id": found.pk})
    # Another farmer: 404 for the page and the removal.
    other = client_for(trade["other_farmer"])
    assert other.get(url).status_code == 404
    assert other.post(remove).status_code == 404
    assert farmer.post(remove).status_code == 302
    assert not PriceBreak.objects.filter(pk=found.pk).exists()


@pytest.mark.django_db
def test_the_product_page_shows_breaks_to_a_business_and_invites_others(
    trade, django_assert_max_num_queries
):
    url = trade["durian"].get_absolute_url()
    anonymous = client_for(None)
    anonymous.get(url)
    with django_assert_max_num_queries(16):  # the product page's budget
        visitor = text(anonymous.get(url))
    assert "Có giá sỉ cho cửa hàng" in visitor and reverse("wholesale:business") in visitor
    assert "100.000" not in visitor
    approve(trade)
    ordinary = client_for(trade["other_farmer"])
    business = client_for(trade["buyer"])
    counts = []
    for client in (ordinary, business):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            page = text(client.get(url))
        counts.append(len(captured))
    assert "Từ 10: 100.000" in page
    # A business buyer's page reads its price breaks in one query more, whatever they are.
    assert counts[1] <= counts[0] + 1, counts
    print(f"product page queries: visitor ≤15, signed in {counts[0]}, business {counts[1]}")


@pytest.mark.django_db
def test_the_demo_has_wholesale_prices_and_an_approved_business_buyer(demo):
    assert PriceBreak.objects.values("product").distinct().count() >= 2
    business = BusinessBuyer.objects.get(user__email="doanhnghiep@nongsan.test")
    assert business.status == "approved" and is_valid_tax_code(business.tax_code)
    assert basket_price(business.user, 10) == 105000  # durian from 10 kg
