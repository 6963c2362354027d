import os
import shutil
import threading

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from playwright.sync_api import expect

from tests.conftest import need

CHROMIUM = os.environ.get("NONGSAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}

# Assertions wait as long as actions do: a loaded CI machine can take more than
# Playwright's default 5 s to render a page after a POST.
expect.set_options(timeout=15_000)

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
# the test itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    need(
        os.path.exists(CHROMIUM) or shutil.which("chromium"),
        f"Debian's chromium is not installed at {CHROMIUM} (`make test` installs it)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


class _OneRequestAtATime(ThreadedWSGIServer):
    """The live server over an in-memory SQLite database: every request thread of Django's
    threaded server shares the test's one connection, so a page's POST and the browser's
    own request for /favicon.ico at the same moment could interleave their transactions
    ("no such savepoint"). One request at a time instead, whole (its body read and the
    response closed, which ends Django's request, before the next begins), while each
    browser connection keeps its own thread: a server that read one connection at a time
    stood still on a connection Chromium opened ahead of time and sent nothing on, and the
    page's next request waited more than the tests' 15 s."""

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                response = application(environ, start_response)
                try:
                    return list(response)
                finally:
                    close = getattr(response, "close", None)
                    if close is not None:
                        close()

        super().set_app(one_at_a_time)


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_sqlite():
    from django.db import connection
    from django.test.testcases import LiveServerThread

    if connection.vendor != "sqlite":
        yield
        return
    threaded = LiveServerThread.server_class
    LiveServerThread.server_class = _OneRequestAtATime
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture
def live_demo(transactional_db, live_server):
    """The live server over the demo marketplace (loaded once per test database; put back
    from its snapshot after each committing test, see tests/conftest.py)."""
    return live_server.url
