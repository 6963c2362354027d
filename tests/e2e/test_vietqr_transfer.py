"""A buyer on a phone pays by VietQR transfer; the operator marks the transfer received at
the office; the buyer's order page then says it is paid and the farm may pack it."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import expect

from marketplace.models import MarketplaceSettings
from tests.e2e.test_checkout_on_a_phone import add_to_basket, fill_address
from tests.e2e.test_member_onboarding import _sign_in

pytestmark = pytest.mark.e2e

Order = get_model("order", "Order")


@pytest.fixture
def office(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_buyer_pays_by_vietqr_and_the_operator_marks_it_received(phone, office, live_demo):
    row = MarketplaceSettings.load()
    row.bank_bin, row.bank_name = "970405", "Agribank"
    row.bank_account_number, row.bank_account_name = "1500201234567", "CONG TY NONG SAN"
    row.save()

    page = phone
    _sign_in(page, live_demo, "nguoimua@nongsan.test")
    add_to_basket(page, live_demo, "NS0005")
    page.goto(f"{live_demo}/checkout/shipping-address/")
    fill_address(page)
    page.locator("form[method=post] button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    page.check("input[name=method][value=vietqr]")
    page.locator("#place-order").click()

    expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"))
    order = Order.objects.get()
    qr = page.locator(".nongsan-vietqr")
    expect(qr.locator("svg")).to_be_visible()
    expect(qr).to_contain_text("1500201234567")
    expect(qr).to_contain_text(order.number)
    expect(page.locator(".nongsan-payment-state")).to_contain_text("Chờ chuyển khoản")

    # At the office: the transfer has arrived on the bank statement.
    _sign_in(office, live_demo, "quantri@nongsan.test")
    office.goto(f"{live_demo}/quan-tri/chuyen-khoan/")
    form = office.locator(f"form[action$='/don-hang/{order.pk}/da-nhan/']")
    expect(form.locator("input[name=amount]")).to_have_value(re.compile(r"140[.,]?000"))
    form.locator("input[name=note]").fill("FT25329000777")
    form.get_by_role("button", name="Ghi nhận đã nhận").click()
    expect(office.locator(f"form[action$='/don-hang/{order.pk}/da-nhan/']")).to_have_count(0)

    page.goto(f"{live_demo}/accounts/orders/{order.number}/")
    expect(page.locator(".nongsan-payment-state")).to_contain_text("Đã trả")
    expect(page.locator(".nongsan-vietqr")).to_have_count(0)
    assert order.bank_transfers.get().amount == order.total_incl_tax
