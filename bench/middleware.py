"""What the middleware stack costs each response, in-process (no network, no gunicorn):
the warm trace page (answered by traceability.middleware from the cache) and a static file
(WhiteNoise), both behind the production middleware (request id and JSON access line,
Prometheus, CSP, Permissions-Policy, the malformed-request guard, gzip), with DEBUG off.

Reports, for each, the median and range of BENCH_MW_RUNS (default 7) runs of
BENCH_MW_REQUESTS (default 300) requests in CPU time per request (process time: less
disturbed than the wall clock by other work on the machine), and the number of Python
function calls per request (cProfile; exact and repeatable).

Run by `make bench` after trace.py, on the same database (seeds the demo when it lacks it).
"""

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
LOT_CODE = "DEMO-NS0005"  # serving.DEMO_LOT_CODE (the child does not import serving)
RUNS = int(os.environ.get("BENCH_MW_RUNS", "7"))
REQUESTS = int(os.environ.get("BENCH_MW_REQUESTS", "300"))


def parent():
    """Seed when needed, then measure in a child process started as in production."""
    import serving  # sets up Django (bench/ is first on sys.path)
    from django.core.management import call_command

    from traceability.models import Lot

    call_command("migrate", verbosity=0)
    if not Lot.objects.filter(code=LOT_CODE).exists():
        serving.seed_demo()
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "var")) as static_root:
        with open(os.path.join(static_root, "bench-static.txt"), "wb") as f:
            f.write(b"x" * 20_000)
        env = serving.production_env(static_root)
        env.update(serving.MEMORY_BROKER)
        env["BENCH_MW_CHILD"] = "1"
        subprocess.run([sys.executable, __file__], cwd=ROOT, env=env, check=True)


def child():
    import cProfile
    import pstats
    import time

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from marketplace.core.handlers import ResolvingWSGIHandler
    from traceability.models import Lot

    # The served app's handler (config.wsgi): kept trace pages answered before the stack.
    handler = ResolvingWSGIHandler()
    lot = Lot.objects.get(code=LOT_CODE)

    def call(path):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "RAW_URI": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_ACCEPT_LANGUAGE": "vi",
            "HTTP_USER_AGENT": "bench",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        status = []
        body = handler(environ, lambda s, h, e=None: status.append(s))
        b"".join(body)
        if hasattr(body, "close"):  # a kept trace page: a list
            body.close()
        assert status[0].startswith("200"), (path, status)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    print(f"middleware cost in-process, DEBUG off, {RUNS} runs x {REQUESTS} requests")
    print(f"{'what':<24} {'CPU µs/request: median':>24} {'(min-max)':>16} {'calls/request':>14}")
    trace = f"/t/{lot.short_code}/"
    cold = override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    )
    for name, path, cache_settings, requests in (
        ("trace page, warm", trace, contextlib.nullcontext(), REQUESTS),
        ("static file", "/static/bench-static.txt", contextlib.nullcontext(), REQUESTS),
        # As bench/trace.py's cold server: every cache layer misses, the whole view runs.
        ("trace page, cold", trace, cold, max(REQUESTS // 10, 10)),
    ):
        with cache_settings:
            for _ in range(max(requests // 6, 5)):
                call(path)
            runs = []
            for _ in range(RUNS):
                start = time.process_time()
                for _ in range(requests):
                    call(path)
                runs.append((time.process_time() - start) / requests * 1e6)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                call(path)
            profile.disable()
            with CaptureQueriesContext(connection) as queries:
                call(path)
        calls = pstats.Stats(profile).total_calls / 20
        spread = f"({min(runs):.0f}-{max(runs):.0f})"
        print(
            f"{name:<24} {statistics.median(runs):>24.0f} {spread:>16} {calls:>14.0f}"
            f"   {len(queries)} queries"
        )
        if name == "trace page, cold" and os.environ.get("BENCH_MW_PROFILE"):
            stats = pstats.Stats(profile)
            stats.sort_stats(os.environ.get("BENCH_MW_PROFILE"))
            stats.print_stats(int(os.environ.get("BENCH_MW_PROFILE_TOP", "50")))


if __name__ == "__main__":
    if os.environ.get("BENCH_MW_CHILD"):
        # The access log goes to stderr as in production; keep it off the results.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        child()
    else:
        parent()
