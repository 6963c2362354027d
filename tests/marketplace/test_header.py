"""The header a visitor sees (marketplace.templatetags.header_tags) is pieced together
from the header template rendered once: its bytes are the template's, whatever the basket,
the search text, the language, the page and the CSRF token."""

import itertools
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.template import Context, Template
from django.utils import translation

FAST = Template("{% load header_tags %}{% nav_accounts %}")
FAST_CHECKOUT = Template("{% load header_tags %}{% nav_accounts checkout_page=True %}")
INCLUDE = Template('{% include "oscar/partials/nav_accounts.html" %}')
INCLUDE_CHECKOUT = Template(
    '{% include "oscar/partials/nav_accounts.html" with checkout_page=True %}'
)


def context(language, count, query, token, path, user=None):
    request = SimpleNamespace(basket=SimpleNamespace(num_items=count), GET=QueryDict(query))
    return {
        "request": request,
        "user": user or AnonymousUser(),
        "role_home": None,
        "csrf_token": token,
        "LANGUAGES": settings.LANGUAGES,
        "LANGUAGE_CODE": language,
        "homepage_url": "/",
        "shop_name": settings.OSCAR_SHOP_NAME,
        "language_neutral_url_path": path,
    }


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_visitors_header_is_byte_for_byte_the_templates(language):
    cases = itertools.product(
        [0, 3, 1234],
        ["", "q=c%C3%A0+ph%C3%AA", "q=%3Cb%3E%26%22%27x", "q=a&q=b", "page=2"],
        ["tok3nABC", None, "NOTPROVIDED"],
        ["/basket/", '/search/?q="<x>&y'],
    )
    with translation.override(language):
        for count, query, token, path in cases:
            values = context(language, count, query, token, path)
            for fast, include in ((FAST, INCLUDE), (FAST_CHECKOUT, INCLUDE_CHECKOUT)):
                expected = include.render(Context(values))
                assert fast.render(Context(values)) == expected, (count, query, token, path)
            # A checkout step set by the page around the tag, as an include would see it.
            values["checkout_page"] = True
            assert FAST.render(Context(values)) == INCLUDE.render(Context(values))


@pytest.mark.django_db
def test_a_signed_in_users_header_is_the_template(django_user_model):
    user = django_user_model.objects.create_user("an", "an@nongsan.test", "mat-khau-2026")
    with translation.override("vi"):
        values = context("vi", 2, "q=x", "tok", "/basket/", user=user)
        html = FAST.render(Context(values))
        assert html == INCLUDE.render(Context(values))
    assert 'id="logout_link"' in html


@pytest.mark.django_db
def test_pages_draw_the_visitors_header_with_their_own_values(client):
    page = client.get("/search/?q=s%E1%BA%A7u+ri%C3%AAng%22%3E")
    html = page.content.decode()
    assert 'value="sầu riêng&quot;&gt;"' in html
    assert 'id="login_link"' in html and 'id="language_selector"' in html
    token = page.cookies["csrftoken"].value  # the language form's token set its cookie
    assert token and 'name="csrfmiddlewaretoken" value="' in html
    basket = client.get("/basket/")
    assert "csrftoken" in basket.cookies or client.cookies.get("csrftoken")
    with translation.override("en"):
        english = client.get("/en/basket/").content.decode()
    assert 'lang="en"' in english and 'class="ns-basket" href="/en/basket/"' in english


@pytest.mark.django_db
def test_a_visitor_without_a_basket_reads_no_lines_and_adding_one_shows_it(client, demo):
    """Oscar's unsaved basket answers `all_lines()` with one empty, read queryset
    (marketplace.payments.basket_middleware); once saved by adding, with its lines."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from oscar.core.loading import get_model

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/basket/")
    assert page.status_code == 200
    assert not [q for q in queries.captured_queries if "basket_line" in q["sql"]]
    assert 'class="ns-count"' not in page.content.decode()
    product = get_model("catalogue", "Product").objects.get(upc="NS0005")
    client.post(f"/basket/add/{product.pk}/", {"quantity": 2})
    assert '<span class="ns-count">2</span>' in client.get("/basket/").content.decode()
