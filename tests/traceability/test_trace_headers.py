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
