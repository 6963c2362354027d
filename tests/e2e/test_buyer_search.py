"""A buyer on a phone searches without diacritics, narrows to OCOP 4★, visits the
producer and buys."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_search_ca_phe_filter_ocop_4_open_producer_and_add_to_basket(phone, live_demo):
    page = phone
    page.goto(f"{live_demo}/")
    # The header's search box, on every page.
    page.locator("#top_page input[name=q]").fill("ca phe")
    page.locator("#top_page .ns-search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=ca\+phe"))
    expect(page.locator("body")).to_contain_text("Cà phê Robusta Buôn Ma Thuột rang xay 500g")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Filters are folded on a phone: open them, choose OCOP 4★.
    page.locator("details.nongsan-filters > summary").click()
    page.locator("details.nongsan-filters").get_by_role("link", name="4★", exact=True).click()
    expect(page).to_have_url(re.compile(r"stars=4"))
    cards = page.locator(".nongsan-card")
    expect(cards.first).to_be_visible()
    for i in range(cards.count()):
        expect(cards.nth(i).locator(".nongsan-badge-ocop")).to_have_text(re.compile("OCOP 4★"))
    expect(page.locator("body")).to_contain_text("Cà phê Robusta Buôn Ma Thuột rang xay 500g")

    # Open the producer's shop from the card.
    card = cards.filter(has_text="Cà phê Robusta Buôn Ma Thuột rang xay 500g").first
    card.get_by_role("link", name="Hợp tác xã Cà phê Công bằng Ea Kiết").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hợp tác xã Cà phê Công bằng Ea Kiết")
    expect(page.locator("body")).to_contain_text("Đắk Lắk")
    expect(page.locator(".nongsan-badge").first).to_be_visible()

    # Buy from the shop page.
    shop_card = page.locator(".nongsan-card").filter(
        has_text="Cà phê Robusta Buôn Ma Thuột rang xay 500g"
    )
    shop_card.get_by_role("button", name="Thêm vào giỏ hàng").click()
    page.goto(f"{live_demo}/basket/")
    expect(page.locator("body")).to_contain_text("Cà phê Robusta Buôn Ma Thuột rang xay 500g")
    expect(page.locator("body")).to_contain_text(re.compile(r"145\.000\s₫"))
