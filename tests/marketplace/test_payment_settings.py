"""The operator sets delivery and payment options on a page of their own."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from marketplace.models import MarketplaceSettings
from tests.marketplace.test_farmer_products import ROLES, users

URL = "/quan-tri/cai-dat-thanh-toan/"
GOOD = {
    "free_shipping_threshold": "500000",
    "cod_max_amount": "3000000",
    "bank_bin": "970405",
    "bank_account_number": "1500201234567",
    "bank_account_name": "hop tac xa nong san",
    "commission_percent": "4.5",
}


@pytest.fixture
def operator(client, demo):
    client.force_login(users()["operator"])
    return client


@pytest.mark.django_db
def test_the_operator_saves_the_settings_and_buyers_get_them(operator):
    page = operator.get(URL)
    assert page.status_code == 200
    response = operator.post(URL, GOOD)
    assert response.status_code == 302
    row = MarketplaceSettings.load()
    assert row.free_shipping_threshold == 500000 and row.cod_max_amount == 3000000
    assert (row.bank_bin, row.bank_name, row.bank_account_number) == (
        "970405",
        "Agribank",
        "1500201234567",
    )
    assert row.bank_account_name == "HOP TAC XA NONG SAN"
    assert str(row.commission_percent) == "4.50"
    assert row.vietqr_ready


@pytest.mark.django_db
def test_transfers_switch_off_with_an_empty_account(operator):
    operator.post(URL, GOOD)
    operator.post(URL, {**GOOD, "bank_bin": "", "bank_account_number": "", "bank_account_name": ""})
    assert not MarketplaceSettings.load().vietqr_ready


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field",
    [
        ({"bank_account_number": ""}, None),  # half an account
        ({"bank_account_number": "12 34-56"}, "bank_account_number"),
        ({"bank_account_name": "Hợp tác xã"}, "bank_account_name"),
        ({"bank_bin": "123456"}, "bank_bin"),
        ({"commission_percent": "101"}, "commission_percent"),
        ({"commission_percent": "-1"}, "commission_percent"),
        ({"cod_max_amount": "-5"}, "cod_max_amount"),
        ({"free_shipping_threshold": "abc"}, "free_shipping_threshold"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(operator, change, field):
    before = MarketplaceSettings.load().updated
    response = operator.post(URL, {**GOOD, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_valid()
    if field:
        assert field in form.errors
    else:
        with translation.override("vi"):
            message = gettext(
                "For bank transfers give the bank, the account number and the holder; "
                "or leave all three empty to switch transfers off."
            )
        assert message in str(form.non_field_errors())
    assert MarketplaceSettings.load().updated == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != "operator"])
def test_only_the_operator_may_change_them(client, demo, role):
    user = users()[role]
    if user:
        client.force_login(user)
    get, post = client.get(URL), client.post(URL, GOOD)
    if user is None:
        assert get.status_code == post.status_code == 302 and "/login/" in get.url
    else:
        assert get.status_code == post.status_code == 403
    assert not MarketplaceSettings.load().vietqr_ready
