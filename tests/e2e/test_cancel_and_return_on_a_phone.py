"""On a phone: a buyer cancels one farm's parcel of a two-farm order paid by VietQR and sees
the refund recorded once the operator has transferred it back; a post office records a
failed delivery of a cash-on-delivery parcel and its return to the farm, then hands the
cash it collected over to the marketplace, from its home."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from marketplace.finance.checks import run_checks
from marketplace.fulfilment import services as fulfilment
from marketplace.models import CodHandover, Parcel, Refund
from tests.e2e.test_member_onboarding import _sign_in
from tests.marketplace.money_world import pay, place
from tests.marketplace.test_fulfilment import s10

pytestmark = pytest.mark.e2e

User = get_user_model()


def user(email):
    return User.objects.get(email=email)


def fits(page):
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 361)
            .slice(0, 8)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide


def test_buyer_cancels_one_farms_parcel_and_sees_the_refund(phone, live_demo, browser):
    buyer, operator = user("nguoimua@nongsan.test"), user("quantri@nongsan.test")
    order = place(buyer, {"NS0005": 1, "NS0009": 2}, "vietqr")
    pay(order, operator)
    durian = order.parcels.get(partner__users__email="nongdan@nongsan.test")

    page = phone
    _sign_in(page, live_demo, "nguoimua@nongsan.test")
    page.goto(f"{live_demo}/accounts/orders/{order.number}/")
    fits(page)
    row = page.locator(f".nongsan-parcel:has(input[name=parcel][value='{durian.pk}'])")
    row.locator("summary").click()
    row.locator("select[name=reason]").select_option("mistake")
    row.get_by_role("button", name="Hủy bưu gửi này").click()
    expect(page.locator(".alert-success").first).to_contain_text("140.000")
    expect(page.locator(".nongsan-parcel[data-status=cancelled]")).to_have_count(1)
    expect(page.locator(".nongsan-money")).to_have_attribute("data-refund-pending", "140000")
    fits(page)
    refund = Refund.objects.get(order=order)
    assert (refund.method, refund.status) == ("transfer", "pending")

    # At the office the operator transfers it back and records the transfer.
    office = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in(office, live_demo, "quantri@nongsan.test")
    office.goto(f"{live_demo}/quan-tri/don-hang/{order.number}/hoan-tien/")
    form = office.locator(f"form[action$='/hoan-tien/{refund.pk}/chuyen-khoan/']")
    form.locator("select[name$=bank_bin]").select_option("970436")
    form.locator("input[name$=account_number]").fill("0123456789")
    form.locator("input[name$=account_name]").fill("Nguyen Thi Mai")
    form.get_by_role("button", name="Hiện mã VietQR").click()
    expect(office.locator(".nongsan-vietqr svg")).to_be_visible()
    form = office.locator(f"form[action$='/hoan-tien/{refund.pk}/chuyen-khoan/']")
    form.locator("input[name$=bank_reference]").fill("FT25340000123")
    form.get_by_role("button", name="Ghi nhận đã chuyển khoản").click()
    expect(office.locator(".alert-success").first).to_contain_text("140.000")
    office.context.close()

    page.reload()
    expect(page.locator(".nongsan-money")).to_have_attribute("data-refunded", "140000")
    expect(page.locator(".nongsan-payment-state")).to_have_attribute(
        "data-state", "partly_refunded"
    )


def test_post_office_fails_and_returns_a_cod_parcel(phone, live_demo):
    buyer, farmer = user("nguoimua@nongsan.test"), user("nongdan@nongsan.test")
    staff = user("buudien@nongsan.test")
    order = place(buyer, {"NS0005": 1}, "cod")
    parcel = fulfilment.pack(order.parcels.get(), farmer)
    fulfilment.set_tracking(parcel, staff, s10("77778888"))
    fulfilment.pick_up(parcel, staff)

    page = phone
    _sign_in(page, live_demo, "buudien@nongsan.test")
    page.goto(f"{live_demo}/buu-dien/buu-gui/{parcel.pk}/")
    fits(page)
    page.locator(".nongsan-fail summary").click()
    page.locator(".nongsan-fail select[name=reason]").select_option("unreachable")
    page.get_by_role("button", name="Ghi nhận giao không thành công").click()
    expect(page.locator(".alert-success").first).to_contain_text(str(order.number))
    page.locator(".nongsan-return input[name=fee]").fill("22.000")
    page.get_by_role("button", name="Đánh dấu đã chuyển hoàn về nhà sản xuất").click()
    expect(page.locator(".nongsan-returned")).to_contain_text(re.compile(r"22\.000"))
    fits(page)
    parcel = Parcel.objects.get(pk=parcel.pk)
    assert parcel.status == "returned" and parcel.return_shipping_fee == 22000

    # Another COD parcel delivered and its cash collected: handed over from the home.
    other = place(buyer, {"NS0005": 2}, "cod")
    delivered = fulfilment.pack(other.parcels.get(), farmer)
    fulfilment.set_tracking(delivered, staff, s10("77778889"))
    fulfilment.pick_up(delivered, staff)
    fulfilment.deliver(delivered, staff)
    fulfilment.collect_cod(delivered, staff, delivered.cod_amount)
    page.goto(f"{live_demo}/buu-dien/")
    page.get_by_role("link", name=re.compile("Tiền thu hộ cần bàn giao")).click()
    expect(page.locator("#waiting")).to_contain_text(str(other.number))
    fits(page)
    page.get_by_role("button", name=re.compile("^Nộp .* cho sàn$")).click()
    expect(page.locator(".alert-success").first).to_contain_text("Đã lập phiếu nộp tiền")
    expect(page.locator("table")).to_contain_text(str(other.number))
    fits(page)
    handover = CodHandover.objects.get(parcels=delivered)
    assert handover.created_by == staff and handover.amount == delivered.cod_amount
    assert run_checks() == []
