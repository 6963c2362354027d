"""Each demo role signs in and reaches what it should, and nothing more."""

import pytest
from oscar.core.loading import get_model

PASSWORD = "nongsan2026"
BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"
ASSOCIATION = "canbohoi@nongsan.test"
POST_OFFICE = "buudien@nongsan.test"
OPERATOR = "quantri@nongsan.test"

Product = get_model("catalogue", "Product")


def sign_in(client, email):
    """Sign in through the storefront's own form, as a person would."""
    response = client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": PASSWORD, "login_submit": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("email", [BUYER, FARMER, ASSOCIATION, POST_OFFICE, OPERATOR])
def test_every_demo_role_can_sign_in(client, demo, email):
    sign_in(client, email)
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_is_refused_in_vietnamese(client, demo):
    response = client.post(
        "/accounts/login/",
        {"login-username": BUYER, "login-password": "sai-mat-khau", "login_submit": "1"},
    )
    assert response.status_code == 200
    assert "mật khẩu" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_buyer_reaches_the_account_but_not_the_dashboard_or_staff_area(client, demo):
    sign_in(client, BUYER)
    assert client.get("/accounts/profile/").status_code == 200
    assert client.get("/dashboard/").status_code in (302, 403)
    assert client.get("/can-bo/").status_code == 403


@pytest.mark.django_db
def test_farmer_manages_only_the_products_of_their_own_shop(client, demo):
    sign_in(client, FARMER)
    assert client.get("/dashboard/").status_code == 200
    # Oscar's product pages send a producer to their shop's own pages (approval rules).
    listing = client.get("/dashboard/catalogue/", follow=True)
    assert listing.redirect_chain[-1][0] == "/cua-hang/san-pham/"
    html = listing.content.decode()
    assert "Sầu riêng Ri6 Krông Pắc" in html
    assert "Hồ tiêu đen Chư Sê" not in html
    other = Product.objects.get(upc="NS0009")  # another producer's pepper
    assert client.get(f"/dashboard/catalogue/products/{other.pk}/", follow=True).status_code == 404
    assert client.get("/can-bo/").status_code == 403


@pytest.mark.django_db
def test_association_staff_sees_their_branch_only(client, demo):
    sign_in(client, ASSOCIATION)
    response = client.get("/can-bo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chi hội Nông dân xã Ea Kiết" in html
    assert "Chi hội Nông dân xã Chư Sê" not in html
    assert "Hội Nông dân tỉnh Gia Lai" not in html
    assert client.get("/dashboard/").status_code in (302, 403)


@pytest.mark.django_db
def test_post_office_staff_sees_their_post_office(client, demo):
    sign_in(client, POST_OFFICE)
    html = client.get("/can-bo/").content.decode()
    assert "Bưu điện tỉnh Đắk Lắk" in html
    assert "Chi hội Nông dân xã Ea Kiết" not in html


@pytest.mark.django_db
def test_operator_reaches_the_dashboard_and_every_organisation(client, demo):
    sign_in(client, OPERATOR)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/catalogue/").status_code == 200
    html = client.get("/can-bo/").content.decode()
    for name in (
        "Chi hội Nông dân xã Ea Kiết",
        "Hội Nông dân tỉnh Gia Lai",
        "Bưu điện tỉnh Đắk Lắk",
    ):
        assert name in html


@pytest.mark.django_db
def test_staff_area_asks_anonymous_visitors_to_sign_in(client, demo):
    response = client.get("/can-bo/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
