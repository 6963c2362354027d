"""`make run`'s demo orders: one in each state after checkout, made by the real services,
and made once."""

import io

import pytest
from django.core.management import call_command
from oscar.core.loading import get_model

from marketplace.models import CodHandover, Parcel, Preorder, PreorderWindow, SettlementEntry
from marketplace.payments.state import payment_state

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")


@pytest.mark.django_db
def test_the_demo_has_orders_in_every_state_and_seeding_again_adds_none(search_index):
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    # The demo pre-orders' orders (deposits, a converted one) are looked at below.
    of_preorders = {
        pk
        for pair in Preorder.objects.values_list("order_id", "deposit_order_id")
        for pk in pair
        if pk
    }
    orders = list(
        Order.objects.exclude(pk__in=of_preorders)
        .order_by("number")
        .prefetch_related("sources__source_type")
    )
    assert len(orders) == 8
    states = [payment_state(o).code for o in orders]
    assert states == [
        "on_delivery",
        "awaiting_transfer",
        "paid",
        "paid",
        "partly_refunded",
        "nothing_due",
        "on_delivery",
        "partly_refunded",
    ]
    statuses = [sorted(o.parcels.values_list("status", flat=True)) for o in orders[4:]]
    assert statuses == [["cancelled", "new"], ["returned"], ["new"], ["delivered"]]
    assert orders[6].parcels.get().cancelled_lines.count() == 1
    call_command("verify_ledger", stdout=io.StringIO())
    for order in orders:
        assert order.number in out.getvalue()

    two_farms = orders[0]
    assert sorted(two_farms.parcels.values_list("status", flat=True)) == [
        Parcel.Status.NEW,
        Parcel.Status.PICKED_UP,
    ]
    picked = two_farms.parcels.get(status=Parcel.Status.PICKED_UP)
    assert picked.tracking_number.endswith("VN") and picked.packed_by is not None
    assert sum(p.cod_amount for p in two_farms.parcels.all()) == two_farms.total_incl_tax

    delivered = orders[3].parcels.get()
    assert delivered.status == Parcel.Status.DELIVERED
    assert delivered.cod_collected == delivered.cod_amount == orders[3].total_incl_tax
    # The post office handed the cash over; the marketplace received it.
    handover = CodHandover.objects.get()
    assert handover.received_at is not None and handover.received_by.is_superuser
    assert list(handover.parcels.all()) == [delivered]
    assert handover.amount == delivered.cod_collected
    assert orders[2].bank_transfers.get().amount == orders[2].total_incl_tax
    # Delivered parcels are in the ledger; the bruised avocados reduced the farm's sale.
    assert SettlementEntry.objects.filter(parcel=delivered, kind="sale").exists()
    bruised = orders[7]
    refund = bruised.refunds.get()
    assert refund.charges_producer and refund.status == "succeeded"
    assert -refund.settlement_entry.sales == refund.amount
    assert SettlementEntry.objects.filter(parcel=orders[5].parcels.get()).count() == 0
    assert SettlementEntry.objects.filter(kind="return").get().adjustment == 22000

    # Pre-orders: an open window with two buyers (one deposit paid), one converted from
    # the farm's lot (one pre-order filled, the other not reached by the harvest).
    open_window = PreorderWindow.objects.get(status="open")
    assert open_window.preorders.count() == 2
    assert {payment_state(p.deposit_order).code for p in open_window.preorders.all()} == {
        "paid",
        "awaiting_transfer",
    }
    done = PreorderWindow.objects.get(status="converted")
    assert done.lot_code
    assert sorted(done.preorders.values_list("status", flat=True)) == ["converted", "unfilled"]

    call_command("seed_demo", force=True, stdout=io.StringIO())
    assert Order.objects.count() == 8 + len(of_preorders) and CodHandover.objects.count() == 1
    assert Preorder.objects.count() == 4
    # Seeding again (every `make run`) leaves the recalled demo product off the shop.
    assert not Product.objects.get(upc="NS0018").is_public
