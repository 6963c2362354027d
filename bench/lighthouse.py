"""Lighthouse scores (performance, accessibility, best practices) of the home, product,
trace and basket pages at Lighthouse's mobile settings (a Moto G Power's screen, slow 4G
and a 4× slower CPU, simulated), served as in production (DEBUG off, collected static
files compressed by WhiteNoise, pages gzip-compressed: bench/serving.py).

Run by `make bench` (scripts/bench.sh) with DATABASE_URL and MEDIA_ROOT set: migrates and
seeds the demo data, then runs npm's `lighthouse` (package.json, exact version; 12.x runs
on Debian's Node 20) against Debian's Chromium (CHROME_PATH, default /usr/bin/chromium),
one page at a time, headless. The basket page is measured with one product in it (the
basket's cookie is passed to Lighthouse). Targets (issue 14): performance ≥ 90 and
accessibility ≥ 95.

Environment: NONGSAN_CHROMIUM (default /usr/bin/chromium); BENCH_LIGHTHOUSE_RUNS (default
1: each page once; with more the median score is printed).
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import serving  # noqa: E402 - sets up Django; the app served as in production
from django.db import connection, connections  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

CHROMIUM = os.environ.get("NONGSAN_CHROMIUM", "/usr/bin/chromium")
LIGHTHOUSE = os.path.join(serving.ROOT, "node_modules", ".bin", "lighthouse")
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 90, "accessibility": 95}
RUNS = int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", "1"))


def basket_cookie(base: str, product_path: str) -> str:
    """A session with one product in its basket, as a Cookie header: the product page's
    form posted with its CSRF token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + product_path).read().decode()
    form = re.search(r'<form[^>]*id="add_to_basket_form"[^>]*action="([^"]+)"', page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert form and token, "no add-to-basket form on the product page"
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "quantity": 1})
    request = urllib.request.Request(
        base + form.group(1), data=data.encode(), headers={"Referer": base + product_path}
    )
    opener.open(request).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def scores(url: str, workdir: str, cookie: str = "") -> dict[str, int]:
    """One Lighthouse run of `url` at its default (mobile) settings: {category: 0-100}."""
    report = os.path.join(workdir, "report.json")
    command = [
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
        "--locale=vi",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(command, check=True, env=env, cwd=workdir, timeout=300)
    with open(report, encoding="utf-8") as handle:
        categories = json.load(handle)["categories"]
    return {name: round((categories[name]["score"] or 0) * 100) for name in CATEGORIES}


def main():
    from traceability.models import Lot

    if not os.path.exists(LIGHTHOUSE):
        print("lighthouse: not installed (npm ci installs it from package.json); skipped")
        return
    Product = get_model("catalogue", "Product")
    serving.seed_demo()
    product = Product.objects.get(upc="NS0001").get_absolute_url()
    pages = {
        "home": "/",
        "product": product,
        "trace": f"/t/{Lot.objects.get(code=serving.DEMO_LOT_CODE).short_code}/",
        "basket": "/basket/",
    }
    vendor = connection.vendor
    connections.close_all()

    workdir, static_root = serving.collected_static("bench-lighthouse-")
    server = serving.Server(
        workdir,
        static_root=static_root,
        extra_env=serving.MEMORY_BROKER,
        name="lighthouse",
    )
    failures = []
    try:
        server.wait_for("/")
        base = f"http://127.0.0.1:{server.port}"
        print(
            f"lighthouse on {vendor}: mobile settings (simulated slow 4G, 4x CPU), "
            f"median of {RUNS} run(s)"
        )
        print(f"{'page':<9} {'perf':>5} {'a11y':>5} {'best':>5}")
        for name, path in pages.items():
            cookie = basket_cookie(base, product) if name == "basket" else ""
            runs = [scores(base + path, workdir, cookie) for _ in range(RUNS)]
            result = {c: round(statistics.median(r[c] for r in runs)) for c in CATEGORIES}
            print(f"{name:<9} " + " ".join(f"{result[c]:>5}" for c in CATEGORIES))
            for category, target in TARGETS.items():
                if result[category] < target:
                    failures.append(f"{name} {category} {result[category]} < {target}")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print("under target: " + "; ".join(failures))


if __name__ == "__main__":
    main()
