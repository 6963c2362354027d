"""On a 360 px phone: the operator pays a producer out (ledger, payout batch with its
VietQR, marked paid with the bank reference) and the farmer reads the statement; no page
scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from marketplace.models import Payout, ProducerBankAccount
from marketplace.payments.state import VIETQR
from tests.e2e.test_member_onboarding import _sign_in
from tests.marketplace.settlement_helpers import DURIAN, PEPPER, deliver, order, partner

pytestmark = pytest.mark.e2e


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def test_the_operator_pays_out_a_batch_on_a_phone(phone, live_demo):  # noqa: F811
    deliver(order({DURIAN: 2, PEPPER: 1}, VIETQR))
    krongpac = partner("krongpac")
    ProducerBankAccount.objects.create(
        partner=krongpac, bank_bin="970405", number="5100201000888", holder="NGUYEN VAN HUNG"
    )
    page = phone
    _sign_in(page, live_demo, "quantri@nongsan.test")
    page.goto(f"{live_demo}/quan-tri/quyet-toan/")
    page.get_by_role("button", name="Đưa vào sổ quyết toán").click()
    expect(page.locator("#balances")).to_contain_text(krongpac.name)
    fits(page)
    form = page.locator("#payout-form")
    expect(form).to_contain_text("chưa có tài khoản ngân hàng")  # the cooperative
    form.get_by_role("button", name="Tạo đợt chi trả").click()
    expect(page).to_have_url(re.compile(r"/quan-tri/quyet-toan/dot-chi-tra/\d+/$"))
    payout = Payout.objects.get()
    section = page.locator(f"#payout-{payout.pk}")
    expect(section.locator("svg")).to_be_visible()
    expect(section).to_contain_text("5100201000888")
    fits(page)
    section.locator("input[name=reference]").fill("FT26341000999")
    section.get_by_role("button", name="Ghi nhận đã trả").click()
    expect(page.locator(f"#payout-{payout.pk}")).to_contain_text("FT26341000999")
    payout.refresh_from_db()
    assert payout.paid_at is not None and payout.reference == "FT26341000999"

    page.context.clear_cookies()
    _sign_in(page, live_demo, "nongdan@nongsan.test")
    page.goto(f"{live_demo}/cua-hang/san-pham/")
    page.get_by_role("link", name="Bảng quyết toán").click()
    expect(page.locator("#statement")).to_contain_text("Chi trả")
    expect(page.locator("#closing")).to_contain_text("0")
    fits(page)
