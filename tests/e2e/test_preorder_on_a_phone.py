"""On a phone: a buyer pre-orders durian from its product page ("Sắp thu hoạch"); the
farmer, once the harvest is in, converts the pre-orders into orders from the lot on the
seller channel; the buyer then sees the order among their pre-orders, with its lot's
trace link."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from marketplace.finance.checks import run_checks
from marketplace.models import Preorder
from tests.e2e.test_cancel_and_return_on_a_phone import fits
from tests.e2e.test_member_onboarding import _sign_in
from tests.marketplace import preorder_world as world

pytestmark = pytest.mark.e2e

User = get_user_model()


def test_buyer_pre_orders_durian_and_sees_the_order_with_its_trace_link(phone, live_demo, browser):
    buyer = User.objects.get(email="nguoimua@nongsan.test")
    farmer = User.objects.get(email="nongdan@nongsan.test")
    world.give_address(buyer)
    window = world.window(farmer, cap=20, price=190000, deposit_percent=0)
    product = world.durian()

    page = phone
    _sign_in(page, live_demo, "nguoimua@nongsan.test")
    page.goto(f"{live_demo}{product.get_absolute_url()}")
    page.locator(".nongsan-coming a.nongsan-preorder-link").first.click()
    expect(page).to_have_url(re.compile(f"/dat-truoc/{window.pk}/"))
    fits(page)
    page.fill("#preorder_form input[name=quantity]", "2")
    page.locator("#preorder_form button[type=submit]").click()
    expect(page).to_have_url(re.compile("/dat-truoc/cua-toi/"))
    expect(page.locator(".nongsan-my-preorder[data-status=placed]")).to_have_count(1)
    fits(page)

    # The harvest is in: the farmer converts the pre-orders from its lot, on its phone.
    desk = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True).new_page()
    _sign_in(desk, live_demo, "nongdan@nongsan.test")
    desk.goto(f"{live_demo}/cua-hang/")
    desk.locator("a[href$='/cua-hang/dat-truoc/']").first.click()
    desk.locator(f"a[href$='/cua-hang/dat-truoc/{window.pk}/']").click()
    fits(desk)
    lot = world.lot_of(window)
    desk.locator("select[name=lot]").select_option(str(lot.pk))
    desk.fill("input[name=quantity]", "2")
    desk.locator("#convert_preorders").click()
    expect(desk.locator(".alert-success").first).to_be_visible()
    desk.context.close()

    preorder = Preorder.objects.get(window=window, user=buyer)
    assert preorder.status == "converted" and preorder.converted == 2
    page.reload()
    page.locator(".nongsan-my-preorder a.nongsan-preorder-order").click()
    expect(page).to_have_url(re.compile(f"/accounts/orders/{preorder.order.number}/"))
    expect(page.locator(".nongsan-trace-link a")).to_have_count(1)
    expect(page.locator(".nongsan-trace-link")).to_contain_text(lot.code)
    fits(page)
    assert run_checks() == []
