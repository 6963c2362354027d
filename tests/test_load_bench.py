"""The load benchmark's visitors (bench/locustfile.py) against a live server over the demo:
the mix is the one issue 17 asks for, and every kind of visitor does its whole journey
without an error (a guest places orders, a farmer and a staff member sign in and see their
pages, scans open trace pages). Not timed: locust runs a few seconds with short think times.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from oscar.core.loading import get_model

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_mix_is_issue_17s():
    mix = _module("load_mix")
    assert mix.WEIGHTS == {"Browser": 80, "Scanner": 12, "Buyer": 5, "Worker": 3}
    assert mix.endpoint("/t/ABC123/") == "trace: short link"
    assert mix.endpoint("/01/08936000000015/10/DEMO-NS0005") == "trace: digital link"
    assert mix.endpoint("/catalogue/ca-phe-robusta_12/") == "product"
    assert mix.endpoint("/can-bo/hoi-vien/") == "staff: members"


@pytest.mark.django_db(transaction=True)
def test_every_visitor_completes_its_journey(demo, live_server, settings, tmp_path):
    # As bench/load.py serves the app: every visitor from one address, over plain HTTP
    # (a client other than a browser sends no Secure cookie to http://localhost).
    settings.RATE_LIMITS = {}
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    Order = get_model("order", "Order")
    orders_before = Order.objects.count()
    data = _module("load").scenario_data()
    assert data["products"] and data["short_links"] and data["digital_links"]
    data_path = tmp_path / "scenario.json"
    data_path.write_text(json.dumps(data), encoding="utf-8")

    # One visitor of each kind, one after the other (the live server shares one SQLite
    # connection between its threads: no two requests at once), a worker of each role.
    rows, failures = {}, []
    for visitor, role in (
        ("Browser", ""),
        ("Scanner", ""),
        ("Buyer", ""),
        ("Worker", "farmer"),
        ("Worker", "staff"),
    ):
        stats, errors = _run_locust(live_server.url, data_path, tmp_path / f"{visitor}{role}",
                                    visitor=visitor, role=role)  # fmt: skip
        failures += errors
        for name, row in stats.items():
            rows[name] = rows.get(name, 0) + row["requests"]
    assert not failures, failures
    seen = {name for name, count in rows.items() if count}
    # A scan, a signed-in worker's page, a whole checkout, and the storefront.
    assert seen & {"trace: short link", "trace: digital link"}
    assert "sign-in" in seen
    assert seen & {"farmer: shop", "farmer: products", "farmer: lots"}
    assert seen & {"staff: home", "staff: members"}
    assert "checkout: thank you" in seen
    assert seen & {"home", "catalogue", "category", "product", "search"}
    placed = rows["checkout: place order"]
    assert placed >= 1
    assert Order.objects.count() - orders_before == placed


def _run_locust(url, data_path, prefix, *, visitor, role):
    """A few seconds of one locust visitor; its stats rows by name, and its failures."""
    env = {
        **os.environ,
        "BENCH_LOAD_DATA": str(data_path),
        "BENCH_LOAD_THINK": "0.05,0.2",
        "BENCH_LOAD_ROLE": role,
        "PYTHONPATH": str(BENCH),
    }
    locust = Path(sys.executable).parent / "locust"
    subprocess.run(
        [locust, "-f", str(BENCH / "locustfile.py"), "--headless", "--users", "1",
         "--spawn-rate", "1", "--run-time", "4s", "--stop-timeout", "30",
         "--host", url, "--csv", str(prefix), "--json-file", str(prefix), "--only-summary",
         "--loglevel", "WARNING", "--exit-code-on-error", "0", visitor],
        env=env, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    return _module("load_mix").read_stats(str(prefix))
