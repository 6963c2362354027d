"""Each role, on a 360 px phone, starts at the sign-in page, lands on its home and reaches
every main page of its role by clicking only (the header's home button brings it back);
no page scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "nongsan2026"
ROLES = {
    "farmer": ("nongdan@nongsan.test", "/cua-hang/", "Kênh người bán"),
    "farmer-by-phone": ("0905 123 404", "/cua-hang/", "Kênh người bán"),
    "association": ("canbohoi@nongsan.test", "/can-bo/", "Cán bộ Hội"),
    "post-office": ("buudien@nongsan.test", "/buu-dien/", "Bưu điện"),
    "operator": ("quantri@nongsan.test", "/quan-tri/", "Quản trị sàn"),
}


def width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def sign_in(page, base, login):
    page.goto(f"{base}/")
    page.locator("#top_page .navbar-toggler").click()
    page.locator("#login_link").click()
    page.fill("input[name=login-username]", login)
    page.fill("input[name=login-password]", PASSWORD)
    page.locator("button[name=login_submit]").click()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_its_pages_by_clicking(phone, live_demo, role):
    login, home, label = ROLES[role]
    page = phone
    sign_in(page, live_demo, login)
    expect(page).to_have_url(re.compile(re.escape(home) + "$"))
    expect(page.locator("#role_home_link")).to_have_text(label)
    assert width(page) <= 360, home

    links = page.locator(".nongsan-pages a, .nongsan-tasks a")
    count = links.count()
    assert count >= 4
    wide = {}
    for index in range(count):
        link = page.locator(".nongsan-pages a, .nongsan-tasks a").nth(index)
        href = link.get_attribute("href")
        link.click()
        page.wait_for_load_state()
        assert page.url.startswith(live_demo), href
        response_title = page.title()
        assert "404" not in response_title and "403" not in response_title, href
        # Oscar's dashboard (catalogue administration, on an office PC) has its own
        # layout: back to the operator's home through its menu.
        in_dashboard = "/dashboard/" in page.url
        if not in_dashboard and width(page) > 360:
            wide[href] = width(page)
        if in_dashboard:
            page.locator("a[href='/quan-tri/']").first.dispatch_event("click")
        else:
            # Back home with the header's button, as a person would.
            page.locator("#role_home_link").click()
        expect(page).to_have_url(re.compile(re.escape(home) + "$"))
    assert wide == {}
