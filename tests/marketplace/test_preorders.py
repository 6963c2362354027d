"""Pre-orders for the coming harvest: the cap, cancelling with the deposit refunded, and
converting with a short harvest — exact allocation in order of placement, deposits
credited or refunded to the đồng, every buyer told, verify_ledger's checks passing."""

from decimal import Decimal

import pytest
from django.core import mail
from oscar.core.loading import get_model

from marketplace.finance import transfers
from marketplace.finance.checks import run_checks
from marketplace.fulfilment.notifications import LocmemSMSSender
from marketplace.models import Parcel, Preorder, PreorderWindow, Refund
from marketplace.payments.state import payment_state
from marketplace.preorders import services
from tests.marketplace import preorder_world as world
from tests.marketplace.test_farmer_products import users

StockRecord = get_model("partner", "StockRecord")


@pytest.fixture
def people(demo):
    world.vietqr_ready()
    found = users()
    return found


def reconciles():
    problems = run_checks()
    assert problems == [], problems


def pay_deposit(preorder, operator):
    transfers.mark_received(preorder.deposit_order, operator, preorder.deposit, note="FT-coc")


def test_the_cap_holds_and_the_buyer_is_told_how_many_are_left(people):
    win = world.window(people["farmer"], cap=5)
    world.preorder(win, world.buyer(), 3)
    with pytest.raises(services.PreorderRefused, match="2"):
        world.preorder(win, world.buyer(), 3)
    world.preorder(win, world.buyer(), 2)
    with pytest.raises(services.PreorderRefused):
        world.preorder(win, world.buyer(), 1)
    assert services.taken(win) == 5
    reconciles()


def test_a_closed_window_takes_no_pre_order(people):
    win = world.window(people["farmer"])
    services.close_window(window=win, by=people["farmer"])
    with pytest.raises(services.PreorderRefused):
        world.preorder(win, world.buyer(), 1)


def test_cancelling_refunds_the_deposit_paid_and_frees_the_quantity(people):
    win = world.window(people["farmer"], cap=4, price=250000, deposit_percent=20)
    buyer = world.buyer()
    p = world.preorder(win, buyer, 4)
    assert p.deposit == Decimal(200000)  # 20 % of 4 × 250.000
    pay_deposit(p, people["operator"])
    services.cancel_preorder(preorder=p, by=buyer)
    refund = Refund.objects.get(order=p.deposit_order)
    assert refund.amount == Decimal(200000) and refund.status == Refund.Status.PENDING
    assert services.left_of(win) == 4
    with pytest.raises(services.PreorderRefused):
        services.cancel_preorder(preorder=p, by=buyer)
    reconciles()


def test_someone_else_cannot_cancel(people):
    win = world.window(people["farmer"])
    p = world.preorder(win, world.buyer(), 1)
    with pytest.raises(services.PreorderRefused):
        services.cancel_preorder(preorder=p, by=world.buyer())


def test_a_short_harvest_fills_in_order_of_placement_and_refunds_the_rest(
    people, django_capture_on_commit_callbacks
):
    farmer, operator = people["farmer"], people["operator"]
    win = world.window(farmer, cap=10, price=200000, deposit_percent=30)
    first, second, third, fourth = (world.buyer() for _ in range(4))
    a = world.preorder(win, first, 3)  # deposit 180.000
    b = world.preorder(win, second, 4)  # deposit 240.000
    c = world.preorder(win, third, 2)  # deposit 120.000
    d = world.preorder(win, fourth, 1)
    for p in (a, b, c):
        pay_deposit(p, operator)
    # d never paid its deposit.
    record = StockRecord.objects.get(product__upc=world.DURIAN)
    in_stock, allocated = record.num_in_stock, record.num_allocated
    LocmemSMSSender.outbox.clear()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = services.convert(window=win, lot_id=world.lot_of(win).pk, quantity=5, by=farmer)

    for p in (a, b, c, d):
        p.refresh_from_db()
    # 5 harvested: the first gets 3, the second 2 of its 4, the others nothing.
    assert [(p.status, p.converted) for p in (a, b, c, d)] == [
        ("converted", 3),
        ("converted", 2),
        ("unfilled", 0),
        ("unfilled", 0),
    ]
    assert result.delivered == 5
    # The orders: the quantity at the pre-order price, the line linked to the lot.
    assert a.order.lines.get().quantity == 3
    assert a.order.lines.get().unit_price_incl_tax == Decimal(200000)
    assert b.order.lines.get().quantity == 2
    lot = world.lot_of(win)
    assert world.linked_lot(a.order)[0] == lot.pk and world.linked_lot(b.order)[0] == lot.pk
    assert Parcel.objects.filter(order__in=[a.order, b.order]).count() == 2
    # Deposits: a's whole deposit pays its order; b's deposit of 2 (120.000) pays its
    # order and the other 120.000 is refunded; c's is refunded whole; d paid nothing.
    assert payment_state(a.order).paid == Decimal(180000)
    assert payment_state(b.order).paid == Decimal(120000)
    assert b.deposit_credited == Decimal(120000)
    assert Refund.objects.get(order=b.deposit_order).amount == Decimal(120000)
    assert Refund.objects.get(order=c.deposit_order).amount == Decimal(120000)
    assert not Refund.objects.filter(order=a.deposit_order).exists()
    assert payment_state(d.deposit_order).code == "nothing_due"
    # The harvest entered the stock and the orders reserved it.
    record.refresh_from_db()
    assert (
        record.num_in_stock == in_stock + 5 and (record.num_allocated or 0) == (allocated or 0) + 5
    )
    win.refresh_from_db()
    assert win.status == PreorderWindow.Status.CONVERTED and win.lot_code == lot.code
    # The buyers the harvest did not reach are told, once.
    told = [m.to[0] for m in mail.outbox if "Đơn đặt trước" in m.subject]
    assert sorted(told) == sorted([third.email, fourth.email])
    texts = {sms["phone"]: sms["message"] for sms in LocmemSMSSender.outbox}
    assert "120.000" in texts[str(world.address_of(third).phone_number)]
    # The filled ones get the usual "order received" message.
    numbers = " ".join(m.subject for m in mail.outbox)
    assert a.order.number in numbers and b.order.number in numbers
    reconciles()
    with pytest.raises(services.PreorderRefused):
        services.convert(window=win, lot_id=lot.pk, quantity=5, by=farmer)


def test_a_harvest_that_failed_cancels_every_pre_order(people):
    win = world.window(people["farmer"], deposit_percent=0)
    p = world.preorder(win, world.buyer(), 2)
    assert p.method == "cod" and p.deposit_order is None
    services.convert(window=win, lot_id=None, quantity=0, by=people["farmer"])
    p.refresh_from_db()
    assert p.status == Preorder.Status.UNFILLED
    reconciles()


def test_only_a_sellable_lot_of_the_product_may_fill_the_pre_orders(people):
    win = world.window(people["farmer"])
    world.preorder(win, world.buyer(), 1)
    with pytest.raises(services.PreorderRefused):
        services.convert(window=win, lot_id=10**9, quantity=1, by=people["farmer"])
