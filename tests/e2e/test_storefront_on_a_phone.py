"""A buyer on a 360 px phone walks the storefront by tapping, from the home page to the
order status page, paying by VietQR: every page passes axe-core (no serious or critical
violation, WCAG 2.2 AA tap targets included), never scrolls sideways, keeps one compact
header with the search box, and stays light (no Oscar theme on the wire)."""

import os
import re

import pytest
from django.conf import settings
from oscar.core.loading import get_model
from playwright.sync_api import expect

from tests.conftest import need
from tests.marketplace.orders import BANK, set_settings

pytestmark = pytest.mark.e2e

Order = get_model("order", "Order")
AXE = os.path.join(settings.BASE_DIR, "node_modules", "axe-core", "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe(page, axe_source, rules=None):  # noqa: F811
    """axe-core's serious and critical violations (all WCAG 2.2 AA rules, or `rules`)."""
    page.evaluate(axe_source)
    options = (
        {"runOnly": {"type": "rule", "values": rules}}
        if rules
        else {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    )
    return page.evaluate(
        """async (options) => {
            const r = await axe.run(document, {...options, resultTypes: ["violations"]});
            return r.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => ({id: v.id, nodes: v.nodes.slice(0, 4).map(n => n.target.join(" "))}));
        }""",
        options,
    )


@pytest.fixture(scope="module")
def axe_source():
    need(os.path.exists(AXE), f"axe-core is not installed at {AXE} (`make browser` installs it)")
    with open(AXE, encoding="utf-8") as handle:
        return handle.read()


def check_page(page, axe_source, name, *, requests=None):
    """axe-core's serious and critical violations on the page (run through the browser's
    devtools protocol, so a Content-Security-Policy does not stop it), the page's width,
    the header's height, and no Oscar theme fetched."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    header = page.locator("#top_page").bounding_box()
    assert header is not None and header["height"] <= 120, (name, header)
    expect(page.locator("#top_page input[name=q]")).to_be_visible()
    result = axe(page, axe_source)
    assert result == [], f"{name}: {result}"
    if requests is not None:
        heavy = [u for u in requests if re.search(r"oscar/(css|js)/|fontawesome|webfonts", u)]
        assert heavy == [], (name, heavy)
        requests.clear()


def test_a_buyer_walks_the_storefront_and_pays_by_vietqr(phone, live_demo, axe_source):
    set_settings(**BANK)
    page = phone
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_demo}/")
    expect(page.locator(".ns-banner h1")).to_be_visible()
    check_page(page, axe_source, "home", requests=requests)

    # A category tile, then a product (its page says where it comes from).
    page.locator(".ns-tiles a", has_text="Cà phê").click()
    expect(page).to_have_url(re.compile(r"/catalogue/category/"))
    check_page(page, axe_source, "category", requests=requests)
    page.get_by_role("link", name=re.compile("Cà phê Robusta Buôn Ma Thuột")).first.click()
    origin = page.locator(".ns-origin")
    expect(origin).to_contain_text("Đắk Lắk")
    expect(origin.locator("a.ns-trace-link")).to_have_attribute("href", re.compile(r"^/t/\w+/$"))
    check_page(page, axe_source, "product", requests=requests)

    # The header's search box works from any page.
    page.locator("#top_page input[name=q]").fill("sau rieng")
    page.locator("#top_page .ns-search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=sau\+rieng"))
    check_page(page, axe_source, "search", requests=requests)
    page.locator(".nongsan-card form button[type=submit]").first.click()

    # The basket: one parcel per farm.
    page.locator("#top_page a.ns-basket").click()
    expect(page).to_have_url(re.compile(r"/basket/$"))
    expect(page.locator(".nongsan-basket-parcel")).to_have_count(1)
    check_page(page, axe_source, "basket", requests=requests)

    page.get_by_role("link", name="Tiến hành thanh toán").click()
    page.fill("#id_username", "khach@example.com")
    page.check("input[name=options][value=anonymous]")
    check_page(page, axe_source, "checkout: who", requests=requests)
    page.locator("#content_inner form[method=post] button[type=submit]").first.click()
    page.fill("#id_first_name", "Nguyễn Thị Hoa")
    page.fill("#id_phone_number", "0912 345 678")
    page.select_option("#id_province", "66")
    page.fill("#id_commune", "Ea Kao")
    page.fill("#id_line1", "Thôn 3")
    check_page(page, axe_source, "checkout: address", requests=requests)
    page.locator("#content_inner form[method=post] button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    page.check("input[name=method][value=vietqr]")
    check_page(page, axe_source, "checkout: confirm and pay", requests=requests)
    page.locator("#place-order").click()

    # The order status: the VietQR code, saved as an image or copied value by value.
    expect(page).to_have_url(re.compile(r"/checkout/thank-you/$"))
    box = page.locator(".nongsan-vietqr")
    expect(box.locator("svg")).to_be_visible()
    save = box.locator("a.nongsan-save-qr")
    expect(save).to_have_attribute("href", re.compile(r"^data:image/png;base64,"))
    expect(save).to_have_attribute("download", re.compile(r"^vietqr-.+\.png$"))
    copy_amount = box.get_by_role("button", name="Sao chép số tiền")
    expect(copy_amount).to_be_visible()  # shown by the storefront's script
    order = Order.objects.get()
    assert copy_amount.get_attribute("data-copy") == str(int(order.total_incl_tax))
    copy_amount.click()
    expect(box.locator("#vietqr-copied-amount")).to_have_text("Đã sao chép số tiền")
    check_page(page, axe_source, "order status", requests=requests)

    # The guest's order status page, from the link on this page (the browser that placed
    # the order sees it at once).
    page.locator("a[href*='/order-status/']").first.click()
    expect(page.locator(".nongsan-order-lines")).to_be_visible()
    expect(page.locator(".nongsan-vietqr a.nongsan-save-qr")).to_be_visible()
    check_page(page, axe_source, "guest order page", requests=requests)

    # Another day, another browser: the footer's "find your order", by number and e-mail.
    page.context.clear_cookies()
    page.goto(f"{live_demo}/")
    page.locator(".ns-footer a", has_text="Tra cứu đơn hàng").click()
    page.fill("input[name=number]", order.number)
    page.fill("input[name=contact]", "khach@example.com")
    check_page(page, axe_source, "order status: e-mail", requests=requests)
    page.locator("#content_inner form[method=post] button[type=submit]").first.click()
    expect(page.locator(".nongsan-order-lines")).to_be_visible()
