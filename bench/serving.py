"""The app served as in production, for the benchmarks that measure pages over HTTP
(trace.py, checkout.py, lighthouse.py, page_weight.py, load.py): one gunicorn started and
stopped by the benchmark, with DEBUG off, the static files collected and served by
WhiteNoise, over plain HTTP on 127.0.0.1.

Importing this module sets up Django for the benchmark's own process (DEBUG on unless the
environment says otherwise, so that `seed_demo` may run): set DATABASE_URL and the like
before importing it. A benchmark runs as `python bench/NAME.py`, which puts bench/ first
on sys.path, so `import serving` finds this file.
"""

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

# The demo lot every page benchmark opens the trace page of.
DEMO_LOT_CODE = "DEMO-NS0005"


def seed_demo(**options) -> None:
    """Migrate, then load the demo marketplace (as `make run` does), keeping its console
    SMS and e-mails out of the results."""
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        call_command("seed_demo", force=True, stdout=devnull, **options)


def production_env(static_root: str) -> dict:
    """The environment of a gunicorn (or collectstatic, or Celery worker) as in production
    (DEBUG off, static files collected into `static_root`), over plain HTTP on 127.0.0.1
    and from one address: no redirect to HTTPS, no throttles."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG")}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Required with DEBUG off (encrypts citizen IDs): the benchmark's own when it
            # set one before seeding (load.py: staff pages read members), else throw-away.
            "PERSONAL_DATA_KEY": os.environ.get("PERSONAL_DATA_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": static_root,
            "LOG_LEVEL": "WARNING",
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "RATE_LIMITS_ENABLED": "0",
            # The key the demo's trace records were signed with (DEBUG made it).
            "TRACE_SIGNING_KEY": settings.TRACE_SIGNING_KEY or "",
            "TRACE_SIGNING_KEY_FILE": settings.TRACE_SIGNING_KEY_FILE or "",
        }
    )
    return env


def collected_static(prefix: str) -> tuple[str, str]:
    """A throw-away work folder under var/ and the static files collected into it, as
    production serves them: (workdir, static_root)."""
    os.makedirs(os.path.join(ROOT, "var"), exist_ok=True)
    workdir = tempfile.mkdtemp(prefix=prefix, dir=os.path.join(ROOT, "var"))
    static_root = os.path.join(workdir, "static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=production_env(static_root),
        check=True,
    )
    return workdir, static_root


def free_port() -> int:
    """A port nothing listens on: the first free one of BENCH_PORTS ("8400-8499") when it
    is set, so that benchmarks run side by side on one machine each keep to a range of
    their own; else one the system picks."""
    span = os.environ.get("BENCH_PORTS", "")
    if span:
        low, _dash, high = span.partition("-")
        for port in range(int(low), int(high or low) + 1):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise SystemExit(f"no free port in BENCH_PORTS={span}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Language": "vi"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# Tasks handed to Celery's in-memory broker: the request pays no broker round trip and no
# worker runs them (for benchmarks that measure the page, not the broker).
MEMORY_BROKER = {"CELERY_TASK_ALWAYS_EAGER": "0", "CELERY_BROKER_URL": "memory://"}


class Server:
    """A gunicorn we start, and stop, ourselves: `workers` sync workers on `port` (a free
    one unless given), its output in workdir/gunicorn-NAME.log."""

    def __init__(
        self,
        workdir: str,
        *,
        static_root: str,
        extra_env: dict,
        name: str,
        workers: int = 2,
        port: int | None = None,
    ):
        self.port = port or free_port()
        self.workers = workers
        self.log_path = os.path.join(workdir, f"gunicorn-{name}.log")
        env = production_env(static_root)
        env.update(extra_env)
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                gunicorn,
                "config.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, path: str, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, body = get(self.port, path)
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return body
            time.sleep(0.2)
        self.stop()
        with open(self.log_path, "rb") as log:
            sys.stderr.write(log.read().decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"gunicorn did not serve {path} (see the log above)")

    def reload(self):
        """Restart the workers (SIGHUP): WhiteNoise lists STATIC_ROOT when a worker starts."""
        self.process.send_signal(signal.SIGHUP)
        time.sleep(2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()
