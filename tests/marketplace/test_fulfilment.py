"""Fulfilment services: producers pack their own parcels, the post office enters the tracking
number, picks the parcel up, delivers it and records the cash collected on delivery.

The whole journey of a COD order from two farms; every refused transition with its message;
tracking numbers (UPU S10) and amounts typed badly; the buyer's notifications after commit;
the lots a producer may pack from. Also the helpers the other fulfilment tests share.
"""

import copy
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from farmers.models import Organisation, StaffMembership
from marketplace.demo.base import DEMO_PASSWORD
from marketplace.fulfilment import notifications
from marketplace.fulfilment import services as fulfilment
from marketplace.fulfilment.services import FulfilmentError, s10_check_digit
from marketplace.models import Parcel, ProducerProfile
from marketplace.payments.state import payment_state
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import producer, users
from traceability.models import LineLot, Lot, Recall

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
PaymentEvent = get_model("order", "PaymentEvent")

# NS0005: durian of "krongpac" (Đắk Lắk, the demo farmer), 120.000 ₫ + 20.000 ₫ delivery;
# NS0009: pepper of "chuse" (Gia Lai), 2 × 110.000 ₫ + 30.000 ₫ delivery.
TWO_FARMS = {"NS0005": 1, "NS0009": 2}
DURIAN_COD, PEPPER_COD = Decimal(140000), Decimal(250000)


# --- Shared helpers -----------------------------------------------------------------------------


def s10(serial: str, prefix: str = "EB") -> str:
    """A valid Vietnam Post tracking number with this 8-digit serial."""
    return f"{prefix}{serial}{s10_check_digit(serial)}VN"


def en(message: str, **values) -> str:
    with translation.override("en"):
        text = gettext(message)
    return text % values if values else text


def vi(message: str, **values) -> str:
    with translation.override("vi"):
        text = gettext(message)
    return text % values if values else text


def make_user(email: str):
    return get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=DEMO_PASSWORD
    )


@pytest.fixture
def people(demo):
    """The demo roles (users()), plus a user of the Chư Sê shop (Gia Lai) and the staff of a
    post office in Gia Lai (another province than the demo post office's Đắk Lắk)."""
    found = users()
    chuse = make_user("chuse@nongsan.test")
    producer("chuse").partner.users.add(chuse)
    office = Organisation.objects.create(
        name="Bưu điện tỉnh Gia Lai", kind=Organisation.Kind.POST_OFFICE, province_code=52
    )
    gia_lai = make_user("buudien.gialai@nongsan.test")
    StaffMembership.objects.create(user=gia_lai, organisation=office)
    found["chuse_farmer"] = chuse
    found["other_post_office"] = gia_lai
    return found


def place(people, quantities=None, method="cod"):
    from django.test import Client

    client = Client()
    client.force_login(people["buyer"])
    order = checkout(client, quantities or TWO_FARMS, method=method)
    notifications.LocmemSMSSender.outbox.clear()
    return order


@pytest.fixture
def order(people):
    """A COD order of the demo buyer: durian (krongpac) and pepper (chuse), two parcels."""
    return place(people)


def parcel_of(order, key: str) -> Parcel:
    return Parcel.objects.get(order=order, partner=producer(key).partner)


def packed(order, key, people) -> Parcel:
    owner = people["farmer"] if key == "krongpac" else people["chuse_farmer"]
    return fulfilment.pack(parcel_of(order, key), owner)


def picked_up(order, key, people, number=None) -> Parcel:
    staff = people["post_office_staff"] if key == "krongpac" else people["other_post_office"]
    parcel = packed(order, key, people)
    fulfilment.set_tracking(
        parcel, staff, number or s10("12345678" if key == "krongpac" else "87654321")
    )
    return fulfilment.pick_up(parcel, staff)


def delivered(order, key, people) -> Parcel:
    staff = people["post_office_staff"] if key == "krongpac" else people["other_post_office"]
    return fulfilment.deliver(picked_up(order, key, people), staff)


def make_lot(product, producer_profile, code: str) -> Lot:
    from traceability.services import new_short_code

    return Lot.objects.create(
        product=product,
        producer=producer_profile,
        code=code,
        short_code=new_short_code(),
        quantity=Decimal(100),
        unit="kg",
        province_code=producer_profile.province_code,
        commune_code=producer_profile.commune_code,
    )


def clone_orders(order, key: str, count: int) -> list[Parcel]:
    """`count` more orders like `order`, each with a copy of the producer's lines and its
    parcel (to fill lists quickly)."""
    partner = producer(key).partner
    lines = list(order.lines.filter(partner=partner))
    parcel = Parcel.objects.get(order=order, partner=partner)
    made = []
    for i in range(count):
        address = copy.copy(order.shipping_address)
        address.pk = address.id = None
        address.save()
        new = copy.copy(order)
        new.pk = new.id = None
        new.number = f"{order.number}-{i:03d}"
        new.shipping_address = address
        new.save()
        for line in lines:
            line = copy.copy(line)
            line.pk = line.id = None
            line.order = new
            line.save()
        twin = copy.copy(parcel)
        twin.pk = twin.id = None
        twin.order = new
        twin.save()
        made.append(twin)
    return made


# --- Tracking numbers and amounts ------------------------------------------------------------


def test_the_s10_check_digit_follows_the_upu_rule():
    assert s10_check_digit("12345678") == 5  # EB123456785VN, Vietnam Post's own example
    assert s10_check_digit("47312482") == 9  # RR473124829GB, UPU S10's example
    assert s10_check_digit("00000001") == 4  # 11 - 7
    assert s10_check_digit("00000008") == 0  # 11 - 56 % 11 = 10 → 0
    assert s10_check_digit("00000000") == 5  # 11 - 0 = 11 → 5


@pytest.mark.parametrize(
    "typed",
    [
        "EB123456785VN",
        "eb123456785vn",
        " EB 1234 5678 5 VN ",
        "EB-123-456-785-VN",
        "EB.123456785.VN",
    ],
)
def test_tracking_numbers_are_accepted_as_typed_and_stored_canonical(typed):
    assert fulfilment.clean_tracking_number(typed) == "EB123456785VN"


def test_bad_tracking_numbers_are_refused_with_a_clear_message():
    fmt = en(
        "A tracking number has 2 letters, 9 digits and 2 letters, for example "
        "%(example)s. Check the number on the receipt.",
        example="EB123456785VN",
    )
    cases = {
        "": en("Enter the tracking number printed on the Vietnam Post receipt."),
        "   ": en("Enter the tracking number printed on the Vietnam Post receipt."),
        "EB12345678VN": fmt,  # a digit short
        "EB1234567855VN": fmt,  # a digit long
        "E1123456785VN": fmt,  # one letter
        "EB12345678OVN": fmt,  # letter O for zero
        "123456785": fmt,
        "ĐB123456785VN": fmt,
        "EB١٢٣٤٥٦٧٨٥VN": fmt,  # Arabic-Indic digits are digits to Python, not to us
        "x" * 500: fmt,
        "EB123456785US": en(
            "%(number)s is not a Vietnam Post tracking number: it must end in VN.",
            number="EB123456785US",
        ),
        "EB123456784VN": en(
            "%(number)s is not a valid tracking number: its check digit does not match. "
            "One of its digits is probably mistyped; check it against the receipt.",
            number="EB123456784VN",
        ),
        "EB123456875VN": en(  # two digits swapped
            "%(number)s is not a valid tracking number: its check digit does not match. "
            "One of its digits is probably mistyped; check it against the receipt.",
            number="EB123456875VN",
        ),
    }
    with translation.override("en"):
        for typed, message in cases.items():
            with pytest.raises(FulfilmentError) as caught:
                fulfilment.clean_tracking_number(typed)
            assert caught.value.message == message, typed


@pytest.mark.parametrize(
    "typed", ["140000", "140.000", "140,000", "140 000", "140.000 ₫", "140000đ", "140.000 đồng"]
)
def test_amounts_are_read_as_whole_dong(typed):
    assert fulfilment.clean_amount(typed) == Decimal(140000)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "-140000",
        "0",
        "140000.5",
        "140,5",
        "1e5",
        "14.00.00",
        "١٤٠٠٠٠",
        "9" * 30,
        True,
        Decimal("NaN"),
        Decimal("140000.5"),
        -3,
        float("inf"),
    ],
)
def test_bad_amounts_are_refused(typed):
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.clean_amount(typed)
    assert caught.value.message == en(
        "Enter the amount collected in whole đồng, for example %(example)s.", example="140.000"
    )


# --- The journey ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cod_order_from_two_farms_is_packed_shipped_delivered_and_paid(
    people, order, mailoutbox, django_capture_on_commit_callbacks
):
    durian, pepper = parcel_of(order, "krongpac"), parcel_of(order, "chuse")
    assert (durian.cod_amount, pepper.cod_amount) == (DURIAN_COD, PEPPER_COD)
    mailoutbox.clear()

    # Each producer packs its own parcel, and only its own.
    with pytest.raises(PermissionDenied):
        fulfilment.pack(pepper, people["farmer"])
    fulfilment.pack(durian, people["farmer"])
    fulfilment.pack(pepper, people["chuse_farmer"])
    durian.refresh_from_db()
    assert durian.status == Parcel.Status.PACKED
    assert durian.packed_by == people["farmer"] and durian.packed_at is not None

    # Each province's post office ships the parcels of its own producers.
    dak_lak, gia_lai = people["post_office_staff"], people["other_post_office"]
    with pytest.raises(PermissionDenied):
        fulfilment.set_tracking(pepper, dak_lak, s10("87654321"))
    fulfilment.set_tracking(durian, dak_lak, "eb 12345678 5 vn")
    assert durian.tracking_number == "EB123456785VN"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fulfilment.pick_up(durian, dak_lak)
    assert len(callbacks) == 1
    durian.refresh_from_db()
    assert durian.status == Parcel.Status.PICKED_UP and durian.picked_up_by == dak_lak
    [mail] = mailoutbox
    assert mail.subject == vi("Order %(number)s: a parcel is on its way", number=order.number)
    assert "EB123456785VN" in mail.body
    [sms] = notifications.LocmemSMSSender.outbox
    assert sms["phone"] == "+84912345678" and "EB123456785VN" in sms["message"]

    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.deliver(durian, dak_lak)
    assert mailoutbox[-1].subject == vi(
        "Order %(number)s: a parcel was delivered", number=order.number
    )
    assert len(mailoutbox) == 2 and len(notifications.LocmemSMSSender.outbox) == 2

    fulfilment.collect_cod(durian, dak_lak, "140.000")
    durian.refresh_from_db()
    assert durian.cod_collected == DURIAN_COD and durian.cod_collected_by == dak_lak
    order = Order.objects.get(pk=order.pk)
    state = payment_state(order)
    assert (state.code, state.paid, state.outstanding) == ("partly_paid", DURIAN_COD, PEPPER_COD)

    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.set_tracking(pepper, gia_lai, s10("87654321"))
        fulfilment.pick_up(pepper, gia_lai)
        fulfilment.deliver(pepper, gia_lai)
    fulfilment.collect_cod(pepper, gia_lai, PEPPER_COD)
    order = Order.objects.get(pk=order.pk)
    assert payment_state(order).code == "paid"
    references = sorted(
        PaymentEvent.objects.filter(order=order).values_list("reference", flat=True)
    )
    assert references == sorted(["EB123456785VN", s10("87654321")])
    assert len(mailoutbox) == 4  # shipped and delivered, for each parcel, once


@pytest.mark.django_db
def test_the_buyer_sees_each_parcels_tracking_number_and_status(client, people, order):
    delivered(order, "krongpac", people)
    client.force_login(people["buyer"])
    html = client.get(f"/accounts/orders/{order.number}/").content.decode()
    assert "EB123456785VN" in html
    assert vi("Delivered") in html and vi("Awaiting packing") in html


# --- Transitions refused --------------------------------------------------------------------


@pytest.mark.django_db
def test_transitions_out_of_order_are_refused_with_a_message_and_change_nothing(people, order):
    durian = parcel_of(order, "krongpac")
    staff, farmer = people["post_office_staff"], people["farmer"]

    def refused(action, message, *args, **values):
        with translation.override("en"), pytest.raises(FulfilmentError) as caught:
            action(durian, *args)
        assert caught.value.message == en(message, **values)

    refused(
        fulfilment.pick_up,
        "This parcel is not packed yet: the producer must mark it packed first.",
        staff,
    )
    refused(
        fulfilment.deliver,
        "This parcel has not been picked up yet: mark it picked up first.",
        staff,
    )
    refused(
        fulfilment.collect_cod,
        "Cash is collected on delivery: mark the parcel delivered first.",
        staff,
        DURIAN_COD,
    )
    fulfilment.pack(durian, farmer)
    refused(fulfilment.pack, "This parcel is already packed.", farmer)
    refused(
        fulfilment.pick_up, "Enter the tracking number before marking the parcel picked up.", staff
    )
    refused(
        fulfilment.deliver,
        "This parcel has not been picked up yet: mark it picked up first.",
        staff,
    )
    fulfilment.set_tracking(durian, staff, s10("12345678"))
    fulfilment.set_tracking(durian, staff, s10("12345679"))  # corrected before pickup: fine
    fulfilment.pick_up(durian, staff)
    refused(fulfilment.pick_up, "This parcel has already been picked up.", staff)
    refused(
        fulfilment.set_tracking,
        "This parcel has already been picked up: its tracking number cannot change.",
        staff,
        s10("11111111"),
    )
    refused(
        fulfilment.collect_cod,
        "Cash is collected on delivery: mark the parcel delivered first.",
        staff,
        DURIAN_COD,
    )
    fulfilment.deliver(durian, staff)
    refused(fulfilment.deliver, "This parcel has already been delivered.", staff)
    refused(fulfilment.pick_up, "This parcel has already been picked up.", staff)
    refused(fulfilment.pack, "This parcel is already packed.", farmer)
    durian.refresh_from_db()
    assert durian.tracking_number == s10("12345679")
    assert durian.status == Parcel.Status.DELIVERED and durian.cod_collected is None


@pytest.mark.django_db
def test_a_tracking_number_belongs_to_one_active_parcel(people, order):
    durian, pepper = parcel_of(order, "krongpac"), parcel_of(order, "chuse")
    operator = people["operator"]
    fulfilment.set_tracking(durian, operator, "EB123456785VN")
    fulfilment.set_tracking(durian, operator, "EB123456785VN")  # the same again: fine
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.set_tracking(pepper, operator, "eb123456785vn")
    assert caught.value.message == en(
        "The tracking number %(number)s is already used for another parcel.",
        number="EB123456785VN",
    )
    pepper.refresh_from_db()
    assert pepper.tracking_number == ""
    # A cancelled parcel's number may be used again.
    Parcel.objects.filter(pk=durian.pk).update(status=Parcel.Status.CANCELLED)
    fulfilment.set_tracking(pepper, operator, "EB123456785VN")
    with translation.override("en"), pytest.raises(FulfilmentError, match="cancelled"):
        fulfilment.set_tracking(durian, operator, s10("22222222"))


@pytest.mark.django_db
def test_cod_must_be_exactly_what_the_buyer_owes_and_is_recorded_once(people, order):
    durian = delivered(order, "krongpac", people)
    staff = people["post_office_staff"]
    for wrong in (DURIAN_COD - 1, DURIAN_COD + 1000, "14.000", 120000):
        with translation.override("vi"), pytest.raises(FulfilmentError) as caught:
            fulfilment.collect_cod(durian, staff, wrong)
        assert "140.000" in caught.value.message  # the amount expected, as money
    durian.refresh_from_db()
    assert durian.cod_collected is None
    assert payment_state(Order.objects.get(pk=order.pk)).paid == 0

    fulfilment.collect_cod(durian, staff, DURIAN_COD)
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.collect_cod(durian, staff, DURIAN_COD)
    assert caught.value.message.startswith("The cash for this parcel has already been recorded")
    assert PaymentEvent.objects.filter(order=order).count() == 1
    assert payment_state(Order.objects.get(pk=order.pk)).paid == DURIAN_COD


@pytest.mark.django_db
def test_a_prepaid_parcel_has_no_cash_to_collect(people):
    from marketplace.payments.state import record_payment

    order = place(people, method="vietqr")
    record_payment(order, method="vietqr", amount=order.total_incl_tax, reference="FT1")
    durian = delivered(order, "krongpac", people)
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.collect_cod(durian, people["post_office_staff"], 140000)
    assert caught.value.message == en(
        "This parcel was paid in advance: there is no cash to collect."
    )
    assert PaymentEvent.objects.filter(order=order).count() == 1  # the transfer only


@pytest.mark.django_db
def test_only_the_parcels_people_may_act_on_it(people, order):
    durian = parcel_of(order, "krongpac")
    for role in ("buyer", "other_farmer", "post_office_staff", "branch_staff", "operator"):
        with pytest.raises(PermissionDenied):
            fulfilment.pack(durian, people[role])
    fulfilment.pack(durian, people["farmer"])
    for role in ("buyer", "farmer", "other_farmer", "branch_staff", "other_post_office"):
        with pytest.raises(PermissionDenied):
            fulfilment.set_tracking(durian, people[role], s10("12345678"))
        with pytest.raises(PermissionDenied):
            fulfilment.pick_up(durian, people[role])
    durian.refresh_from_db()
    assert durian.tracking_number == "" and durian.status == Parcel.Status.PACKED


# --- Lots -----------------------------------------------------------------------------------


@pytest.fixture
def lots(people):
    krongpac, chuse = producer("krongpac"), producer("chuse")
    durian, avocado = Product.objects.get(upc="NS0005"), Product.objects.get(upc="NS0007")
    pepper = Product.objects.get(upc="NS0009")
    other = ProducerProfile.objects.get(partner__users=people["other_farmer"])
    recalled = make_lot(durian, krongpac, "SR-THU-HOI")
    Recall.objects.create(lot=recalled, reason="Kiểm tra")
    return {
        "durian": make_lot(durian, krongpac, "SR-2026-01"),
        "avocado": make_lot(avocado, krongpac, "BO-2026-01"),
        "pepper": make_lot(pepper, chuse, "HT-2026-01"),
        "other_durian": make_lot(durian, other, "SR-KHAC-01"),  # another farm's lot
        "recalled": recalled,
    }


@pytest.mark.django_db
def test_the_lot_choice_is_the_producers_own_lots_of_that_product(people, order, lots):
    durian = parcel_of(order, "krongpac")
    [line] = fulfilment.parcel_lines(durian)
    choices = fulfilment.lot_choices(durian, [line])
    offered = choices[line.pk]
    assert offered[0] == lots["durian"]  # newest first
    assert {lot.code for lot in offered} == set(
        Lot.objects.filter(
            producer=producer("krongpac"), product=line.product, recall__isnull=True
        ).values_list("code", flat=True)
    )
    assert not {lots[k] for k in ("avocado", "pepper", "other_durian", "recalled")} & set(offered)

    for wrong in ("avocado", "pepper", "other_durian", "recalled"):
        with translation.override("en"), pytest.raises(FulfilmentError) as caught:
            fulfilment.pack(durian, people["farmer"], lots={line.pk: lots[wrong]})
        assert line.title in caught.value.message, wrong
    for bad in ("abc", -1, 999999):
        with pytest.raises(FulfilmentError):
            fulfilment.pack(durian, people["farmer"], lots={line.pk: bad})
    pepper_line = fulfilment.parcel_lines(parcel_of(order, "chuse")).get()
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.pack(durian, people["farmer"], lots={pepper_line.pk: lots["pepper"]})
    assert caught.value.message == en("This order line is not part of your parcel.")
    durian.refresh_from_db()
    assert durian.status == Parcel.Status.NEW and not LineLot.objects.exists()

    fulfilment.pack(durian, people["farmer"], lots={line.pk: lots["durian"]})
    link = LineLot.objects.get(line=line)
    assert link.lot == lots["durian"] and link.linked_by == people["farmer"]


@pytest.mark.django_db
def test_a_line_already_linked_keeps_its_lot(people, order, lots):
    durian = parcel_of(order, "krongpac")
    [line] = fulfilment.parcel_lines(durian)
    LineLot.objects.create(line=line, lot=lots["durian"], linked_by=people["farmer"])
    other = make_lot(Product.objects.get(upc="NS0005"), producer("krongpac"), "SR-2026-02")
    with translation.override("en"), pytest.raises(FulfilmentError) as caught:
        fulfilment.pack(durian, people["farmer"], lots={line.pk: other})
    assert caught.value.message == en(
        "%(product)s is already linked to lot %(code)s.", product=line.title, code="SR-2026-01"
    )
    fulfilment.pack(durian, people["farmer"], lots={line.pk: lots["durian"]})  # same: fine
    assert LineLot.objects.get(line=line).lot == lots["durian"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["vietqr"])
def test_a_parcel_paid_in_advance_is_packed_only_once_the_order_is_paid(client, demo, method):
    from marketplace.payments.state import record_payment

    roles = users()
    client.force_login(roles["buyer"])
    order = checkout(client, {"NS0005": 1}, method=method)
    parcel = order.parcels.get()
    with translation.override("en"), pytest.raises(FulfilmentError, match="not paid"):
        fulfilment.pack(parcel, roles["farmer"])
    record_payment(order, method=method, amount=order.total_incl_tax, reference="FT1")
    parcel.refresh_from_db()
    fulfilment.pack(parcel, roles["farmer"])
    assert Parcel.objects.get(pk=parcel.pk).status == Parcel.Status.PACKED


@pytest.mark.django_db
def test_the_database_keeps_one_active_parcel_per_tracking_number(client, demo):
    from django.db import IntegrityError, transaction

    client.force_login(users()["buyer"])
    first, second = checkout(client, {"NS0005": 1, "NS0009": 1}).parcels.all()
    Parcel.objects.filter(pk=first.pk).update(tracking_number="EB123456785VN")
    with pytest.raises(IntegrityError), transaction.atomic():
        Parcel.objects.filter(pk=second.pk).update(tracking_number="EB123456785VN")
    Parcel.objects.filter(pk=first.pk).update(status=Parcel.Status.CANCELLED)
    Parcel.objects.filter(pk=second.pk).update(tracking_number="EB123456785VN")
