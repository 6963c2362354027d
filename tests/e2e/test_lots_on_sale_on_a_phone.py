"""A farmer, on a 360 px phone, puts a harvested lot on sale by clicking from the seller's
home, and sees the product's stock lot by lot."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.catalogue import stock
from tests.traceability.test_lots_on_sale import new_lot, record

from .test_role_journeys import sign_in, width

pytestmark = pytest.mark.e2e


def test_a_farmer_puts_a_lot_on_sale_and_sees_the_stock(phone, live_demo):
    lot = new_lot("VUON-3", quantity="1.2", unit="tạ")  # 120 kg of Ri6 durian, harvested
    page = phone
    sign_in(page, live_demo, "nongdan@nongsan.test")
    expect(page).to_have_url(re.compile(r"/cua-hang/$"))

    page.locator(".nongsan-pages a", has_text="Lô hàng và nhãn QR").click()
    page.locator("a.nongsan-lot-row", has_text="VUON-3").click()
    expect(page).to_have_url(re.compile(rf"/lo-hang/{lot.pk}/$"))
    page.get_by_role("link", name="Đưa lên bán").click()
    quantity = page.locator("#id_quantity")
    expect(quantity).to_have_value("120")  # 1,2 tạ in the product's unit, the kg
    assert width(page) <= 360
    quantity.fill("100")
    page.get_by_role("button", name="Đưa lên bán").click()

    expect(page).to_have_url(re.compile(r"/lo-hang/dang-ban/$"))
    expect(page.get_by_role("alert").or_(page.locator(".alert-success")).first).to_contain_text(
        "VUON-3"
    )
    durian = page.locator(".nongsan-lot-row", has_text="Sầu riêng Ri6 Krông Pắc")
    expect(durian).to_contain_text("Còn 100 kg để bán")
    expect(durian).to_contain_text("còn 100 / 100 kg")
    assert width(page) <= 360
    assert stock.available(record()) == 100

    # The seller's home links the page too.
    page.locator("#role_home_link").click()
    page.locator(".nongsan-pages a", has_text="Lô hàng đang bán").click()
    expect(page.locator(".nongsan-lot-row", has_text="VUON-3")).to_be_visible()
