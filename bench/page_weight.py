"""Page weight: bytes a phone transfers on a cold visit to the storefront, as production
serves it (DEBUG off, collected static files, WhiteNoise's compressed copies).

Run by `make bench` (scripts/bench.sh) with DATABASE_URL and MEDIA_ROOT set: migrates and
seeds the demo data, collects the static files into a throw-away STATIC_ROOT, serves the
app with gunicorn (bench/serving.py's Server) and opens each page in Debian's Chromium
(Playwright, 360 px wide, an empty cache each time). Bytes are what went over the wire
(Chrome's encodedDataLength: headers and compressed bodies), per kind of resource.

Pages: home, catalogue, category, product, basket (with one product in it) and the demo
lot's trace page. Targets (DESIGN.md): ≤ 200 KiB for a storefront page (this project aims
at ≤ 150 KiB), ≤ 40 KiB for the trace page with its photo.

Environment: NONGSAN_CHROMIUM (default /usr/bin/chromium).
"""

import os
import shutil

import serving  # noqa: E402 - sets up Django; the app served as in production
from django.db import connection, connections  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

CHROMIUM = os.environ.get("NONGSAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}
KINDS = ("Document", "Stylesheet", "Script", "Font", "Image")
STOREFRONT_TARGET_KIB = 150
TRACE_TARGET_KIB = 40

# Measured with this benchmark before the storefront had its own stylesheet (main at
# eb34900, SQLite, demo data; static files already compressed by WhiteNoise, pages not):
# KiB transferred. Oscar's theme alone was 47 KiB of CSS, 56 KiB of JavaScript and a
# 111 KiB icon font on every page. (With DEBUG on, uncompressed: 613-672 KiB.)
BEFORE = {
    "home": 256.5,
    "catalogue": 303.9,
    "category": 263.7,
    "product": 232.7,
    "basket": 236.3,
    "trace": 17.3,
}


def measure(browser, base: str, path: str, *, prepare=None) -> dict:
    """{kind: bytes} transferred for one cold visit of `path` (a fresh browser context:
    no cache, no cookies), after `prepare(page)` when given (its traffic not counted)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    try:
        page = context.new_page()
        if prepare is not None:
            prepare(page)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        kinds: dict[str, str] = {}
        sizes: dict[str, int] = {}

        def on_response(event):
            kinds[event["requestId"]] = event.get("type", "Other")

        def on_finished(event):
            sizes[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        response = page.goto(base + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response)
        page.wait_for_timeout(300)  # late requests (lazy images in view)
        totals = dict.fromkeys((*KINDS, "Other"), 0)
        for request_id, size in sizes.items():
            kind = kinds.get(request_id, "Other")
            totals[kind if kind in totals else "Other"] += size
        return totals
    finally:
        context.close()


def main():
    from playwright.sync_api import sync_playwright

    from traceability.models import Lot

    Product = get_model("catalogue", "Product")
    Category = get_model("catalogue", "Category")
    serving.seed_demo()
    product = Product.objects.get(upc="NS0001")
    pages = {
        "home": "/",
        "catalogue": "/catalogue/",
        "category": Category.objects.get(name="Cà phê").get_absolute_url(),
        "product": product.get_absolute_url(),
        "basket": "/basket/",
        "trace": f"/t/{Lot.objects.get(code=serving.DEMO_LOT_CODE).short_code}/",
    }
    vendor = connection.vendor
    connections.close_all()

    workdir, static_root = serving.collected_static("bench-weight-")
    server = serving.Server(
        workdir,
        static_root=static_root,
        extra_env=serving.MEMORY_BROKER,
        name="weight",
    )
    failures = []
    try:
        server.wait_for("/")
        base = f"http://127.0.0.1:{server.port}"

        def fill_basket(page):
            page.goto(base + product.get_absolute_url())
            page.locator("#add_to_basket_form button[type=submit]").first.click()
            page.wait_for_load_state("load")

        print(
            f"page weight on {vendor}: cold visit at 360 px in Chromium, "
            "KiB transferred (headers + compressed bodies)"
        )
        header = " ".join(f"{k.lower()[:6]:>7}" for k in KINDS)
        print(f"{'page':<10} {header} {'total':>7} {'before':>7} {'target':>7}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, path in pages.items():
                    prepare = fill_basket if name == "basket" else None
                    totals = measure(browser, base, path, prepare=prepare)
                    total = sum(totals.values()) / 1024
                    target = TRACE_TARGET_KIB if name == "trace" else STOREFRONT_TARGET_KIB
                    cells = " ".join(f"{totals[k] / 1024:>7.1f}" for k in KINDS)
                    before = BEFORE.get(name)
                    print(
                        f"{name:<10} {cells} {total:>7.1f} "
                        f"{before if before is not None else '-':>7} {target:>7}"
                    )
                    if total > target:
                        failures.append(f"{name}: {total:.1f} KiB > {target} KiB")
            finally:
                browser.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("over target: " + "; ".join(failures))


if __name__ == "__main__":
    main()
