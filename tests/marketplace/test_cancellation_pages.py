"""The pages of cancellations, failed deliveries, returns and refunds: the buyer's order
page (signed in and guest), the producer's parcel page, the post office's parcel page and
the operator's refund page — who may do what, and what each page shows."""

import html

import pytest
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from marketplace.fulfilment import services as fulfilment
from marketplace.models import CancelledLine, Parcel, Refund
from marketplace.payments.state import payment_state
from tests.marketplace import test_fulfilment as shared
from tests.marketplace.money_world import assert_reconciles, pay, place
from tests.marketplace.orders import checkout
from tests.marketplace.test_fulfilment import make_user, parcel_of, s10

Order = get_model("order", "Order")

people = shared.people
TWO_FARMS = {"NS0005": 1, "NS0009": 2}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def text(response):
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_buyer_cancels_one_parcel_from_the_order_page(people):
    buyer = signed_in(people["buyer"])
    order = checkout(buyer, TWO_FARMS)
    page_url = f"/accounts/orders/{order.number}/"
    page = text(buyer.get(page_url))
    assert page.count('class="nongsan-cancel-form"') == 3  # each parcel, and the order
    durian = parcel_of(order, "krongpac")
    # Another buyer cannot.
    other = signed_in(make_user("khac@nongsan.test"))
    cancel_url = f"/don-hang/{order.number}/huy/"
    assert other.post(cancel_url, {"parcel": durian.pk, "reason": "mistake"}).status_code == 404
    assert Client().post(cancel_url, {"reason": "mistake"}).status_code == 404
    # "Other" needs a word of explanation.
    response = buyer.post(cancel_url, {"parcel": durian.pk, "reason": "other"}, follow=True)
    assert Parcel.objects.get(pk=durian.pk).status == "new"
    response = buyer.post(
        cancel_url, {"parcel": durian.pk, "reason": "mistake", "note": "trùng đơn"}, follow=True
    )
    assert response.redirect_chain[-1][0] == page_url
    durian.refresh_from_db()
    assert durian.status == "cancelled" and durian.cancel_reason.endswith("trùng đơn")
    page = text(response)
    assert 'data-status="cancelled"' in page and "trùng đơn" in page
    assert page.count('class="nongsan-cancel-form"') == 2  # the pepper parcel, the order
    # Strange parcel ids get a clear answer, never a 500.
    for bad in ("abc", "9" * 30, "-1", "²"):
        assert buyer.post(cancel_url, {"parcel": bad, "reason": "mistake"}).status_code == 404
    assert_reconciles()


@pytest.mark.django_db
def test_a_guest_cancels_the_whole_order_from_the_signed_order_status_page(people):
    order = checkout(Client(), {"NS0005": 1}, guest_email="khach@example.com")
    link = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    right = f"/don-hang/{order.number}/{order.verification_hash()}/huy/"
    wrong = f"/don-hang/{order.number}/{order.verification_hash()}x/huy/"
    # Without the e-mail confirmed on Oscar's order-status form, nothing.
    assert Client().post(right, {"reason": "mistake"}).status_code == 404
    guest = Client()
    form_url = guest.get(link).url
    page = guest.post(form_url, {"contact": "khach@example.com"}, follow=True)
    assert 'class="nongsan-cancel-form"' in text(page)
    assert guest.post(wrong, {"reason": "mistake"}).status_code == 404
    response = guest.post(right, {"reason": "changed_mind"}, follow=True)
    assert response.redirect_chain[-1][0] == link
    assert Parcel.objects.get(order=order).status == "cancelled"
    assert payment_state(order).code == "nothing_due"
    assert 'class="nongsan-cancel-form"' not in text(response)


@pytest.mark.django_db
def test_the_farmer_cancels_a_line_it_cannot_supply_from_its_parcel_page(people):
    buyer = signed_in(people["buyer"])
    order = checkout(buyer, {"NS0005": 1, "NS0007": 2})
    parcel = parcel_of(order, "krongpac")
    avocado = order.lines.get(product__upc="NS0007")
    url = f"/cua-hang/don-hang/{parcel.pk}/huy-dong/{avocado.pk}/"
    farmer = signed_in(people["farmer"])
    page = text(farmer.get(f"/cua-hang/don-hang/{parcel.pk}/"))
    assert url in page
    assert (
        signed_in(people["chuse_farmer"]).post(url, {"reason": "out_of_stock"}).status_code == 404
    )
    farmer.post(url, {"reason": "harvest_failed"})
    cancelled = CancelledLine.objects.get(line=avocado)
    assert cancelled.role == "producer" and cancelled.cancelled_by == people["farmer"]
    page = text(farmer.get(f"/cua-hang/don-hang/{parcel.pk}/"))
    assert f'data-line="{avocado.pk}"' in page
    # The buyer sees the parcel go on, for less.
    assert_reconciles()


@pytest.mark.django_db
def test_the_post_office_records_a_failed_delivery_then_the_return(people):
    order = place(people["buyer"], TWO_FARMS, "cod")
    staff = people["post_office_staff"]
    parcel = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    fulfilment.set_tracking(parcel, staff, s10("66667777"))
    fulfilment.pick_up(parcel, staff)
    counter = signed_in(staff)
    page = text(counter.get(f"/buu-dien/buu-gui/{parcel.pk}/"))
    assert f"/buu-dien/buu-gui/{parcel.pk}/giao-that-bai/" in page
    other = signed_in(people["other_post_office"])
    assert (
        other.post(
            f"/buu-dien/buu-gui/{parcel.pk}/giao-that-bai/", {"reason": "refused"}
        ).status_code
        == 404
    )
    counter.post(f"/buu-dien/buu-gui/{parcel.pk}/giao-that-bai/", {"reason": "refused"})
    assert Parcel.objects.get(pk=parcel.pk).status == "failed"
    counter.post(f"/buu-dien/buu-gui/{parcel.pk}/chuyen-hoan/", {"fee": "abc"})
    assert Parcel.objects.get(pk=parcel.pk).status == "failed"
    counter.post(f"/buu-dien/buu-gui/{parcel.pk}/chuyen-hoan/", {"fee": "22.000"})
    parcel.refresh_from_db()
    assert (parcel.status, parcel.return_shipping_fee) == ("returned", 22000)
    assert "22.000" in text(counter.get(f"/buu-dien/buu-gui/{parcel.pk}/"))
    assert_reconciles()


@pytest.mark.django_db
def test_the_operator_refunds_a_vietqr_order_by_transfer_with_a_qr_code(people):
    order = place(people["buyer"], {"NS0005": 1}, "vietqr")
    pay(order, people["operator"])
    operator = signed_in(people["operator"])
    url = f"/quan-tri/don-hang/{order.number}/hoan-tien/"
    assert signed_in(people["farmer"]).post(url, {"amount": "1000"}).status_code == 403
    assert operator.post(url, {"amount": "140.001"}).status_code == 200
    assert not Refund.objects.exists()
    operator.post(url, {"amount": "40.000", "reason": "Quả dập"})
    refund = Refund.objects.get()
    assert (refund.method, refund.status, refund.amount) == ("transfer", "pending", 40000)
    transfer_url = f"/quan-tri/don-hang/{order.number}/hoan-tien/{refund.pk}/chuyen-khoan/"
    account = {
        f"r{refund.pk}-bank_bin": "970436",
        f"r{refund.pk}-account_number": "0123456789",
        f"r{refund.pk}-account_name": "Nguyen Thi Mai",
    }
    shown = text(operator.post(transfer_url, {**account, "show_qr": "1"}))
    assert "<svg" in shown and 'class="nongsan-vietqr"' in shown
    assert Refund.objects.get().status == "pending"
    missing = operator.post(transfer_url, account)
    assert missing.status_code == 200 and Refund.objects.get().status == "pending"
    operator.post(transfer_url, {**account, f"r{refund.pk}-bank_reference": "FT2534001"})
    refund.refresh_from_db()
    assert (refund.status, refund.bank_reference, refund.executed_by) == (
        "succeeded",
        "FT2534001",
        people["operator"],
    )
    assert payment_state(order).code == "partly_refunded"
    buyer_page = text(signed_in(people["buyer"]).get(f"/accounts/orders/{order.number}/"))
    assert 'data-refunded="40000"' in buyer_page
    assert_reconciles()


@pytest.mark.django_db
def test_the_operator_cancels_a_packed_parcel(people):
    order = place(people["buyer"], TWO_FARMS, "cod")
    parcel = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    operator = signed_in(people["operator"])
    page = text(operator.get(f"/quan-tri/don-hang/{order.number}/hoan-tien/"))
    assert f"/quan-tri/don-hang/{order.number}/huy/" in page
    url = f"/quan-tri/don-hang/{order.number}/huy/"
    assert (
        signed_in(people["buyer"])
        .post(url, {"parcel": parcel.pk, "reason": "other", "note": "x"})
        .status_code
        == 403
    )
    operator.post(url, {"parcel": parcel.pk, "reason": "other", "note": "Hàng hỏng"})
    parcel.refresh_from_db()
    assert parcel.status == "cancelled" and parcel.cancelled_role == "operator"
    assert_reconciles()
