"""Producers are told what to pack (each new order, after commit), get a morning digest,
and the post office gets the day's list of parcels to pick up per producer: in
Vietnamese, with a link, each message sent once however often its task runs."""

import datetime

import pytest
from django.test import override_settings
from oscar.core.loading import get_model

from marketplace import tasks
from marketplace.core.links import absolute_url
from marketplace.core.money import format_dong
from marketplace.fulfilment import notifications, producer_notices
from marketplace.fulfilment import services as fulfilment
from marketplace.models import Parcel, ProducerNotice
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import users

Partner = get_model("partner", "Partner")

TWO_FARMS = {"NS0005": 1, "NS0009": 2}  # durian (the demo farmer, Đắk Lắk), pepper (Gia Lai)
DAY = datetime.date(2026, 12, 7)
FARMER_PHONE = "+84905999001"


@pytest.fixture
def people(client, demo):
    found = users()
    client.force_login(found["buyer"])
    notifications.LocmemSMSSender.outbox.clear()
    producer_notices.LocmemZaloSender.outbox.clear()
    # The demo farmer also signs in by phone (a second account of the same shop).
    farm = Partner.objects.get(users=found["farmer"])
    phone_user = type(found["farmer"]).objects.create_user(
        username=FARMER_PHONE, email="", password="x"
    )
    farm.users.add(phone_user)
    found["farm"] = farm
    found["client"] = client
    return found


def _to(outbox, address):
    return [m for m in outbox if address in m.to]


def _sms_to(phone):
    return [s for s in notifications.LocmemSMSSender.outbox if s["phone"] == phone]


@pytest.mark.django_db
def test_a_producer_is_told_what_to_pack_once_after_the_order_commits(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = checkout(people["client"], TWO_FARMS)
    # Nothing leaves while the order's transaction is open.
    assert not _to(mailoutbox, "nongdan@nongsan.test") and not _sms_to(FARMER_PHONE)
    for callback in callbacks:
        callback()

    parcel = order.parcels.get(partner=people["farm"])
    [mail] = _to(mailoutbox, "nongdan@nongsan.test")
    assert mail.subject == f"Đơn hàng mới {order.number} cần đóng gói"
    body = mail.body
    assert f"Đóng gói cho đơn hàng {order.number}:" in body
    line = order.lines.get(partner=people["farm"])
    assert f"- {line.title} × 1" in body
    # Only its own goods: never the other farm's pepper.
    other = order.lines.exclude(partner=people["farm"]).get()
    assert other.title not in body
    assert absolute_url(f"/cua-hang/don-hang/{parcel.pk}/") in body
    cod = format_dong(parcel.cod_amount)
    assert parcel.cod_amount == 140000 and f"Bưu điện thu hộ {cod} khi giao hàng." in body
    [sms] = _sms_to(FARMER_PHONE)
    assert order.number in sms["message"] and f"/cua-hang/don-hang/{parcel.pk}/" in sms["message"]

    # The task delivered twice (a Celery retry): nothing more is sent.
    mails, texts = len(mailoutbox), len(notifications.LocmemSMSSender.outbox)
    assert tasks.notify_producers(order.pk) == 0
    assert tasks.notify_producers.delay(order.pk).get() == 0
    assert (len(mailoutbox), len(notifications.LocmemSMSSender.outbox)) == (mails, texts)
    assert ProducerNotice.objects.filter(parcel=parcel).count() == 2  # e-mail and SMS


@pytest.mark.django_db
def test_an_unpaid_transfer_order_says_to_wait_for_the_payment(people, mailoutbox):
    order = checkout(people["client"], {"NS0005": 1}, method="vietqr")
    producer_notices.notify_new_order(order_id=order.pk)
    [mail] = _to(mailoutbox, "nongdan@nongsan.test")
    assert "chưa thanh toán" in mail.body


@pytest.mark.django_db
def test_the_morning_digest_groups_each_producers_own_parcels_once_a_day(people, mailoutbox):
    first = checkout(people["client"], TWO_FARMS)
    second = checkout(people["client"], {"NS0005": 3})
    packed = second.parcels.get()
    fulfilment.pack(packed, people["farmer"])
    pepper = first.parcels.exclude(partner=people["farm"]).get().partner
    pepper.users.add(
        type(people["farmer"]).objects.create_user(
            username="tieu", email="tieu@nongsan.test", password="x"
        )
    )
    mailoutbox.clear()
    notifications.LocmemSMSSender.outbox.clear()

    assert producer_notices.send_digests(day=DAY) > 0
    [mail] = _to(mailoutbox, "nongdan@nongsan.test")
    assert mail.subject == "Đơn hàng của bạn ngày 07/12/2026"
    body = mail.body
    # Its own open parcels: one to pack (listed with its goods), one awaiting the post office.
    assert "1 bưu gửi cần đóng gói, 1 đang chờ bưu điện đến lấy." in body
    assert f"Đơn hàng {first.number}:" in body
    assert f"Đơn hàng {second.number}:" not in body  # already packed
    assert first.lines.exclude(partner=people["farm"]).get().title not in body
    assert "/cua-hang/don-hang/" in body
    assert ProducerNotice.objects.filter(key=f"digest:{people['farm'].pk}:{DAY}").count() == 2
    # Each producer has its own digest, with its own goods only.
    [other] = _to(mailoutbox, "tieu@nongsan.test")
    assert "2 bưu gửi" not in other.body and f"Đơn hàng {first.number}:" in other.body
    assert first.lines.get(partner=people["farm"]).title not in other.body
    count = len(mailoutbox)
    assert producer_notices.send_digests(day=DAY) == 0
    assert len(mailoutbox) == count
    # The next morning is another digest.
    assert producer_notices.send_digests(day=DAY + datetime.timedelta(days=1)) > 0


@pytest.mark.django_db
def test_the_post_office_gets_its_pickup_list_per_producer_once_a_day(
    people, mailoutbox, django_assert_max_num_queries
):
    order = checkout(people["client"], TWO_FARMS)
    durian = order.parcels.get(partner=people["farm"])
    fulfilment.pack(durian, people["farmer"])
    pepper = order.parcels.exclude(pk=durian.pk).get()
    Parcel.objects.filter(pk=pepper.pk).update(status=Parcel.Status.PACKED)
    mailoutbox.clear()
    with django_assert_max_num_queries(3):  # the post offices and their staff, the parcels
        lists = producer_notices.pickup_lists()
    assert sum(len(parcels) for office, groups in lists.values() for _, parcels in groups) >= 1

    assert producer_notices.send_pickup_lists(day=DAY) > 0
    [mail] = _to(mailoutbox, "buudien@nongsan.test")  # Bưu điện tỉnh Đắk Lắk
    assert mail.subject == "Bưu gửi cần lấy ngày 07/12/2026"
    body = mail.body
    assert f"{people['farm'].name} (" in body and order.number in body
    assert "1 bưu gửi" in body
    # Gia Lai's pepper is not on Đắk Lắk's list.
    assert pepper.partner.name not in body
    assert "/buu-dien/buu-gui/?trang-thai=packed" in body
    count = len(mailoutbox)
    assert tasks.pickup_lists.delay().get() >= 0
    assert producer_notices.send_pickup_lists(day=DAY) == 0
    # The task sends today's list (another day's mail when today is not DAY): DAY's once.
    same_day = [m for m in _to(mailoutbox, "buudien@nongsan.test") if m.subject == mail.subject]
    assert len(same_day) == 1 and len(mailoutbox) >= count


@pytest.mark.django_db
@override_settings(
    NOTIFICATION_ZALO_SENDER="marketplace.fulfilment.producer_notices.LocmemZaloSender"
)
def test_a_zalo_sender_named_in_the_settings_sends_too(people, mailoutbox):
    order = checkout(people["client"], {"NS0005": 1})
    producer_notices.notify_new_order(order_id=order.pk)
    [zalo] = producer_notices.LocmemZaloSender.outbox
    assert zalo["phone"] == FARMER_PHONE and order.number in zalo["message"]
    assert producer_notices.notify_new_order(order_id=order.pk) == []


def test_the_beat_schedule_runs_the_digest_and_the_pickup_lists():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"nongsan.producer_digests", "nongsan.pickup_lists"} <= tasks_scheduled


def test_parcel_statuses_the_digest_reads():
    assert set(Parcel.OPEN_STATUSES) == {Parcel.Status.NEW, Parcel.Status.PACKED}


@pytest.mark.django_db
def test_a_producer_with_only_an_email_gets_mail_and_one_with_only_a_phone_gets_sms(
    people, mailoutbox
):
    """A shop run only by someone who signs in by e-mail (no phone stored) is still told of
    its new orders and in its digest, by e-mail; one run only by someone who signs in by
    phone (no e-mail) is told by SMS."""
    User = type(people["farmer"])
    durian_farm = people["farm"]
    # The durian farm: only the demo farmer, who signs in by e-mail.
    durian_farm.users.remove(User.objects.get(username=FARMER_PHONE))
    assert [u.email for u in durian_farm.users.all()] == ["nongdan@nongsan.test"]
    assert not durian_farm.users.filter(username__startswith="+").exists()
    # The pepper farm: only someone who signs in by phone, with no e-mail.
    pepper_phone = "+84905999002"
    pepper_farm = Partner.objects.get(stockrecords__product__upc="NS0009")
    pepper_farm.users.set([User.objects.create_user(username=pepper_phone, email="", password="x")])

    order = checkout(people["client"], TWO_FARMS)
    mailoutbox.clear()
    notifications.LocmemSMSSender.outbox.clear()
    sent = producer_notices.notify_new_order(order_id=order.pk)

    durian_parcel = order.parcels.get(partner=durian_farm)
    pepper_parcel = order.parcels.get(partner=pepper_farm)
    assert sorted(sent) == [("email", "nongdan@nongsan.test"), ("sms", pepper_phone)]
    # E-mail only: the new order by e-mail, in Vietnamese, with its link.
    [mail] = mailoutbox
    assert mail.to == ["nongdan@nongsan.test"]
    assert mail.subject == f"Đơn hàng mới {order.number} cần đóng gói"
    assert f"/cua-hang/don-hang/{durian_parcel.pk}/" in mail.body
    # Phone only: the new order by SMS, with its own parcel's link.
    [sms] = notifications.LocmemSMSSender.outbox
    assert sms["phone"] == pepper_phone and order.number in sms["message"]
    assert f"/cua-hang/don-hang/{pepper_parcel.pk}/" in sms["message"]
    assert "cần đóng gói" in sms["message"]
    assert {(n.partner_id, n.channel) for n in ProducerNotice.objects.filter(kind="new_order")} == {
        (durian_farm.pk, "email"),
        (pepper_farm.pk, "sms"),
    }

    # The morning digest reaches both the same way.
    mailoutbox.clear()
    notifications.LocmemSMSSender.outbox.clear()
    producer_notices.send_digests(day=DAY)
    assert [m.to for m in mailoutbox] == [["nongdan@nongsan.test"]]
    [digest_sms] = notifications.LocmemSMSSender.outbox
    assert digest_sms["phone"] == pepper_phone and order.number in digest_sms["message"]
