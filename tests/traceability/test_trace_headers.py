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


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_kept_page_compressed_once_answers_as_gzip_did(gtin_lot, prefix):
    """Above GZip (traceability.middleware.KeptTracePageMiddleware), a kept page goes out
    compressed once, with a fresh random gzip file name each time as GZipMiddleware does,
    a weak ETag, and otherwise the headers, in their order, of the first answer."""
    import gzip

    from traceability import middleware

    client = Client(HTTP_ACCEPT_LANGUAGE="vi", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    url = f"{prefix}/t/{gtin_lot.short_code}/"
    responses = [client.get(url) for _ in range(6)]
    assert [getattr(r, "replayed", False) for r in responses] == [False] + [True] * 5
    assert any(page.lot_pk == gtin_lot.pk for page in middleware._kept.values())
    page = gzip.decompress(responses[0].content)
    assert b"DEMO-NS0005" in page

    def headers(response):
        return [(k, v) for k, v in response.items() if k not in ("X-Request-ID", "Content-Length")]

    for response in responses:
        assert response["Content-Encoding"] == "gzip"
        assert response["ETag"].startswith('W/"')
        assert response["Content-Length"] == str(len(response.content))
        assert gzip.decompress(response.content) == page
        assert headers(response) == headers(responses[0])
    # Each answer has its own random padding (BREACH), as GZipMiddleware gives.
    assert len({r.content for r in responses}) > 1
    # A client without gzip gets the same page, uncompressed, from the same kept entry.
    plain = Client(HTTP_ACCEPT_LANGUAGE="vi").get(url)
    assert getattr(plain, "replayed", False) and plain.content == page
    assert plain["ETag"] == responses[0]["ETag"].removeprefix("W/")
    assert "Content-Encoding" not in plain


def test_a_page_kept_by_one_worker_is_answered_alike_by_another(gtin_lot):
    """A worker that has not kept the page yet answers from the shared cache
    (CachedTracePageMiddleware), then keeps it: the same headers and body each time."""
    from traceability import middleware

    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    url = f"/t/{gtin_lot.short_code}/"
    first = client.get(url)
    middleware._kept.clear()  # another worker process
    from_cache, kept = client.get(url), client.get(url)

    def headers(response):
        return [(k, v) for k, v in response.items() if k != "X-Request-ID"]

    assert first.content == from_cache.content == kept.content
    assert headers(first) == headers(from_cache) == headers(kept)
    assert len(middleware._kept) == 1
