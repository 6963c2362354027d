"""Cancellations by the buyer, the producer and the operator; failed deliveries returned
to the sender; refunds for every payment method; stock that reconciles through all of it
(verify_ledger's checks pass after each journey)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.fulfilment import cancellations, notifications
from marketplace.fulfilment import services as fulfilment
from marketplace.fulfilment.cancellations import CancellationError
from marketplace.models import CancelledLine, Notification, Parcel, Refund
from marketplace.payments import refunds
from marketplace.payments.refunds import RefundRefused
from marketplace.payments.state import payment_state
from tests.marketplace import test_fulfilment as shared
from tests.marketplace import test_stripe_fake
from tests.marketplace.money_world import assert_reconciles, pay, place, source_of
from tests.marketplace.test_fulfilment import make_user, parcel_of, s10

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

people = shared.people
fake_stripe = test_stripe_fake.fake_stripe
stripe_keys = test_stripe_fake.stripe_keys

TWO_FARMS = {"NS0005": 1, "NS0009": 2}  # durian 120.000 + 20.000; pepper 220.000 + 30.000
DURIAN_PARCEL, PEPPER_PARCEL = Decimal(140000), Decimal(250000)
BUYER, PRODUCER, OPERATOR = "buyer", "producer", "operator"


@pytest.fixture(autouse=True)
def english():
    """Refusals are matched in English (they are translated; test_i18n checks that)."""
    with translation.override("en"):
        yield


def record(upc):
    return StockRecord.objects.get(product__upc=upc)


def reserved(upc):
    return record(upc).num_allocated or 0


def in_stock(upc):
    return record(upc).num_in_stock


# --- Stock: reserved at checkout, consumed at pickup, released on cancellation ------------------


@pytest.mark.django_db
def test_stock_is_consumed_when_the_parcel_leaves_and_the_farmer_may_restock_lower(people):
    durian = record("NS0005")
    StockRecord.objects.filter(pk=durian.pk).update(num_in_stock=100, num_allocated=0)
    order = place(people["buyer"], {"NS0005": 100}, "cod")
    assert (in_stock("NS0005"), reserved("NS0005")) == (100, 100)
    # While the goods are at the farm, the farmer cannot say it has fewer than are sold.
    product = Product.objects.get(upc="NS0005")
    with pytest.raises(Exception, match="100"):
        listings.update_product(product=product, by=people["farmer"], num_in_stock=50)
    parcel = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    fulfilment.set_tracking(parcel, people["post_office_staff"], s10("11112222"))
    fulfilment.pick_up(parcel, people["post_office_staff"])
    assert (in_stock("NS0005"), reserved("NS0005")) == (0, 0)
    # The farmer harvests again and says what it has: 50.
    listings.update_product(product=product, by=people["farmer"], num_in_stock=50)
    assert (in_stock("NS0005"), reserved("NS0005")) == (50, 0)
    assert_reconciles()


@pytest.mark.django_db
def test_the_farmer_sees_what_open_orders_reserve_beside_the_stock(client, people):
    place(people["buyer"], {"NS0005": 3}, "cod")
    client.force_login(people["farmer"])
    text = client.get("/cua-hang/san-pham/").content.decode()
    assert 'data-reserved="3"' in text


# --- The buyer cancels --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_buyer_cancels_one_parcel_of_a_cash_on_delivery_order(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    order = place(people["buyer"], TWO_FARMS, "cod")
    notifications.LocmemSMSSender.outbox.clear()
    before = (reserved("NS0005"), reserved("NS0009"))
    durian = parcel_of(order, "krongpac")
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_parcel(
            parcel=durian, role=BUYER, reason="Đặt nhầm", by=people["buyer"]
        )
    assert "Đặt nhầm" in mailoutbox[-1].body
    durian.refresh_from_db()
    assert durian.status == Parcel.Status.CANCELLED
    assert (durian.cancelled_role, durian.cancel_reason) == (BUYER, "Đặt nhầm")
    assert durian.cancelled_by == people["buyer"] and durian.cancelled_at
    assert (reserved("NS0005"), reserved("NS0009")) == (before[0] - 1, before[1])
    assert source_of(order).amount_allocated == PEPPER_PARCEL  # only the pepper is due
    assert durian.payment.code == "cancelled"
    assert Notification.objects.filter(parcel=durian, kind="cancelled").exists()
    assert not Refund.objects.filter(order=order).exists()  # nothing was paid
    assert_reconciles()
    # The pepper goes on: delivered and collected, the order is paid.
    pepper = fulfilment.pack(parcel_of(order, "chuse"), people["chuse_farmer"])
    fulfilment.set_tracking(pepper, people["other_post_office"], s10("22223333"))
    fulfilment.pick_up(pepper, people["other_post_office"])
    fulfilment.deliver(pepper, people["other_post_office"])
    fulfilment.collect_cod(pepper, people["other_post_office"], PEPPER_PARCEL)
    assert payment_state(order).code == "paid"
    assert_reconciles()


@pytest.mark.django_db
def test_a_packed_parcel_cannot_be_cancelled_by_the_buyer_but_the_operator_can(people):
    order = place(people["buyer"], TWO_FARMS, "cod")
    durian = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    with pytest.raises(CancellationError, match="packed"):
        cancellations.cancel_parcel(parcel=durian, role=BUYER, reason="x", by=people["buyer"])
    with pytest.raises(CancellationError, match="packed"):
        cancellations.cancel_order(order=order, role=BUYER, reason="x", by=people["buyer"])
    cancellations.cancel_parcel(
        parcel=durian, role=OPERATOR, reason="Hết hàng", by=people["operator"]
    )
    assert Parcel.objects.get(pk=durian.pk).status == "cancelled"
    assert_reconciles()


@pytest.mark.django_db
def test_only_the_buyer_of_the_order_may_cancel_it(people):
    order = place(people["buyer"], TWO_FARMS, "cod")
    stranger = make_user("nguoila@nongsan.test")
    durian = parcel_of(order, "krongpac")
    for who, role in (
        (stranger, BUYER),
        (None, BUYER),
        (people["chuse_farmer"], PRODUCER),
        (people["farmer"], OPERATOR),
    ):
        with pytest.raises(PermissionDenied):
            cancellations.cancel_parcel(parcel=durian, role=role, reason="x", by=who)
    with pytest.raises(CancellationError):
        cancellations.cancel_parcel(parcel=durian, role=BUYER, reason="  ", by=people["buyer"])
    assert Parcel.objects.get(pk=durian.pk).status == "new"


@pytest.mark.django_db
def test_the_buyer_cancels_a_paid_vietqr_order_and_the_operator_transfers_it_back(people):
    order = place(people["buyer"], TWO_FARMS, "vietqr")
    pay(order, people["operator"])
    total = DURIAN_PARCEL + PEPPER_PARCEL
    cancellations.cancel_order(order=order, role=BUYER, reason="Đổi ý", by=people["buyer"])
    refund = Refund.objects.get(order=order)
    assert (refund.method, refund.status, refund.amount) == ("transfer", "pending", total)
    assert payment_state(order).code == "paid"  # until the transfer is made
    assert refunds.refundable_of(source_of(order)) == 0  # nothing more can be asked
    with pytest.raises(RefundRefused):
        refunds.request_transfer_refund(order=order, amount=1, by=people["operator"])
    with pytest.raises(PermissionDenied):
        refunds.record_transfer_back(
            refund=refund,
            by=people["farmer"],
            bank_bin="970436",
            account_number="0123456789",
            account_name="Nguyen Thi Mai",
            bank_reference="FT1",
        )
    refunds.record_transfer_back(
        refund=refund,
        by=people["operator"],
        bank_bin="970436",
        account_number="0123 456 789",
        account_name="Nguyễn Thị Mai",
        bank_reference="FT25340123",
    )
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.executed_by == people["operator"]
    assert (refund.account_number, refund.account_name) == ("0123456789", "NGUYỄN THỊ MAI")
    state = payment_state(order)
    assert (state.code, state.paid, state.refunded) == ("refunded", total, total)
    with pytest.raises(RefundRefused, match="already"):
        refunds.record_transfer_back(
            refund=refund,
            by=people["operator"],
            bank_bin="970436",
            account_number="0123456789",
            account_name="X",
            bank_reference="FT2",
        )
    assert_reconciles()


@pytest.mark.django_db
def test_an_unpaid_vietqr_order_partly_cancelled_asks_for_less(people):
    order = place(people["buyer"], TWO_FARMS, "vietqr")
    cancellations.cancel_parcel(
        parcel=parcel_of(order, "krongpac"), role=BUYER, reason="x", by=people["buyer"]
    )
    assert source_of(order).amount_allocated == PEPPER_PARCEL
    pay(order, people["operator"])
    assert payment_state(order).code == "paid"
    assert not Refund.objects.exists()
    assert fulfilment.pack_refusal(parcel_of(order, "chuse")) is None
    assert_reconciles()


@pytest.mark.django_db
def test_a_card_order_part_cancelled_is_refunded_through_stripe(people, stripe_keys):
    order = place(people["buyer"], TWO_FARMS, "stripe")
    with pytest.raises(CancellationError, match="pay it first"):
        cancellations.cancel_parcel(
            parcel=parcel_of(order, "krongpac"), role=BUYER, reason="x", by=people["buyer"]
        )
    pay(order, people["operator"], stripe_keys)
    cancellations.cancel_parcel(
        parcel=parcel_of(order, "krongpac"), role=BUYER, reason="Đặt nhầm", by=people["buyer"]
    )
    (sent,) = stripe_keys.calls("POST", "/v1/refunds")
    assert sent.params["amount"] == "140000"
    refund = Refund.objects.get(order=order)
    assert (refund.method, refund.status, refund.parcel) == (
        "card",
        "succeeded",
        parcel_of(order, "krongpac"),
    )
    assert payment_state(order).code == "partly_refunded"
    # The other farm still packs: what is due is paid.
    assert fulfilment.pack_refusal(parcel_of(order, "chuse")) is None
    assert_reconciles()


@pytest.mark.django_db
def test_an_unpaid_card_order_may_be_cancelled_whole(people, stripe_keys):
    order = place(people["buyer"], TWO_FARMS, "stripe")
    cancellations.cancel_order(order=order, role=BUYER, reason="x", by=people["buyer"])
    assert payment_state(order).code == "nothing_due"
    assert stripe_keys.calls("POST", "/v1/refunds") == []
    assert_reconciles()


@pytest.mark.django_db
def test_a_refund_stripe_refuses_does_not_stop_the_cancellation(people, stripe_keys):
    order = place(people["buyer"], TWO_FARMS, "stripe")
    pay(order, people["operator"], stripe_keys)
    stripe_keys.down = True
    cancellations.cancel_order(order=order, role=BUYER, reason="x", by=people["buyer"])
    assert Refund.objects.get(order=order).status == "failed"
    stripe_keys.down = False
    # The operator retries: what is held beyond what is due may be refunded.
    assert refunds.refundable_of(source_of(order)) == DURIAN_PARCEL + PEPPER_PARCEL
    refunds.refund(order=order, amount=DURIAN_PARCEL + PEPPER_PARCEL, by=people["operator"])
    assert payment_state(order).code == "refunded"
    assert_reconciles()


# --- The producer cancels a line it cannot supply -----------------------------------------------


@pytest.mark.django_db
def test_the_farmer_cancels_a_line_and_the_buyer_is_refunded_for_it(
    people, django_capture_on_commit_callbacks
):
    order = place(people["buyer"], {"NS0005": 1, "NS0007": 2, "NS0009": 1}, "vietqr")
    pay(order, people["operator"])
    parcel = parcel_of(order, "krongpac")
    goods = parcel.goods_total
    avocado = order.lines.get(product__upc="NS0007")
    before = reserved("NS0007")
    with pytest.raises(PermissionDenied):
        cancellations.cancel_line(line=avocado, reason="x", by=people["chuse_farmer"])
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancellations.cancel_line(line=avocado, reason="Mất mùa", by=people["farmer"])
    assert isinstance(cancelled, CancelledLine)
    assert (cancelled.quantity, cancelled.amount) == (2, avocado.line_price_incl_tax)
    assert reserved("NS0007") == before - 2
    parcel.refresh_from_db()
    assert parcel.status == "new" and parcel.goods_total == goods - avocado.line_price_incl_tax
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.method) == (avocado.line_price_incl_tax, "transfer")
    assert Notification.objects.filter(line=avocado, kind="cancelled").exists()
    with pytest.raises(CancellationError, match="already"):
        cancellations.cancel_line(line=avocado, reason="x", by=people["farmer"])
    assert_reconciles()
    # The last line cancels the parcel, delivery charge included.
    durian = order.lines.get(product__upc="NS0005")
    assert cancellations.cancel_line(line=durian, reason="Hết", by=people["farmer"]) == parcel
    parcel.refresh_from_db()
    assert parcel.status == "cancelled" and parcel.cancelled_role == PRODUCER
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == (
        avocado.line_price_incl_tax + parcel.goods_total + parcel.shipping_charge
    )
    # Packing the parcel consumes only the lines that go on (the pepper's farm is untouched).
    assert_reconciles()


@pytest.mark.django_db
def test_a_cancelled_line_is_not_consumed_when_the_parcel_leaves(people):
    order = place(people["buyer"], {"NS0005": 1, "NS0007": 2}, "cod")
    avocado = order.lines.get(product__upc="NS0007")
    cancellations.cancel_line(line=avocado, reason="Hết hàng", by=people["farmer"])
    parcel = parcel_of(order, "krongpac")
    assert parcel.cod_amount == parcel.goods_total + parcel.shipping_charge
    stock_before = in_stock("NS0007")
    parcel = fulfilment.pack(parcel, people["farmer"])
    fulfilment.set_tracking(parcel, people["post_office_staff"], s10("33334444"))
    fulfilment.pick_up(parcel, people["post_office_staff"])
    assert in_stock("NS0007") == stock_before
    assert_reconciles()


# --- The post office: delivery failed, returned to the sender ------------------------------------


@pytest.mark.django_db
def test_a_failed_cod_parcel_is_returned_to_the_sender(people, django_capture_on_commit_callbacks):
    order = place(people["buyer"], TWO_FARMS, "cod")
    staff = people["post_office_staff"]
    parcel = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    fulfilment.set_tracking(parcel, staff, s10("44445555"))
    fulfilment.pick_up(parcel, staff)
    stock_after_pickup = in_stock("NS0005")
    with pytest.raises(fulfilment.FulfilmentError):
        fulfilment.return_to_sender(parcel=parcel, by=staff, fee=0)
    with pytest.raises(PermissionDenied):
        fulfilment.fail_delivery(parcel=parcel, by=people["other_post_office"], reason="x")
    fulfilment.fail_delivery(parcel=parcel, by=staff, reason="Không liên lạc được người nhận")
    assert fulfilment.cod_refusal(parcel) and fulfilment.deliver_refusal(parcel)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.return_to_sender(parcel=parcel, by=staff, fee="15.000")
    parcel.refresh_from_db()
    assert parcel.status == "returned" and parcel.return_shipping_fee == 15000
    assert parcel.failure_reason == "Không liên lạc được người nhận"
    assert in_stock("NS0005") == stock_after_pickup + 1
    assert parcel.payment.code == "returned" and not parcel.payment.cod
    assert source_of(order).amount_allocated == PEPPER_PARCEL
    assert Notification.objects.filter(parcel=parcel, kind="returned").exists()
    with pytest.raises(fulfilment.FulfilmentError):
        fulfilment.return_to_sender(parcel=parcel, by=staff, fee=0)
    assert_reconciles()


# --- The operator refunds any method, never more than was paid -----------------------------------


@pytest.mark.django_db
def test_the_operator_refunds_collected_cash_by_transfer_never_more_than_paid(people):
    order = place(people["buyer"], {"NS0005": 1}, "cod")
    staff = people["post_office_staff"]
    parcel = fulfilment.pack(parcel_of(order, "krongpac"), people["farmer"])
    fulfilment.set_tracking(parcel, staff, s10("55556666"))
    fulfilment.pick_up(parcel, staff)
    with pytest.raises(RefundRefused):
        refunds.refund(order=order, amount=1, by=people["operator"])  # nothing paid yet
    fulfilment.deliver(parcel, staff)
    fulfilment.collect_cod(parcel, staff, DURIAN_PARCEL)
    with pytest.raises(RefundRefused, match="140,000"):
        refunds.refund(order=order, amount=DURIAN_PARCEL + 1, by=people["operator"])
    partial = refunds.refund(order=order, amount=40000, reason="Quả dập", by=people["operator"])
    assert partial.method == "transfer" and partial.status == "pending"
    refunds.record_transfer_back(
        refund=partial,
        by=people["operator"],
        bank_bin="970405",
        account_number="1500201234567",
        account_name="Nguyen Thi Mai",
        bank_reference="FT-HOAN-1",
    )
    assert payment_state(order).code == "partly_refunded"
    with pytest.raises(RefundRefused):
        refunds.refund(order=order, amount=DURIAN_PARCEL - 40000 + 1, by=people["operator"])
    refunds.refund(order=order, amount=DURIAN_PARCEL - 40000, by=people["operator"])
    assert_reconciles()
