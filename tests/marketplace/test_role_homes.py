"""Each role lands on its home after signing in, on one sign-in page that takes an e-mail or
a Vietnamese phone number; each home counts what needs doing within a query budget, and
answers only its role."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from marketplace.core import homes
from marketplace.core.scope import scope_of
from marketplace.fulfilment.selectors import post_office_todo
from marketplace.models import (
    CodHandover,
    Parcel,
    ProducerBalance,
    ProducerProfile,
    ProductListing,
)
from marketplace.shops.selectors import seller_todo
from marketplace.site_settings.selectors import operator_queues

PASSWORD = "nongsan2026"
BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"
ASSOCIATION = "canbohoi@nongsan.test"
POST_OFFICE = "buudien@nongsan.test"
OPERATOR = "quantri@nongsan.test"
FARMER_WITH_SHOP_PHONE = "0905 123 404"  # Nguyễn Thị Lan, approved: her shop is open
MEMBER_PHONE = "0905123405"  # Rơ Lan Hyơn, returned for changes: no shop yet

HOMES = {
    FARMER: "/cua-hang/",
    ASSOCIATION: "/can-bo/",
    POST_OFFICE: "/buu-dien/",
    OPERATOR: "/quan-tri/",
    BUYER: "/",
}


def sign_in(client, login, password=PASSWORD, next_url=None):
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url, {"login-username": login, "login-password": password, "login_submit": "1"}
    )


def user(email):
    return get_user_model().objects.get(email=email)


@pytest.mark.django_db
@pytest.mark.parametrize(("email", "home"), HOMES.items())
def test_each_role_lands_on_its_home_and_the_header_links_it(client, demo, email, home):
    response = sign_in(client, email)
    assert response.status_code == 302
    assert response["Location"] == home
    page = client.get(home)
    assert page.status_code == 200
    html = page.content.decode()
    if email != BUYER:
        assert 'id="role_home_link" class="ns-btn ns-role-home nongsan-role-home"' in html
        assert f'href="{home}"' in html
    else:
        assert 'id="role_home_link"' not in html


@pytest.mark.django_db
def test_the_header_names_each_home_in_vietnamese(client, demo):
    expected = {
        FARMER: "Kênh người bán",
        ASSOCIATION: "Cán bộ Hội",
        POST_OFFICE: "Bưu điện",
        OPERATOR: "Quản trị sàn",
    }
    for email, label in expected.items():
        client.force_login(user(email))
        assert label in client.get("/").content.decode(), email
        client.logout()


@pytest.mark.django_db
def test_a_farmer_signs_in_with_a_phone_number_on_the_same_page(client, demo):
    response = sign_in(client, FARMER_WITH_SHOP_PHONE)
    assert response.status_code == 302 and response["Location"] == "/cua-hang/"
    client.logout()
    for typed in ("+84905123404", "84905123404", "0905-123-404", "０９０５１２３４０４"):
        assert sign_in(client, typed)["Location"] == "/cua-hang/", typed
        client.logout()
    # A farmer whose shop is not open yet lands on their member record.
    assert sign_in(client, MEMBER_PHONE)["Location"] == reverse("farmers:my-record")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("login", "password", "message"),
    [
        ("12345", PASSWORD, "Nhập e-mail hoặc số điện thoại Việt Nam"),
        ("0905 123 404", "sai-mat-khau", "E-mail, số điện thoại hoặc mật khẩu không đúng"),
        ("khong-co@nongsan.test", PASSWORD, "E-mail, số điện thoại hoặc mật khẩu không đúng"),
        ("09" * 300, PASSWORD, "254"),
    ],
)
def test_a_wrong_sign_in_gets_a_clear_vietnamese_message(client, demo, login, password, message):
    response = sign_in(client, login, password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_sign_in_page_says_e_mail_or_phone(client, demo):
    html = client.get("/accounts/login/").content.decode()
    assert "E-mail hoặc số điện thoại" in html
    assert "Nông dân đăng nhập bằng số điện thoại" in html
    assert f'href="{reverse("farmers:activate")}"' in html  # farmers' first time


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/cua-hang/don-hang/", "/cua-hang/don-hang/"),
        ("https://evil.example/", "/cua-hang/"),
        ("//evil.example/", "/cua-hang/"),
        ("abc", "/cua-hang/"),
    ],
)
def test_a_safe_next_wins_over_the_home(client, demo, next_url, expected):
    response = sign_in(client, FARMER, next_url=next_url)
    assert response["Location"] == expected


@pytest.mark.django_db
def test_a_signed_in_visit_to_the_sign_in_page_goes_home(client, demo):
    client.force_login(user(POST_OFFICE))
    assert client.get("/accounts/login/")["Location"] == "/buu-dien/"


@pytest.mark.django_db
def test_the_old_phone_page_leads_to_the_one_sign_in_page(client, demo):
    response = client.get("/can-bo/dang-nhap/?next=/can-bo/toi/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fcan-bo%2Ftoi%2F"
    assert client.get("/can-bo/dang-nhap/?next=https://evil.example/")["Location"] == (
        "/accounts/login/"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("home", "allowed"),
    [
        ("/cua-hang/", {FARMER}),
        ("/buu-dien/", {POST_OFFICE, OPERATOR}),
        ("/quan-tri/", {OPERATOR}),
        ("/can-bo/", {ASSOCIATION, POST_OFFICE, OPERATOR}),
    ],
)
def test_each_home_answers_only_its_roles(client, demo, home, allowed):
    anonymous = client.get(home)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for email in HOMES:
        client.force_login(user(email))
        status = client.get(home).status_code
        assert (status == 200) == (email in allowed), (home, email, status)
        assert status in (200, 403, 404)
        client.logout()


@pytest.mark.django_db
def test_roles_take_at_most_two_queries(demo, django_assert_max_num_queries):
    expected = {
        FARMER: homes.FARMER,
        ASSOCIATION: homes.ASSOCIATION,
        POST_OFFICE: homes.POST_OFFICE,
        OPERATOR: homes.OPERATOR,
        BUYER: homes.BUYER,
    }
    for email, role in expected.items():
        who = user(email)
        with django_assert_max_num_queries(2):
            assert homes.role_of(who) == role


@pytest.mark.django_db
def test_the_seller_counts_what_needs_doing(demo, django_assert_max_num_queries):
    producer = ProducerProfile.objects.get(partner__users__email=FARMER)
    with django_assert_max_num_queries(4):
        seller_todo(producer)
    record = producer.partner.stockrecords.select_related("product").first()
    ProductListing.objects.update_or_create(
        product=record.product,
        defaults={"producer": producer, "status": ProductListing.Status.PENDING},
    )
    record.num_in_stock, record.num_allocated, record.low_stock_threshold = 3, 0, None
    record.save()
    after = seller_todo(producer)
    assert (
        after.waiting_approval
        == ProductListing.objects.filter(producer=producer, status="pending").count()
    )
    assert after.waiting_approval >= 1
    assert after.low_stock >= 1
    assert after.to_pack == Parcel.objects.filter(partner=producer.partner, status="new").count()


@pytest.mark.django_db
def test_the_seller_home_shows_the_counts_and_every_page(client, demo):
    client.force_login(user(FARMER))
    html = client.get("/cua-hang/").content.decode()
    for label in (
        "Đơn hàng cần đóng gói",
        "Chứng nhận sắp hết hạn",
        "Sản phẩm chờ duyệt",
        "Sắp hết hàng",
    ):
        assert label in html
    for url in (
        "/cua-hang/san-pham/",
        "/lo-hang/",
        "/cua-hang/don-hang/",
        "/cua-hang/chung-nhan/",
        "/cua-hang/quyet-toan/",
    ):
        assert f'href="{url}' in html


@pytest.mark.django_db
def test_the_post_office_counts_in_its_province(demo, django_assert_max_num_queries):
    clerk = user(POST_OFFICE)
    scope = scope_of(clerk)
    with django_assert_max_num_queries(2):
        todo = post_office_todo(clerk, scope)
    in_scope = Parcel.objects.filter(partner__producer_profile__province_code=scope.province_code)
    assert todo.to_pick_up == in_scope.filter(status="packed").count()
    assert todo.in_delivery == in_scope.filter(status="picked_up").count()
    assert (
        todo.producers == ProducerProfile.objects.filter(province_code=scope.province_code).count()
    )
    operator = user(OPERATOR)
    everywhere = post_office_todo(operator, scope_of(operator))
    assert everywhere.to_pick_up == Parcel.objects.filter(status="packed").count()


@pytest.mark.django_db
def test_the_operator_queues(demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        queues = operator_queues()
    assert queues.listings == ProductListing.objects.filter(status="pending").count()
    assert queues.handovers == CodHandover.objects.filter(received_at__isnull=True).count()
    assert queues.payouts == ProducerBalance.objects.filter(balance__gt=0).count()


@pytest.mark.django_db
def test_the_operator_home_links_queues_settings_and_the_dashboard(client, demo):
    client.force_login(user(OPERATOR))
    html = client.get("/quan-tri/").content.decode()
    for url in (
        "/quan-tri/san-pham-cho-duyet/",
        "/quan-tri/chung-nhan/",
        "/quan-tri/chuyen-khoan/",
        "/quan-tri/tien-buu-dien-nop/",
        "/quan-tri/quyet-toan/",
        "/quan-tri/cai-dat-thanh-toan/",
        "/dashboard/",
    ):
        assert f'href="{url}' in html, url


@pytest.mark.django_db
def test_the_association_home_counts_members_by_status(client, demo, django_assert_max_num_queries):
    from farmers.models import Member
    from farmers.scope import scope_of as farmers_scope
    from farmers.selectors import staff_todo

    scope = farmers_scope(user(ASSOCIATION))
    with django_assert_max_num_queries(4):
        todo = staff_todo(scope)
    assert todo["members"].get("submitted", 0) >= 1
    # Counted in the staff member's scope only.
    assert sum(todo["members"].values()) == scope.members().count()
    assert sum(todo["members"].values()) < Member.objects.count()
    client.force_login(user(ASSOCIATION))
    html = client.get("/can-bo/").content.decode()
    for url in ("/can-bo/hoi-vien/?status=submitted", "/can-bo/nhap-hoi-vien/", "/can-bo/bao-cao/"):
        assert f'href="{url}' in html, url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "path", "english"),
    [
        (FARMER, "/en/cua-hang/", "Seller channel"),
        (ASSOCIATION, "/en/can-bo/", "Applications to verify"),
        (POST_OFFICE, "/en/buu-dien/", "Parcels to pick up"),
        (OPERATOR, "/en/quan-tri/", "Listings to approve"),
    ],
)
def test_the_homes_speak_english_at_en(client, demo, email, path, english):
    client.force_login(user(email))
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert english in html
    assert f'href="{path}"' in html  # the header's home link stays in English
