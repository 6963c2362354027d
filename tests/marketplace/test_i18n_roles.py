"""Every page each role reaches, signed in as that role, is fully translated into
Vietnamese: the buyer's flow, the farmer's, association and post-office staff's, the
operator's pages and the pages of Oscar's dashboard the operator uses."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from oscar.core.loading import get_model

from marketplace.models import Certificate, Parcel, ProducerProfile
from tests.i18n import record_untranslated

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")

BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"
ASSOCIATION = "canbohoi@nongsan.test"
POST_OFFICE = "buudien@nongsan.test"
OPERATOR = "quantri@nongsan.test"


def with_demo_orders():
    """The demo's orders (one in each state), which the test database leaves out."""
    import io

    from marketplace.demo.orders import seed

    seed(io.StringIO())


def role_pages() -> dict[str, list[str]]:
    """The main pages of each role, signed in as that role (call with_demo_orders first)."""
    order = Order.objects.filter(user__email=BUYER).order_by("number").first()
    farmer = ProducerProfile.objects.get(partner__users__email=FARMER)
    farmer_parcel = Parcel.objects.filter(partner=farmer.partner).order_by("pk").first()
    product = farmer.partner.stockrecords.order_by("pk").first().product
    post_parcel = Parcel.objects.filter(partner__producer_profile__province_code=66).first()
    from farmers.scope import scope_of

    staff = get_user_model().objects.get(email=ASSOCIATION)
    member = scope_of(staff).members().order_by("pk").first()
    certificate = Certificate.objects.filter(producer=farmer).order_by("pk").first()
    category = Category.objects.order_by("pk").first()
    buyer = get_user_model().objects.get(email=BUYER)
    return {
        BUYER: [
            "/accounts/orders/",
            f"/accounts/orders/{order.number}/",
            reverse("customer:anon-order-form", args=[order.number, order.verification_hash()]),
            "/accounts/addresses/",
            "/accounts/profile/",
            "/accounts/change-password/",
            "/accounts/notifications/inbox/",
            "/accounts/wishlists/",
        ],
        FARMER: [
            "/cua-hang/",
            "/cua-hang/san-pham/",
            "/cua-hang/san-pham/them/",
            f"/cua-hang/san-pham/{product.pk}/sua/",
            "/cua-hang/don-hang/",
            f"/cua-hang/don-hang/{farmer_parcel.pk}/",
            "/cua-hang/chung-nhan/",
            "/cua-hang/chung-nhan/them/",
            f"/cua-hang/chung-nhan/{certificate.pk}/",
            "/cua-hang/tien-thu-ho/",
            "/cua-hang/quyet-toan/",
            "/lo-hang/",
            "/lo-hang/tao/",
        ],
        ASSOCIATION: [
            "/can-bo/",
            "/can-bo/hoi-vien/",
            "/can-bo/hoi-vien/them/",
            f"/can-bo/hoi-vien/{member.pk}/",
            "/can-bo/nhap-hoi-vien/",
            "/can-bo/nhap-hoi-vien/moi/",
            "/can-bo/bao-cao/",
            "/can-bo/san-pham/",
            "/can-bo/chung-nhan/",
        ],
        POST_OFFICE: [
            "/buu-dien/",
            "/buu-dien/buu-gui/",
            f"/buu-dien/buu-gui/{post_parcel.pk}/",
            "/buu-dien/nop-tien/",
            "/can-bo/hoi-vien/",
            "/can-bo/san-pham/",
        ],
        OPERATOR: [
            "/quan-tri/",
            "/quan-tri/san-pham-cho-duyet/",
            "/quan-tri/chung-nhan/",
            "/quan-tri/chung-nhan/sap-het-han/",
            "/quan-tri/chuyen-khoan/",
            "/quan-tri/chuyen-khoan/sao-ke/",
            "/quan-tri/doi-soat-cod/",
            "/quan-tri/tien-buu-dien-nop/",
            "/quan-tri/quyet-toan/",
            f"/quan-tri/don-hang/{order.number}/hoan-tien/",
            "/quan-tri/cai-dat-thanh-toan/",
            "/dashboard/",
            "/dashboard/orders/",
            f"/dashboard/orders/{order.number}/",
            "/dashboard/catalogue/",
            "/dashboard/catalogue/categories/",
            f"/dashboard/catalogue/products/{product.pk}/",
            f"/dashboard/catalogue/categories/{category.pk}/update/",
            "/dashboard/catalogue/product-types/",
            "/dashboard/catalogue/stock-alerts/",
            "/dashboard/catalogue/attribute-option-group/",
            f"/dashboard/partners/{farmer.partner_id}/",
            f"/dashboard/users/{buyer.pk}/",
            "/dashboard/vouchers/create/",
            "/dashboard/vouchers/sets/",
            "/dashboard/orders/statistics/",
            "/dashboard/pages/create/",
            "/dashboard/users/",
            "/dashboard/partners/",
            "/dashboard/shipping/weight-based/",
            "/dashboard/offers/",
            "/dashboard/vouchers/",
            "/dashboard/pages/",
            "/dashboard/reports/",
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("email", [BUYER, FARMER, ASSOCIATION, POST_OFFICE, OPERATOR])
def test_every_page_of_each_role_is_in_vietnamese(client, demo, email):
    with_demo_orders()
    client.force_login(get_user_model().objects.get(email=email))
    untranslated = {}
    for url in role_pages()[email]:
        with record_untranslated("vi") as missing:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if missing:
            untranslated[url] = sorted(missing)
        html = response.content.decode().replace("Thứ tự hiển thị", "")  # display order
        assert "Thứ tự" not in html, url  # an order is "Đơn hàng"
    assert untranslated == {}


@pytest.mark.django_db
def test_adding_to_the_basket_says_the_new_total_in_vietnamese(client, demo):
    product = Product.objects.get(upc="NS0001")
    with record_untranslated("vi") as missing:
        response = client.post(
            reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1}, follow=True
        )
    html = response.content.decode()
    assert "Tổng giỏ hàng của bạn bây giờ là" in html
    assert "Your basket total" not in html
    assert sorted(missing) == []


@pytest.mark.django_db
def test_an_order_is_a_don_hang_and_the_guest_status_form_is_vietnamese(client, demo):
    with_demo_orders()
    order = Order.objects.filter(user__email=BUYER).order_by("number").first()
    form_url = reverse("customer:anon-order-form", args=[order.number, order.verification_hash()])
    with record_untranslated("vi") as missing:
        guest = client.get(form_url).content.decode()
    assert sorted(missing) == []
    assert "Nhập địa chỉ e-mail hoặc số điện thoại bạn đã cho khi đặt đơn hàng này" in guest
    client.force_login(get_user_model().objects.get(email=OPERATOR))
    for url in (f"/dashboard/orders/{order.number}/", "/dashboard/orders/", "/dashboard/"):
        html = client.get(url).content.decode()
        assert "Thứ tự" not in html, url
        for english in ("N/A", "Offers, vouchers", "Status Changes", "Những hách hàng", "inc thuế"):
            assert english not in html, (url, english)
    detail = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert "Đơn hàng" in detail
    assert not re.search(r"<td[^>]*>\s*Paid\s*</td>", detail)  # payment events
    assert re.search(r"\d{2}/\d{2}/\d{4}", detail)


@pytest.mark.django_db
def test_every_checkout_step_is_in_vietnamese(client, demo):
    from tests.marketplace.test_checkout_address import GOOD

    client.force_login(get_user_model().objects.get(email=BUYER))
    client.post(
        reverse("basket:add", kwargs={"pk": Product.objects.get(upc="NS0001").pk}), {"quantity": 1}
    )
    steps = [
        ("get", "/checkout/", None),
        ("post", "/checkout/shipping-address/", GOOD),
        ("get", "/checkout/payment-details/", None),
        ("post", "/checkout/preview/", {"method": "cod"}),
        ("post", "/checkout/preview/", {"action": "place_order"}),
    ]
    untranslated = {}
    for method, url, data in steps:
        with record_untranslated("vi") as missing:
            response = getattr(client, method)(url, data or {}, follow=True)
        assert response.status_code == 200, url
        if missing:
            untranslated[f"{method} {url}"] = sorted(missing)
    assert response.redirect_chain[-1][0] == "/checkout/thank-you/"
    assert untranslated == {}
