"""The served app's handler (marketplace.core.handlers, config.wsgi) remembers what each
address resolves to: each request still gets the view, arguments and names Django's own
resolution gives, its own copy of them, in its language."""

import io
import sys

import pytest
from django.urls import resolve
from django.utils import translation

from marketplace.core.handlers import MAX_ADDRESSES, ResolvingWSGIHandler


def call(handler, path, language="vi"):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_LANGUAGE": language,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    status = []
    body = handler(environ, lambda s, h, e=None: status.append(s))
    content = b"".join(body)
    body.close()
    return int(status[0].split()[0]), content


@pytest.fixture
def connections_kept():
    """As Django's test client: the test's database connection (its transaction) is not
    closed at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_pages_answer_as_with_djangos_resolution(settings, connections_kept):
    settings.ALLOWED_HOSTS = ["testserver"]
    handler = ResolvingWSGIHandler()
    for path in ("/basket/", "/en/basket/", "/basket/", "/catalogue/", "/healthz"):
        assert call(handler, path)[0] == 200, path
    assert call(handler, "/khong-co-trang-nay/")[0] == 404
    assert call(handler, "/khong-co-trang-nay/")[0] == 404  # never kept: still a 404


def test_each_request_gets_its_own_match_as_django_resolves_it():
    handler = ResolvingWSGIHandler()

    class Request:
        path_info = "/checkout/user-address/edit/12/"

    first, second = handler.resolve_request(Request()), handler.resolve_request(Request())
    expected = resolve(Request.path_info)
    for match in (first, second):
        assert (match.func, match.args, match.kwargs, match.view_name, match.route) == (
            expected.func,
            expected.args,
            expected.kwargs,
            expected.view_name,
            expected.route,
        )
        assert match.namespaces == expected.namespaces and match.app_names == expected.app_names
    assert first is not second and first.kwargs is not second.kwargs
    first.kwargs["pk"] = "99"  # a view or middleware changing its arguments
    assert handler.resolve_request(Request()).kwargs == expected.kwargs


def test_the_language_decides_what_an_address_resolves_to():
    from django.urls import Resolver404

    handler = ResolvingWSGIHandler()

    class Request:
        path_info = "/en/basket/"

    with translation.override("en"):
        assert handler.resolve_request(Request()).view_name == "basket:summary"
    with translation.override("vi"), pytest.raises(Resolver404):
        handler.resolve_request(Request())  # "/en/" is not a Vietnamese address


def test_addresses_kept_are_bounded():
    handler = ResolvingWSGIHandler()

    class Request:
        path_info = ""

    for n in range(MAX_ADDRESSES + 10):
        Request.path_info = f"/basket/add/{n + 1}/"
        assert handler.resolve_request(Request()).kwargs == {"pk": n + 1}
    assert len(handler._resolved) <= MAX_ADDRESSES
