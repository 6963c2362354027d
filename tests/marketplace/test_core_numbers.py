"""One rule for numbers from addresses, queries and forms (marketplace.core.numbers), and
the requests no page answers (marketplace.core.malformed): the kinds of input that were
500s get a clear answer."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from oscar.core.loading import get_model

from farmers import cccd
from marketplace.core.numbers import is_digits, parse_id, parse_int
from marketplace.core.validators import has_valid_check_digit
from marketplace.payments import vietqr

Product = get_model("catalogue", "Product")
HUGE = str(2**70)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (12, 12),
        ("0", 0),
        ("²", None),  # isdigit() says yes, int() says no
        ("١٢", None),  # Arabic-Indic digits: int() reads them, a person did not type them
        (HUGE, None),
        (str(2**63), None),
        (str(2**63 - 1), 2**63 - 1),
        ("9" * 10_000, None),
        ("-1", None),
        (" 1", None),
        ("1e3", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_parse_int_takes_ascii_digits_within_the_database_range_only(value, expected):
    assert parse_int(value) == expected


def test_parse_int_bounds_sign_and_default():
    assert parse_int("-5", signed=True) == -5
    assert parse_int("5", minimum=10, default=10) == 10
    assert parse_int("50", maximum=10) is None
    assert parse_id("0") is None
    assert parse_id("7") == 7
    assert is_digits("066178001234")
    assert not is_digits("0661780012³4")


def test_digit_codes_with_superscripts_are_refused_not_crashed():
    with pytest.raises(ValidationError):
        cccd.validate("²" * 12)
    assert not has_valid_check_digit("²" * 13)
    with pytest.raises(vietqr.VietQRError):
        vietqr.subfields("00²²abcd")


@pytest.mark.django_db
def test_huge_integers_match_no_row_on_every_database(demo):
    assert not Product.objects.filter(pk=2**70).exists()
    assert not Product.objects.filter(pk=HUGE).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=ca%00phe",
        "/catalogue/?category=%ff",
        "/tinh/dak-lak%ff/",
        "/thanh-toan/the/100001%00/",  # the anonymous card-payment page
    ],
)
def test_nul_and_invalid_utf8_in_an_address_are_a_clear_400(client, demo, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "ký tự" in response.content.decode()


@pytest.mark.django_db
def test_nul_in_a_posted_form_is_a_400_and_a_file_may_hold_any_byte(client, demo):
    response = client.post("/accounts/login/", {"login-username": "a\x00b", "login-password": "x"})
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [f"category={HUGE}", "category=%C2%B2", f"producer={HUGE}", "page=-1", "page=abc", "lists=1"],
)
def test_facets_and_pages_take_any_value_without_a_500(client, demo, query):
    for page in ("/catalogue/", "/search/", "/tinh/dak-lak/"):
        assert client.get(f"{page}?{query}").status_code == 200, page


@pytest.mark.django_db
def test_an_id_parameter_that_is_not_an_id_is_a_404(client, demo):
    client.force_login(get_user_model().objects.get(email="quantri@nongsan.test"))
    for url in (
        "/dashboard/pages/update/abc/",
        "/dashboard/catalogue/option/%C2%B2/update/",
        f"/dashboard/catalogue/products/{HUGE}/",
        f"/accounts/orders/100001/{HUGE}/",
    ):
        assert client.get(url).status_code == 404, url
    # And the dashboard's lists take a page number that is not one.
    assert client.get("/dashboard/catalogue/categories/?page=-1").status_code == 200


@pytest.mark.django_db
def test_signing_in_with_a_next_that_is_not_a_path_lands_on_the_home(client, demo):
    response = client.post(
        "/accounts/login/?next=abc",
        {
            "login-username": "nguoimua@nongsan.test",
            "login-password": "nongsan2026",
            "login_submit": "1",
            "next": "abc",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
