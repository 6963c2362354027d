"""Every page a buyer reaches is fully translated, in Vietnamese and in English."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from tests.i18n import record_untranslated

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


def _pages(client):
    product = Product.objects.get(upc="NS0001")
    category = Category.objects.get(name="Cà phê")
    producer = product.stockrecords.get().partner.producer_profile
    return {
        "home": "/",
        "province": "/tinh/dak-lak/",
        "producer": f"/nha-san-xuat/{producer.slug}/",
        "catalogue-filtered": "/catalogue/?province=66&cert=ocop&price=100k-300k&sort=price-asc",
        "search-empty": "/search/?q=khong+co+san+pham+nay",
        "catalogue": "/catalogue/",
        "category": category.get_absolute_url(),
        "product": product.get_absolute_url(),
        "search": "/search/?q=ca+phe",
        "basket": "/basket/",
        "sign-in": "/accounts/login/",
        "sign-up": "/accounts/register/",
    }


def _add_to_basket(client, upc="NS0001"):
    product = Product.objects.get(upc=upc)
    response = client.post(
        reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1}, follow=True
    )
    assert response.status_code == 200
    return response


@pytest.mark.django_db
def test_every_buyer_page_is_fully_translated_into_vietnamese(client, demo):
    _add_to_basket(client)  # the basket page then shows its lines, not just "empty"
    untranslated = {}
    for name, url in _pages(client).items():
        with record_untranslated("vi") as missing:
            response = client.get(url)
        assert response.status_code == 200, (name, url)
        assert response["Content-Language"] == "vi"
        if missing:
            untranslated[name] = sorted(missing)
    assert untranslated == {}


@pytest.mark.django_db
def test_empty_basket_and_signed_in_account_are_translated(client, demo):
    pages = {"basket-empty": "/basket/"}
    with record_untranslated("vi") as missing:
        assert client.get(pages["basket-empty"]).status_code == 200
    assert client.login(username="nguoimua@nongsan.test", password="nongsan2026")
    with record_untranslated("vi") as missing_account:
        assert client.get("/accounts/profile/").status_code == 200
    assert sorted(missing | missing_account) == []


@pytest.mark.django_db
def test_404_is_a_friendly_vietnamese_page(client, demo):
    with record_untranslated("vi") as missing:
        response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Không tìm thấy trang" in html
    assert "Nông sản" in html  # the storefront's own layout, not a bare error
    assert sorted(missing) == []


@pytest.mark.django_db
def test_500_is_a_vietnamese_page(client, demo, settings):
    settings.ROOT_URLCONF = "tests.urls_boom"
    client.raise_request_exception = False
    with record_untranslated("vi") as missing:
        response = client.get("/boom/")
    assert response.status_code == 500
    assert "Đã xảy ra lỗi" in response.content.decode()
    assert sorted(missing) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "english"),
    [
        ("/en/catalogue/", "All products"),
        ("/en/basket/", "Cart"),
        ("/en/accounts/login/", "Log In"),
        ("/en/accounts/register/", "Register"),
        ("/en/search/?q=pepper", "Search"),
        ("/en/", "Specialities by province"),
        ("/en/tinh/dak-lak/", "Specialities of Đắk Lắk"),
        ("/en/catalogue/?province=66", "Filters"),
    ],
)
def test_english_pages(client, demo, path, english):
    with record_untranslated("vi") as missing_vi:
        response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert english in html
    assert 'lang="en"' in html
    assert missing_vi == set()  # nothing rendered in Vietnamese on an English page
