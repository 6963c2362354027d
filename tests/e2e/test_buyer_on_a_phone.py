"""A buyer on a cheap phone browses in Vietnamese, fills a basket, switches to English."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_buyer_browses_adds_to_basket_and_switches_language(phone, live_demo):
    page = phone
    page.goto(f"{live_demo}/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    # Usable at 360 px: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("link", name="Gạo", exact=True).first.click()
    expect(page.get_by_role("heading", name="Gạo", exact=True)).to_be_visible()
    page.get_by_role("link", name=re.compile("Gạo ST25 Sóc Trăng")).first.click()
    expect(page.locator(".price_color").first).to_have_text(re.compile(r"185\.000\s₫"))

    page.get_by_role("button", name="Thêm vào giỏ hàng").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    page.goto(f"{live_demo}/basket/")
    expect(page.get_by_text("Gạo ST25 Sóc Trăng túi 5kg").first).to_be_visible()
    expect(page.locator("body")).to_contain_text(re.compile(r"185\.000\s₫"))

    # Switch to English from the language menu (collapsed behind the toggler on a phone).
    page.locator("#top_page .navbar-toggler").click()
    page.locator("#language_selector select").select_option("en")
    page.locator("#language_selector button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/en/basket/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("body")).to_contain_text("Gạo ST25 Sóc Trăng túi 5kg")
    expect(page.locator("body")).to_contain_text(re.compile(r"₫185,000"))


def test_unknown_page_shows_a_friendly_vietnamese_404(phone, live_demo):
    response = phone.goto(f"{live_demo}/khong-co-trang-nay/")
    assert response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Trang không tìm thấy")
    expect(phone).to_have_title(re.compile("Không tìm thấy trang"))
