"""Association staff and the operator, on a 360 px phone, reach the harvest outlook by
clicking from their home after signing in: the demo's plantings show as bars and numbers
per product and commune, the page does not scroll sideways, and the CSV downloads."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .test_role_journeys import sign_in, width
from .test_storefront_on_a_phone import axe, axe_source  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_staff_and_the_operator_read_the_harvest_outlook(phone, live_demo, axe_source):  # noqa: F811
    page = phone
    # The Ea Kiết branch: its coffee cooperative expects 400 packs of Culi in about a month.
    sign_in(page, live_demo, "canbohoi@nongsan.test")
    expect(page).to_have_url(re.compile(r"/can-bo/$"))
    page.locator(".nongsan-pages a", has_text="Triển vọng thu hoạch").click()
    expect(page).to_have_url(re.compile(r"/trien-vong-thu-hoach/$"))
    coffee = page.locator(".nongsan-outlook-row", has_text="Cà phê Culi")
    expect(coffee).to_contain_text("Dự kiến: 400 gói")
    expect(coffee.locator("svg.nongsan-outlook-chart")).to_be_visible()
    expect(page.locator(".nongsan-outlook-row", has_text="Mận hậu")).to_have_count(0)
    assert width(page) <= 360
    assert axe(page, axe_source) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "Cà phê Culi" in text and ",400," in text

    # The operator: every province, from the operator's home.
    page.context.clear_cookies()
    sign_in(page, live_demo, "quantri@nongsan.test")
    expect(page).to_have_url(re.compile(r"/quan-tri/$"))
    page.locator(".nongsan-pages a", has_text="Triển vọng thu hoạch").click()
    avocado = page.locator(".nongsan-outlook-row", has_text="Bơ 034 Lâm Đồng")
    expect(avocado).to_contain_text("Dự kiến: 2.500 kg")
    plums = page.locator(".nongsan-outlook-row", has_text="Mận hậu Mộc Châu")
    expect(plums).to_contain_text("Dự kiến: 2.300 kg")
    expect(plums).to_contain_text("Đang bán:")  # its demo lot is on sale
    assert width(page) <= 360
    page.get_by_role("link", name="Các tuần sau").click()
    expect(page).to_have_url(re.compile(r"\?week=8$"))
    assert width(page) <= 360
