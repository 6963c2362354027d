"""Django's admin forms of Oscar's models answer malformed input with the form's errors,
never a 500 (the full route walk, NONGSAN_WALK=full, found these; this is their own test,
fast enough for every run). Records only the site makes (a voucher applied at checkout, a
basket line, a review vote) cannot be added by hand at all."""

import re

import pytest

pytestmark = pytest.mark.django_db

FIELD = re.compile(r'name="([^"]+)"')
VALUES = ["abc", str(2**70), "²", "9" * 10_000, "2026-02-30", "9999-12-31", "-1", "", "a\x00b"]

ADD_FORMS = [
    "/admin/offer/condition/add/",
    "/admin/offer/benefit/add/",
    "/admin/address/useraddress/add/",
]
NOT_ADDED_BY_HAND = [
    "/admin/voucher/voucherapplication/add/",
    "/admin/basket/line/add/",
    "/admin/reviews/vote/add/",
]


def post_malformed(client, url):
    html = client.get(url).content.decode()
    fields = sorted(set(FIELD.findall(html)) - {"csrfmiddlewaretoken", "_save"})
    assert fields, url
    for n in range(len(VALUES)):
        data = {k: VALUES[(n + i) % len(VALUES)] for i, k in enumerate(fields)}
        response = client.post(url, data)
        assert response.status_code in (200, 400), (url, response.status_code, data)


@pytest.mark.parametrize("url", ADD_FORMS)
def test_add_forms_refuse_malformed_input_with_errors(admin_client, url):
    assert admin_client.get(url).status_code == 200
    post_malformed(admin_client, url)


@pytest.mark.parametrize("url", NOT_ADDED_BY_HAND)
def test_records_the_site_makes_cannot_be_added_by_hand(admin_client, url):
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {}).status_code == 403
    listing = admin_client.get(url.removesuffix("add/"))
    assert listing.status_code == 200 and url not in listing.content.decode()


@pytest.mark.parametrize(
    "query", ["", "?p=abc", "?p=-1", f"?p={2**70}", "?o=abc", "?o=99", "?q=%00", "?all=", "?e=1"]
)
def test_the_category_tree_lists_with_any_query(admin_client, query):
    response = admin_client.get("/admin/catalogue/category/" + query)
    assert response.status_code in (200, 302, 400), (query, response.status_code)
