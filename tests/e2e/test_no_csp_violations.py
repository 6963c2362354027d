"""The strict Content-Security-Policy breaks no page: a real browser records no violation
(no inline script, no on* handler, nothing from an origin the policy does not name) on the
key pages of every role, the checkout steps and the card page with Stripe.js (faked here at
its own origins, which the card page's policy must allow)."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import expect

from tests.marketplace.test_stripe_fake import fake_stripe, stripe_keys
from traceability.models import Lot

pytestmark = pytest.mark.e2e
__all__ = ["fake_stripe", "stripe_keys"]

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
PASSWORD = "nongsan2026"

# Listens before any page script runs (Playwright's init scripts are not subject to the CSP).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " @" + e.sourceFile
      + ":" + e.lineNumber
  );
});
"""

# A stand-in for Stripe.js: mounts a frame from js.stripe.com and calls api.stripe.com, as
# the real one does, and says "ready" so that the page shows its pay button.
FAKE_STRIPE_JS = """
window.Stripe = function () {
  return {
    elements: function () {
      return {
        create: function () {
          var handlers = {};
          return {
            on: function (name, fn) { handlers[name] = fn; },
            mount: function (selector) {
              var frame = document.createElement("iframe");
              frame.src = "https://js.stripe.com/v3/elements-inner.html";
              document.querySelector(selector).appendChild(frame);
              fetch("https://api.stripe.com/v1/elements/sessions").then(function () {
                if (handlers.ready) { handlers.ready(); }
              });
            }
          };
        }
      };
    },
    confirmPayment: function () { return Promise.resolve({error: {message: "fake"}}); }
  };
};
"""


@pytest.fixture
def watched(phone):
    page = phone
    page.add_init_script(WATCH)
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    page.route(
        "https://js.stripe.com/v3/",
        lambda route: route.fulfill(body=FAKE_STRIPE_JS, content_type="application/javascript"),
    )
    page.route(
        "https://js.stripe.com/v3/elements-inner.html",
        lambda route: route.fulfill(body="<!doctype html><p>card</p>", content_type="text/html"),
    )
    page.route(
        "https://api.stripe.com/**",
        lambda route: route.fulfill(
            body="{}",
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    page.console_seen = console
    return page


def visit(page, seen, url=None):
    """Load url (or stay), let its scripts run, and note any violation."""
    if url is not None:
        page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)
    found = page.evaluate("window.__csp || []") + page.console_seen
    seen[page.url] = list(found)
    page.console_seen.clear()


def sign_in(page, base, login):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login-username]", login)
    page.fill("input[name=login-password]", PASSWORD)
    page.locator("button[name=login_submit]").click()
    page.wait_for_load_state()


def test_no_page_breaks_the_content_security_policy(watched, live_demo, stripe_keys):
    page, base, seen = watched, live_demo, {}

    # The watch works: an inline script added to the page is refused and recorded.
    page.goto(f"{base}/")
    page.evaluate(
        "var s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        "document.body.appendChild(s)"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.ran") is None
    assert any("script-src" in v for v in page.evaluate("window.__csp"))
    page.console_seen.clear()

    # A guest: home, a product, the basket, every checkout step, paying by card.
    visit(page, seen, f"{base}/")
    visit(page, seen, base + Product.objects.get(upc="NS0005").get_absolute_url())
    page.locator("#add_to_basket_form").get_by_role("button", name="Thêm vào giỏ hàng").click()
    visit(page, seen, f"{base}/basket/")
    visit(page, seen, f"{base}/search/?q=ca+phe")
    visit(page, seen, f"{base}/checkout/")
    page.fill("#id_username", "khach@example.com")
    page.check("input[name=options][value=anonymous]")
    page.locator("form[method=post] button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/checkout/shipping-address/$"))
    visit(page, seen)
    page.fill("#id_first_name", "Nguyễn Thị Hoa")
    page.fill("#id_phone_number", "0912 345 678")
    page.select_option("#id_province", "66")
    page.fill("#id_commune", "Ea Kao")
    page.fill("#id_line1", "Thôn 3")
    page.locator("form[method=post] button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/checkout/payment-details/$"))
    visit(page, seen)
    page.check("input[name=method][value=stripe]")
    page.locator("#place-order").click()
    page.wait_for_load_state()
    visit(page, seen)
    order = Order.objects.get()
    visit(page, seen, f"{base}/thanh-toan/the/{order.number}/")
    # Stripe's script ran and mounted its frame: the pay button shows.
    expect(page.locator("#nongsan-card-submit")).to_be_visible()
    expect(page.locator("#nongsan-card-element iframe")).to_have_count(1)
    visit(page, seen)

    # A buyer scanning a label.
    lot = Lot.objects.get(code="DEMO-NS0005")
    visit(page, seen, f"{base}/t/{lot.short_code}/")

    # Each role's home, signed in through the sign-in page.
    for login, home in [
        ("nongdan@nongsan.test", "/cua-hang/"),
        ("canbohoi@nongsan.test", "/can-bo/"),
        ("buudien@nongsan.test", "/buu-dien/"),
        ("quantri@nongsan.test", "/quan-tri/"),
    ]:
        page.context.clear_cookies()
        sign_in(page, base, login)
        expect(page).to_have_url(re.compile(re.escape(home) + "$"))
        visit(page, seen)
    # The operator's dashboard pages run Oscar's dashboard scripts from static files.
    visit(page, seen, f"{base}/dashboard/")
    visit(page, seen, f"{base}/dashboard/catalogue/")
    visit(page, seen, f"{base}/dashboard/orders/")
    # A product's form: rich-text editor (TinyMCE), date pickers, image upload previews.
    product = Product.objects.get(upc="NS0005")
    visit(page, seen, f"{base}/dashboard/catalogue/products/{product.pk}/")
    expect(page.locator(".tox-tinymce").first).to_be_visible()
    visit(page, seen)

    assert len(seen) >= 16  # pages (the card page is seen twice)
    assert {url: found for url, found in seen.items() if found} == {}
