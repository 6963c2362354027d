"""After "Place order": one parcel per producer written with the order, what the post
office collects, the buyer's notifications (Celery, after commit, once each) and the
buyer's order page (payment state, parcels, the VietQR code while a transfer is awaited)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from marketplace.fulfilment import notifications
from marketplace.models import Notification, Parcel
from marketplace.payments.state import PaymentError, payment_state, record_payment
from tests.marketplace.orders import checkout
from tests.marketplace.test_checkout_address import GOOD
from tests.marketplace.test_farmer_products import users

Order = get_model("order", "Order")

# NS0005: durian from Krông Pắc (Đắk Lắk), 1 kg, 120.000 ₫; NS0009: pepper from Chư Sê
# (Gia Lai), 0,5 kg, 110.000 ₫. The buyer is in Đắk Lắk: same province, then same region.
TWO_FARMS = {"NS0005": 1, "NS0009": 2}


@pytest.fixture
def buyer(client, demo):
    client.force_login(users()["buyer"])
    notifications.LocmemSMSSender.outbox.clear()
    return client


@pytest.mark.django_db
def test_a_basket_from_two_farms_ships_as_two_parcels_that_add_up_to_the_order(buyer):
    order = checkout(buyer, TWO_FARMS)
    parcels = list(order.parcels.select_related("partner").order_by("pk"))
    assert len(parcels) == 2
    assert {p.partner_id for p in parcels} == {line.partner_id for line in order.lines.all()}
    durian = next(p for p in parcels if p.goods_total == Decimal("120000"))
    pepper = next(p for p in parcels if p.goods_total == Decimal("220000"))
    assert durian.weight_grams == 1000 and pepper.weight_grams == 1000
    assert durian.shipping_charge == Decimal("20000")  # same province, ≤ 1 kg
    assert pepper.shipping_charge == Decimal("30000")  # same region (Tây Nguyên), ≤ 1 kg
    assert sum(p.shipping_charge for p in parcels) == order.shipping_incl_tax
    # Cash on delivery: each parcel's postman collects goods + delivery for that parcel.
    assert [p.cod_amount for p in parcels] == [p.goods_total + p.shipping_charge for p in parcels]
    assert sum(p.cod_amount for p in parcels) == order.total_incl_tax == Decimal("390000")
    assert {p.status for p in parcels} == {Parcel.Status.NEW}


@pytest.mark.django_db
def test_a_prepaid_order_has_nothing_to_collect(buyer):
    order = checkout(buyer, TWO_FARMS, method="vietqr")
    assert [p.cod_amount for p in order.parcels.all()] == [0, 0]


@pytest.mark.django_db
def test_placing_an_order_notifies_the_buyer_once_by_email_and_sms_after_commit(
    buyer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = checkout(buyer, TWO_FARMS)
    assert callbacks, "the notification waits for the commit"
    # (The producers are told too: tests/marketplace/test_producer_notices.py.)
    mails = [m for m in mailoutbox if m.to == ["nguoimua@nongsan.test"]]
    assert len(mails) == 1
    with translation.override("vi"):
        subject = gettext("Order %(number)s received") % {"number": order.number}
    assert mails[0].subject == subject
    assert f"/accounts/orders/{order.number}/" in mails[0].body
    assert "390.000" in mails[0].body
    sent = [s for s in notifications.LocmemSMSSender.outbox if s["phone"] == "+84912345678"]
    [sms] = sent
    assert order.number in sms["message"]

    # Celery retries, a task delivered twice: nothing is sent again.
    count, sms_count = len(mailoutbox), len(notifications.LocmemSMSSender.outbox)
    assert notifications.notify(order.pk, "placed") == []
    assert len(mailoutbox) == count and len(notifications.LocmemSMSSender.outbox) == sms_count
    assert Notification.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_a_parcel_notification_is_sent_once_per_parcel(buyer, mailoutbox):
    order = checkout(buyer, TWO_FARMS)
    first, second = order.parcels.order_by("pk")
    first.tracking_number = "EB123456785VN"
    first.save()
    assert sorted(notifications.notify(order.pk, "shipped", first.pk)) == ["email", "sms"]
    assert sorted(notifications.notify(order.pk, "shipped", second.pk)) == ["email", "sms"]
    assert notifications.notify(order.pk, "shipped", first.pk) == []
    assert "EB123456785VN" in mailoutbox[0].body
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            order=order, parcel=first, kind="shipped", channel="sms", recipient="x"
        )


@pytest.mark.django_db
def test_a_guest_gets_a_link_to_the_order_status_page_that_works(client, demo, mailoutbox):
    order = checkout(client, {"NS0005": 1}, guest_email="khach@example.com")
    assert order.user is None and order.guest_email == "khach@example.com"
    notifications.notify(order.pk, "placed", None, "en")
    body = mailoutbox[-1].body
    link = body[body.index("http://") :].split()[0]
    assert f"/order-status/{order.number}/" in link
    client.logout()
    # Oscar asks the guest for the e-mail address of the order first.
    form = client.get(link.removeprefix("http://127.0.0.1:8000"))
    assert form.status_code == 302 and "/order-status-form/" in form.url
    wrong = client.post(form.url, {"email": "someone@example.com"}, follow=True)
    assert wrong.status_code == 200 and "nongsan-parcel" not in wrong.content.decode()
    page = client.post(form.url, {"contact": "khach@example.com"}, follow=True)
    assert page.status_code == 200
    with translation.override("en"):
        assert gettext("Pay on delivery") in page.content.decode()
    assert page.content.decode().count('class="nongsan-parcel"') == 1
    # A forged hash shows nothing of the order.
    forged = client.get(f"/accounts/order-status/{order.number}/forged-hash/", follow=True)
    assert "Ea Kao" not in forged.content.decode()


@pytest.mark.django_db
def test_the_order_page_shows_payment_state_parcels_and_the_code_until_paid(buyer, demo):
    order = checkout(buyer, TWO_FARMS, method="vietqr")
    html = buyer.get(f"/accounts/orders/{order.number}/").content.decode()
    with translation.override("vi"):
        assert gettext("Awaiting bank transfer") in html
        assert gettext("Awaiting packing") in html
    assert html.count('class="nongsan-parcel"') == 2
    assert "nongsan-vietqr" in html and "<svg" in html

    record_payment(order, method="vietqr", amount=order.total_incl_tax, reference="FT1")
    html = buyer.get(f"/accounts/orders/{order.number}/").content.decode()
    with translation.override("vi"):
        assert gettext("Paid") in html
    assert "nongsan-vietqr" not in html


@pytest.mark.django_db
def test_another_buyer_cannot_see_the_order(client, buyer):
    order = checkout(buyer, {"NS0005": 1})
    client.force_login(users()["farmer"])
    assert client.get(f"/accounts/orders/{order.number}/").status_code == 404


@pytest.mark.django_db
def test_payments_are_recorded_once_and_never_above_the_total(buyer):
    order = checkout(buyer, {"NS0005": 1}, method="vietqr")  # 140.000 ₫
    assert payment_state(order).code == "awaiting_transfer"
    record_payment(order, method="vietqr", amount=100000, reference="FT1")
    order = Order.objects.get(pk=order.pk)
    state = payment_state(order)
    assert (state.code, state.paid, state.outstanding) == ("partly_paid", 100000, 40000)
    with translation.override("en"), pytest.raises(PaymentError, match="more than the order"):
        record_payment(order, method="vietqr", amount=40001)
    with translation.override("en"), pytest.raises(PaymentError, match="not paid this way"):
        record_payment(order, method="cod", amount=40000)
    with pytest.raises(PaymentError):
        record_payment(order, method="vietqr", amount=0)
    record_payment(order, method="vietqr", amount=40000, reference="FT2")
    order = Order.objects.get(pk=order.pk)
    assert payment_state(order).code == "paid"
    assert order.payment_events.count() == 2


@pytest.mark.django_db
def test_the_payment_and_parcels_part_of_the_order_page_is_constant(buyer):
    """Our part of the page (payment source and parcels) is read in the same few queries
    for one parcel or five; Oscar's own order lines add one query a line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = checkout(buyer, {"NS0005": 1})
    big = checkout(buyer, {"NS0005": 1, "NS0009": 1, "NS0001": 1, "NS0013": 1, "NS0019": 1})
    assert big.parcels.count() == 5
    ours, totals = [], []
    for order in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert buyer.get(f"/accounts/orders/{order.number}/").status_code == 200
        sql = [q["sql"] for q in ctx.captured_queries]
        ours.append(sum(1 for q in sql if "marketplace_parcel" in q or "payment_source" in q))
        totals.append(len(sql))
    assert ours[0] == ours[1] <= 3, ours
    assert totals[1] - totals[0] <= 5, totals  # four more lines: Oscar reads each line's product


@pytest.mark.django_db
def test_tampered_form_values_change_nothing_at_placement(buyer):
    """Whatever the browser posts besides the choices, the server prices the basket, the
    delivery and the total itself; only the payment method is taken from the form (and
    checked: one not offered places nothing)."""
    durian = get_model("catalogue", "Product").objects.get(upc="NS0005")
    buyer.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    buyer.post("/checkout/shipping-address/", GOOD)
    buyer.get("/checkout/shipping-method/")
    buyer.get("/checkout/payment-method/")
    buyer.post("/checkout/preview/", {"method": "cod"})
    unoffered = buyer.post("/checkout/preview/", {"action": "place_order", "method": "vietqr"})
    assert unoffered.status_code == 200
    assert "alert-danger" in unoffered.content.decode()  # the reason, in Vietnamese
    assert not Order.objects.exists()
    forged = {
        "action": "place_order",
        "method": "cod",
        "order_total": "1",
        "total": "1",
        "shipping_charge": "0",
        "shipping_method": "free-shipping",
        "price": "1",
        "quantity": "100",
    }
    buyer.post("/checkout/preview/", forged)
    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("140000")  # 120.000 durian + 20.000 delivery
    assert order.shipping_incl_tax == Decimal("20000")
    assert [line.quantity for line in order.lines.all()] == [1]
    assert order.sources.get().source_type.code == "cod"
    assert order.parcels.get().cod_amount == Decimal("140000")
