"""A buyer scans the QR code on a bag of durian: the short link opens on a 360 px phone."""

import re

import pytest
from playwright.sync_api import expect

from traceability.models import Lot

from .conftest import PHONE

pytestmark = pytest.mark.e2e

# The demo lot of Sầu riêng Ri6 (traceability.demo): a growing note, two inputs, the
# harvest, a correction of its quantity, packing.
VI_KINDS = ["Ghi chép chăm sóc", "Bón phân hoặc phun thuốc", "Thu hoạch", "Đính chính", "Đóng gói"]
EN_KINDS = ["Growing note", "Fertiliser or pesticide applied", "Harvest", "Correction", "Packing"]


def test_a_scanned_label_shows_the_timeline_and_integrity_on_a_phone(browser, phone, live_demo):
    lot = Lot.objects.get(code="DEMO-NS0005")
    events = lot.events.count()
    page = phone
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    # A phone set to English (Chromium's default here) gets the English page at once.
    page.goto(f"{live_demo}/t/{lot.short_code}/")
    expect(page).to_have_url(re.compile(rf"/en/t/{lot.short_code}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # A phone in Vietnamese gets the Vietnamese page.
    page.set_extra_http_headers({"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    requested.clear()
    response = page.goto(f"{live_demo}/t/{lot.short_code}/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sầu riêng Ri6 Krông Pắc")
    expect(page.locator("p.ok")).to_contain_text("Hồ sơ nguyên vẹn")  # record intact
    timeline = page.locator("ol.tl > li")
    expect(timeline).to_have_count(events)
    for kind in VI_KINDS:
        expect(timeline.filter(has_text=kind).first).to_be_visible()
    expect(page.locator("ol.tl li.corrected")).to_contain_text("Được đính chính bởi")
    expect(page.get_by_text("DEMO-NS0005").first).to_be_visible()

    # Readable at 360 px: nothing wider than the screen, so no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("document.body.scrollWidth") <= PHONE["width"]
    # Nothing from a CDN or third party: every request went to our own server.
    page.wait_for_load_state("networkidle")
    assert requested and all(url.startswith(live_demo) for url in requested), requested

    # The language switch in the header goes to the English page of the same lot.
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(rf"/en/t/{lot.short_code}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("p.ok")).to_contain_text("Record intact")
    expect(timeline).to_have_count(events)
    for kind in EN_KINDS:
        expect(timeline.filter(has_text=kind).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    # No JavaScript needed: the same page with scripts off shows the same.
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, java_script_enabled=False, locale="vi-VN"
    )
    try:
        plain = context.new_page()
        plain.goto(f"{live_demo}/t/{lot.short_code}/")
        expect(plain.locator("p.ok")).to_contain_text("Hồ sơ nguyên vẹn")
        expect(plain.locator("ol.tl > li")).to_have_count(events)
    finally:
        context.close()
    assert all(url.startswith(live_demo) for url in requested), requested
