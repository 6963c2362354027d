"""A trace page answered from its cache carries the same security headers as one just
rendered (the CSP and Permissions-Policy middlewares sit above the trace page cache)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_cached_trace_page_has_the_csp_and_permissions_policy(gtin_lot):
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    url = f"/t/{gtin_lot.short_code}/"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    for response in (first, second):
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "camera=()" in response["Permissions-Policy"]
        assert response["X-Request-ID"]
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_first_scan_and_a_kept_page_answer_with_the_same_headers(gtin_lot, prefix):
    """The first scan of a short link is answered by the view without the rest of the
    middleware (traceability.middleware), the next ones from the kept page: both carry
    what the full stack gave the page (X-Frame-Options, Content-Length, Vary, language),
    the same body, and neither opens a session."""
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    url = f"{prefix}/t/{gtin_lot.short_code}/"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content

    def headers(response):
        return [(k, v) for k, v in response.items() if k != "X-Request-ID"]

    assert headers(first) == headers(second)
    for response in (first, second):
        assert response["X-Frame-Options"] == "DENY"
        assert response["Content-Length"] == str(len(first.content))
        assert response["Content-Language"] == (prefix.strip("/") or "vi")
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Accept", "Cookie", "Accept-Encoding"} <= vary
        assert ("Accept-Language" in vary) == (prefix == "")
        assert not response.cookies
