"""Password guessing is stopped on every sign-in path (django-axes, see
marketplace.accounts.lockout): after AXES_FAILURE_LIMIT wrong passwords the account, however
it is typed, and the address are locked for a cool-off, even to the right password, with a
Vietnamese 429 page; the operator unlocks in Django's admin."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

PASSWORD = "nongsan2026"
BUYER = "nguoimua@nongsan.test"
OPERATOR = "quantri@nongsan.test"
FARMER_PHONE = "0905 123 404"  # Nguyễn Thị Lan
LOCKED = "Sai mật khẩu quá nhiều lần"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def client_at(address="198.51.100.7") -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client, login, password=PASSWORD):
    return client.post(
        "/accounts/login/",
        {"login-username": login, "login-password": password, "login_submit": "1"},
    )


def old_phone_form(client, phone, password=PASSWORD):
    return client.post("/can-bo/dang-nhap/", {"phone": phone, "password": password})


def checkout_gateway(client, email, password=PASSWORD):
    return client.post(
        "/checkout/", {"username": email, "password": password, "options": "existing"}
    )


def is_locked(response) -> bool:
    return response.status_code == 429 and LOCKED in response.content.decode()


def signed_in(response) -> bool:
    return response.status_code == 302


def test_the_right_password_is_refused_after_three_wrong_ones_with_a_vietnamese_page(demo):
    client = client_at()
    for _ in range(2):
        response = sign_in(client, BUYER, "sai-mat-khau")
        assert response.status_code == 200  # the form again, with its message
    locked = sign_in(client, BUYER, "sai-mat-khau")
    assert is_locked(locked)
    html = locked.content.decode()
    assert "15 phút" in html and "quản trị sàn" in html
    assert locked["Retry-After"] == "900"
    assert locked["Content-Language"] == "vi" or 'lang="vi"' in html
    assert is_locked(sign_in(client, BUYER))  # the right password too


def test_the_lock_follows_the_account_however_typed_and_from_any_address(demo):
    # A phone number typed three ways, from three addresses: one account.
    for typed, address in [
        (FARMER_PHONE, "198.51.100.1"),
        ("+84905123404", "198.51.100.2"),
        ("0905123404", "198.51.100.3"),
    ]:
        sign_in(client_at(address), typed, "sai-mat-khau")
    assert is_locked(sign_in(client_at("198.51.100.4"), FARMER_PHONE))
    # E-mail in another case is the same account too.
    for address in ("198.51.100.5", "198.51.100.6", "198.51.100.8"):
        sign_in(client_at(address), BUYER.upper(), "sai-mat-khau")
    assert is_locked(sign_in(client_at("198.51.100.9"), BUYER))
    # Other accounts are not locked.
    assert signed_in(sign_in(client_at("198.51.100.10"), OPERATOR))


def test_an_address_guessing_many_accounts_is_locked(demo):
    client = client_at("203.0.113.50")
    for login in ("a@example.com", "b@example.com", "c@example.com"):
        sign_in(client, login, "sai-mat-khau")
    assert is_locked(sign_in(client, OPERATOR))
    assert signed_in(sign_in(client_at("203.0.113.51"), OPERATOR))


def test_the_old_phone_form_counts_and_is_locked_too(demo):
    client = client_at()
    for _ in range(2):
        assert old_phone_form(client, FARMER_PHONE, "sai-mat-khau").status_code == 200
    assert is_locked(old_phone_form(client, FARMER_PHONE, "sai-mat-khau"))
    assert is_locked(old_phone_form(client, FARMER_PHONE))
    # ... and so is the sign-in page for that account.
    assert is_locked(sign_in(client_at("198.51.100.99"), FARMER_PHONE))


def test_the_checkout_sign_in_counts_and_is_locked_too(demo):
    client = client_at()
    client.post("/basket/add/1/", {"quantity": 1})
    for _ in range(3):
        checkout_gateway(client, BUYER, "sai-mat-khau")
    assert is_locked(checkout_gateway(client, BUYER))
    assert is_locked(sign_in(client_at("198.51.100.98"), BUYER))


def test_the_admin_sign_in_counts_too(demo):
    client = client_at()
    for _ in range(3):
        client.post("/admin/login/", {"username": OPERATOR, "password": "sai-mat-khau"})
    assert is_locked(sign_in(client_at("198.51.100.97"), OPERATOR))


def test_after_the_cool_off_the_right_password_works_and_clears_the_count(demo):
    client = client_at()
    for _ in range(3):
        sign_in(client, BUYER, "sai-mat-khau")
    assert is_locked(sign_in(client, BUYER))
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert signed_in(sign_in(client, BUYER))
    assert not AccessAttempt.objects.filter(username=BUYER).exists()


def test_a_right_password_before_the_limit_starts_the_count_again(demo):
    client = client_at()
    for _ in range(2):
        sign_in(client, BUYER, "sai-mat-khau")
    assert signed_in(sign_in(client, BUYER))
    client = client_at()
    for _ in range(2):
        sign_in(client, BUYER, "sai-mat-khau")
    assert signed_in(sign_in(client, BUYER))


def test_the_operator_unlocks_an_account_in_the_admin(demo):
    client = client_at()
    for _ in range(3):
        sign_in(client, BUYER, "sai-mat-khau")
    assert is_locked(sign_in(client_at("198.51.100.96"), BUYER))
    attempts = list(AccessAttempt.objects.filter(username=BUYER).values_list("pk", flat=True))
    assert attempts

    operator = Client(REMOTE_ADDR="192.0.2.10")
    operator.force_login(get_user_model().objects.get(email=OPERATOR))
    # The dashboard's Marketplace menu leads there.
    dashboard = operator.get("/dashboard/").content.decode()
    assert 'href="/admin/axes/accessattempt/"' in dashboard and "Đăng nhập bị khóa" in dashboard
    listing = operator.get("/admin/axes/accessattempt/", {"q": BUYER})
    assert listing.status_code == 200 and BUYER in listing.content.decode()
    response = operator.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=BUYER).exists()
    assert signed_in(sign_in(client_at("198.51.100.96"), BUYER))


def test_a_new_account_is_still_signed_in_after_registering(demo):
    # Oscar's registration calls authenticate() without a request: not a sign-in form.
    client = client_at()
    response = client.post(
        "/accounts/login/",
        {
            "registration-email": "moi@example.com",
            "registration-password1": "Mat-khau-moi-2026",
            "registration-password2": "Mat-khau-moi-2026",
            "registration_submit": "1",
        },
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")
