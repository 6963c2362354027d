"""What a buyer sees: prices in đồng, clean slugs, a working basket."""

import pytest
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model
from oscar.templatetags.currency_filters import currency
from oscar.test.factories import create_product

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("vi", 125000, "125.000\xa0₫"),
        ("vi", 5200000, "5.200.000\xa0₫"),
        ("vi", 0, "0\xa0₫"),
        ("en", 125000, "₫125,000"),
    ],
)
def test_prices_are_whole_dong(language, amount, expected):
    with translation.override(language):
        assert currency(amount) == expected


@pytest.mark.django_db
def test_product_page_shows_price_in_dong(client, demo):
    product = Product.objects.get(upc="NS0001")
    html = client.get(product.get_absolute_url()).content.decode()
    assert "145.000\xa0₫" in html or "145.000 ₫" in html
    assert product.title in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Đương quy Ngọc Linh", "duong-quy-ngoc-linh"),
        ("Hồ tiêu đen Chư Sê", "ho-tieu-den-chu-se"),
        ("ĐẶC SẢN ĐẮK LẮK", "dac-san-dak-lak"),
    ],
)
def test_slugs_turn_d_bar_into_d(title, slug):
    product = create_product(title=title)
    assert product.slug == slug
    assert "u0111" not in product.get_absolute_url()


@pytest.mark.django_db
def test_category_slugs_have_no_escape_garbage(demo):
    category = Category.objects.get(name="Hạt và đặc sản khô")
    assert category.slug == "hat-va-dac-san-kho"


@pytest.mark.django_db
def test_add_to_basket_and_see_the_total(client, demo):
    product = Product.objects.get(upc="NS0025")  # Gạo ST25, 185.000 ₫
    response = client.post(
        reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 2}, follow=True
    )
    assert response.status_code == 200
    basket = client.get("/basket/")
    html = basket.content.decode()
    assert product.title in html
    assert "370.000" in html  # 2 × 185.000 ₫
    assert basket.context["basket"].num_items == 2


@pytest.mark.django_db
def test_adding_more_than_the_stock_is_refused_with_a_vietnamese_message(client, demo):
    product = Product.objects.get(upc="NS0013")  # 12 in stock
    response = client.post(
        reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 50}, follow=True
    )
    assert response.status_code == 200
    assert client.get("/basket/").context["basket"].num_items == 0
    messages = [str(m) for m in response.context["messages"]]
    assert any("12" in m for m in messages), messages


@pytest.mark.django_db
def test_catalogue_lists_every_demo_product_newest_first(client, demo):
    response = client.get("/catalogue/")
    assert response.status_code == 200
    assert response.context["paginator"].count == Product.objects.filter(is_public=True).count()
    assert "Cà phê Arabica Sơn La" in response.content.decode()  # the newest
    last_page = client.get(f"/catalogue/?page={response.context['paginator'].num_pages}")
    assert "Cà phê Robusta Buôn Ma Thuột rang xay 500g" in last_page.content.decode()


@pytest.mark.django_db
def test_category_page_shows_only_its_products(client, demo):
    category = Category.objects.get(name="Gạo")
    html = client.get(category.get_absolute_url()).content.decode()
    assert "Gạo ST25 Sóc Trăng" in html
    assert "Hồ tiêu đen Chư Sê" not in html


@pytest.mark.django_db
def test_home_leads_to_categories_provinces_and_new_products(client, demo):
    html = client.get("/").content.decode()
    assert 'href="/tinh/dak-lak/"' in html
    assert 'href="/tinh/can-tho/"' in html
    assert "Hạt và đặc sản khô" in html
    assert "Cà phê Arabica Sơn La" in html  # newest products
    english = client.get("/en/").content.decode()
    assert 'href="/en/tinh/dak-lak/"' in english


@pytest.mark.django_db
def test_switching_language_keeps_the_page(client, db):
    # Oscar's switcher posts the page's language-neutral path as `next`.
    page = client.get("/en/basket/")
    assert page.context["language_neutral_url_path"] == "/basket/"
    html = page.content.decode()
    assert 'action="/i18n/setlang/"' in html and 'name="language"' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/basket/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/basket/"
    back = client.post("/i18n/setlang/", {"language": "vi", "next": "/basket/"})
    assert back["Location"] == "/basket/"
