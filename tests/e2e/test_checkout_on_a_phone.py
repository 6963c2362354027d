"""A guest on a phone buys from two farms, pays cash on delivery and sees two parcels."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import expect

from marketplace.models import Parcel

pytestmark = pytest.mark.e2e

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")


def add_to_basket(page, base, upc):
    page.goto(base + Product.objects.get(upc=upc).get_absolute_url())
    page.locator("#add_to_basket_form").get_by_role("button", name="Thêm vào giỏ hàng").click()
    expect(page.locator(".alert-success").first).to_be_visible()


def fill_address(page):
    page.fill("#id_first_name", "Nguyễn Thị Hoa")
    page.fill("#id_phone_number", "0912 345 678")
    page.select_option("#id_province", "66")
    page.fill("#id_commune", "Ea Kao")
    page.fill("#id_line1", "Thôn 3")


def test_guest_pays_cash_on_delivery_for_two_farms_and_sees_two_parcels(phone, live_demo):
    page = phone
    add_to_basket(page, live_demo, "NS0005")  # durian, Krông Pắc (Đắk Lắk)
    add_to_basket(page, live_demo, "NS0009")  # pepper, Chư Sê (Gia Lai)

    page.goto(f"{live_demo}/checkout/")
    page.fill("#id_username", "khach@example.com")
    page.check("input[name=options][value=anonymous]")
    page.locator("form[method=post] button[type=submit]").first.click()

    # A wrong phone number is refused with a Vietnamese message; nothing is lost.
    fill_address(page)
    page.fill("#id_phone_number", "12345")
    page.locator("form[method=post] button[type=submit]").first.click()
    expect(page.locator("body")).to_contain_text("Nhập số điện thoại Việt Nam")
    expect(page.locator("#id_first_name")).to_have_value("Nguyễn Thị Hoa")
    page.fill("#id_phone_number", "0912 345 678")
    page.locator("form[method=post] button[type=submit]").first.click()

    # One page confirms the order: where it goes, what is in it, the total, how to pay
    # (cash on delivery is the default) and the button that places it.
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    expect(page.locator("h1")).to_have_text("Xác nhận đơn hàng")
    expect(page.locator("#content_inner")).to_contain_text("Nguyễn Thị Hoa")
    expect(page.locator("#content_inner")).to_contain_text("Nội dung đơn hàng")
    expect(page.locator("input[name=method][value=cod]")).to_be_checked()
    expect(page.locator("body")).to_contain_text("Thanh toán khi nhận hàng")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#place-order").click()

    expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"))
    order = Order.objects.get()
    parcels = page.locator(".nongsan-parcel")
    expect(parcels).to_have_count(2)
    expect(parcels.nth(0)).to_contain_text("Chờ đóng gói")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert Parcel.objects.filter(order=order).count() == 2
    assert order.total_incl_tax == sum(p.cod_amount for p in order.parcels.all())
