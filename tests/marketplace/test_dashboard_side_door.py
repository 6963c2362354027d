"""Oscar's own dashboard is no side door around listing approval.

Oscar lets partner users create and edit products at /dashboard/catalogue/. A producer
doing that would skip nongsan's product pages: no operator approval, no listing record.
Producers are sent to their shop's own pages; the operator keeps Oscar's pages.
"""

import pytest
from oscar.core.loading import get_model

from marketplace.search.indexing import is_visible
from tests.marketplace.test_farmer_products import client_for, users

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")


def own_product(farmer):
    return Product.objects.filter(stockrecords__partner__users=farmer).first()


@pytest.mark.django_db
def test_a_producer_cannot_create_a_product_in_oscars_dashboard(demo):
    farmer = users()["farmer"]
    client = client_for(farmer)
    product_class = ProductClass.objects.first()
    before = Product.objects.count()
    url = f"/dashboard/catalogue/products/create/{product_class.slug}/"

    response = client.post(
        url,
        {
            "title": "Sầu riêng chưa duyệt",
            "upc": "",
            "description": "",
            "structure": "standalone",
            "is_public": "on",
            "stockrecords-TOTAL_FORMS": "0",
            "stockrecords-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/cua-hang/san-pham/them/"
    assert Product.objects.count() == before
    assert client.get(url).url == "/cua-hang/san-pham/them/"


@pytest.mark.django_db
def test_a_producer_editing_in_oscars_dashboard_is_sent_to_the_shop_page_unchanged(demo):
    farmer = users()["farmer"]
    client = client_for(farmer)
    product = own_product(farmer)
    title = product.title

    response = client.post(
        f"/dashboard/catalogue/products/{product.pk}/",
        {"title": "Đổi tên không qua duyệt", "structure": "standalone"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/cua-hang/san-pham/{product.pk}/sua/"
    product.refresh_from_db()
    assert product.title == title
    assert is_visible(product)
    # The shop page it is sent to applies the approval rules and shows the product.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert title in page.content.decode()


@pytest.mark.django_db
def test_another_producers_product_stays_a_404_after_the_redirect(demo):
    farmer = users()["farmer"]
    other = (
        own_product(users()["other_farmer"])
        or Product.objects.exclude(stockrecords__partner__users=farmer).first()
    )
    client = client_for(farmer)
    response = client.get(f"/dashboard/catalogue/products/{other.pk}/", follow=True)
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_producer_cannot_delete_in_oscars_dashboard(demo):
    farmer = users()["farmer"]
    product = own_product(farmer)
    response = client_for(farmer).post(f"/dashboard/catalogue/products/{product.pk}/delete/")
    assert response.status_code == 302
    assert Product.objects.filter(pk=product.pk).exists()


@pytest.mark.django_db
def test_the_product_list_sends_a_producer_to_their_own_products(demo):
    farmer = users()["farmer"]
    response = client_for(farmer).get("/dashboard/catalogue/", follow=True)
    assert response.redirect_chain[-1][0] == "/cua-hang/san-pham/"
    html = response.content.decode()
    assert "Sầu riêng Ri6 Krông Pắc" in html
    assert "Hồ tiêu đen Chư Sê" not in html


@pytest.mark.django_db
def test_the_operator_keeps_oscars_product_pages(demo):
    operator = users()["operator"]
    client = client_for(operator)
    product = Product.objects.filter(structure="standalone").first()
    assert client.get("/dashboard/catalogue/").status_code == 200
    assert client.get(f"/dashboard/catalogue/products/{product.pk}/").status_code == 200
