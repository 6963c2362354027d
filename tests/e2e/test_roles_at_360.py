"""Every page of each role's URL list (the list the translation test walks,
tests/marketplace/test_i18n_roles.role_pages, Oscar's dashboard pages the operator uses
included), and every link of the role's menus, on a 360 px phone: nothing scrolls sideways,
no tap target is smaller than 24 × 24 px without room around it (axe-core's WCAG 2.2
target-size rule), and each role's home has no serious or critical axe-core violation.
Then the trace page and the order pages (signed in, and a guest's found by number and
phone) pass axe-core too."""

import json
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from oscar.core.loading import get_model
from playwright.sync_api import expect

from tests.e2e.test_no_csp_violations import sign_in
from tests.e2e.test_role_journeys import width
from tests.e2e.test_storefront_on_a_phone import axe, axe_source  # noqa: F401 (fixture)
from tests.marketplace.orders import checkout
from tests.marketplace.test_i18n_roles import (
    ASSOCIATION,
    BUYER,
    FARMER,
    OPERATOR,
    POST_OFFICE,
    role_pages,
    with_demo_orders,
)
from traceability.models import Lot

pytestmark = pytest.mark.e2e

Order = get_model("order", "Order")
ROLES = {
    "buyer": BUYER,
    "farmer": FARMER,
    "association": ASSOCIATION,
    "post-office": POST_OFFICE,
    "operator": OPERATOR,
}
MENUS = "#top_page a[href], .nongsan-pages a[href], .nongsan-tasks a[href], .ns-footer a[href]"
# Links that leave the walk: signing out, the other language, downloads.
SKIP = re.compile(r"^/(en/|accounts/logout/|i18n/)|\.(csv|pdf|xlsx|json)$|/xuat|/tai-ve")


def menu_paths(page, base) -> set[str]:
    found = set()
    for href in page.eval_on_selector_all(MENUS, "links => links.map(a => a.href)"):
        parts = urlsplit(href)
        if href.startswith(base) and not parts.fragment and not SKIP.search(parts.path):
            found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_each_role_fits_a_360_px_phone(phone, live_demo, axe_source, role):  # noqa: F811
    with_demo_orders()
    email = ROLES[role]
    page = phone
    sign_in(page, live_demo, email)
    home = urlsplit(page.url).path
    problems = {}
    violations = axe(page, axe_source)
    if violations:
        problems[f"axe on the home {home}"] = violations
    paths = set(role_pages()[email]) | menu_paths(page, live_demo)
    for path in sorted(paths):
        response = page.goto(live_demo + path)
        if response is None or response.status >= 400:
            problems[path] = f"answers {response and response.status}"
            continue
        if "/accounts/login/" in page.url and path != "/accounts/login/":
            problems[path] = "signed out"
            continue
        measured = width(page)
        if measured > 360:
            problems[path] = f"{measured} px wide"
        targets = axe(page, axe_source, rules=["target-size"])
        if targets:
            problems[f"{path} tap targets"] = targets[0]["nodes"]
    assert not problems, f"{role}: " + json.dumps(problems, indent=1, ensure_ascii=False)


def test_the_trace_page_and_order_pages_pass_axe(phone, live_demo, axe_source):  # noqa: F811
    with_demo_orders()
    page = phone
    page.set_extra_http_headers({"Accept-Language": "vi-VN,vi;q=0.9"})
    lot = Lot.objects.get(code="DEMO-NS0005")
    page.goto(f"{live_demo}/t/{lot.short_code}/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    assert axe(page, axe_source) == [], "trace page"

    # A guest's order, found by its number and the delivery phone however typed.
    guest = checkout(Client(), {"NS0005": 1}, guest_email="0912 345 678")
    page.goto(f"{live_demo}/")
    page.locator(".ns-footer a", has_text="Tra cứu đơn hàng").click()
    assert axe(page, axe_source) == [], "order-status form"
    page.fill("input[name=number]", guest.number)
    page.fill("input[name=contact]", "+84 912 345 678")
    page.locator("#content_inner form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(guest.number)
    assert width(page) <= 360
    assert axe(page, axe_source) == [], "guest's order page"

    # A signed-in buyer's order page.
    buyer = get_user_model().objects.get(email=BUYER)
    order = Order.objects.filter(user=buyer).order_by("number").first()
    sign_in(page, live_demo, BUYER)
    page.goto(f"{live_demo}/accounts/orders/{order.number}/")
    expect(page.locator("h1")).to_contain_text(order.number)
    assert width(page) <= 360
    assert axe(page, axe_source) == [], "buyer's order page"
