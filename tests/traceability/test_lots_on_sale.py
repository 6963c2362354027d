"""Lots on sale: a farmer puts a harvested lot on sale, its quantity becomes the product's
stock; orders take from the lot that expires first (a line may span two lots) and are
linked to it at placement; a lot expired, recalled or failing the pre-harvest check
leaves the stock at once; cancelled goods go back to their lot; verify_ledger agrees."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.core.loading import get_model

from marketplace.catalogue import batches, stock
from marketplace.finance.checks import run_checks
from marketplace.models import BatchAllocation, SaleBatch
from tests.marketplace.test_no_overselling import basket_for, place
from traceability import recalls, safety, sale
from traceability.models import FarmEvent, LineLot, Lot
from traceability.services import create_lot, record_event

from .conftest import BUYER, FARMER

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db
DURIAN = "NS0005"  # the demo farmer's Ri6 durian, sold by the kg


def _at(days_ago, hour=7):
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def user(email):
    return get_user_model().objects.get(email=email)


def new_lot(code, *, quantity="10", unit="kg", expires_in=20, harvest=True, upc=DURIAN):
    """A harvested lot of the farmer's durian."""
    product = Product.objects.get(upc=upc)
    producer = product.stockrecords.get().partner.producer_profile
    farmer = user(FARMER)
    lot = create_lot(
        product=product,
        producer=producer,
        by=farmer,
        code=code,
        quantity=Decimal(quantity),
        unit=unit,
        province_code=producer.province_code,
        commune_code=producer.commune_code,
        production_date=timezone.localdate() - timedelta(days=2),
        expiry_date=timezone.localdate() + timedelta(days=expires_in) if expires_in else None,
    )
    if harvest:
        record_event(
            lot=lot,
            by=farmer,
            kind=FarmEvent.Kind.HARVEST,
            event_time=_at(2),
            details={"quantity": quantity, "unit": unit},
        )
    return lot


def record():
    return StockRecord.objects.get(product__upc=DURIAN)


def available():
    return stock.available(record())


def buy(quantity, number):
    buyer = user(BUYER)
    durian = Product.objects.get(upc=DURIAN)
    return place(basket_for(buyer, durian, quantity), buyer, number)


def taken_by_lot(order):
    return {
        a.batch.label: a.quantity
        for a in BatchAllocation.objects.filter(line__order=order).select_related("batch")
    }


@pytest.fixture
def two_lots(traces):
    """Two lots of durian on sale: 5 kg expiring in 10 days, 10 kg in 20 days (put on
    sale in the other order)."""
    late = new_lot("LATE", quantity="10", expires_in=20)
    early = new_lot("EARLY", quantity="5", expires_in=10)
    farmer = user(FARMER)
    sale.put_lot_on_sale(lot=late, by=farmer)
    sale.put_lot_on_sale(lot=early, by=farmer)
    return early, late


def test_a_lot_put_on_sale_becomes_the_stock(traces):
    r = record()
    StockRecord.objects.filter(pk=r.pk).update(num_in_stock=40, num_allocated=0)
    lot = new_lot("HARVEST-1", quantity="1.5", unit="tạ")  # 150 kg
    batch = sale.put_lot_on_sale(lot=lot, by=user(FARMER))
    assert batch.quantity == 150
    assert available() == 150  # the stock typed by hand is replaced by the lot's
    second = new_lot("HARVEST-2", quantity="12", unit="kg")
    sale.put_lot_on_sale(lot=second, by=user(FARMER))
    assert available() == 162
    assert run_checks() == []


def test_orders_take_the_lot_that_expires_first_and_may_span_two(two_lots):
    early, late = two_lots
    assert available() == 15
    first = buy(3, "NS-LOT1")
    assert taken_by_lot(first) == {"EARLY": 3}
    line = first.lines.get()
    assert LineLot.objects.get(line=line).lot == early  # linked at placement
    second = buy(4, "NS-LOT2")  # 2 left of EARLY, then 2 of LATE
    assert taken_by_lot(second) == {"EARLY": 2, "LATE": 2}
    assert LineLot.objects.get(line=second.lines.get()).lot == early
    assert available() == 8
    with translation.override("en"), pytest.raises(UnableToPlaceOrder, match="Only 8 of"):
        buy(9, "NS-LOT3")
    assert run_checks() == []


def test_an_expired_lot_is_never_sold_and_leaves_the_stock(two_lots):
    early, late = two_lots
    Lot.objects.filter(pk=early.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    SaleBatch.objects.filter(source_id=early.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    order = buy(2, "NS-LOT4")  # placing the order withdraws the expired lot first
    assert taken_by_lot(order) == {"LATE": 2}
    assert available() == 8
    assert SaleBatch.objects.get(source_id=early.pk).withdrawn_reason == batches.EXPIRED
    assert run_checks() == []


def test_the_daily_sweep_withdraws_lots_that_may_no_longer_be_sold(two_lots):
    early, late = two_lots
    Lot.objects.filter(pk=late.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    assert sale.withdraw_unsellable_lots() == 1
    assert available() == 5
    assert sale.withdraw_unsellable_lots() == 0  # idempotent
    assert run_checks() == []


def test_a_recalled_lot_leaves_the_stock_at_once_and_its_buyers_are_told(two_lots):
    early, late = two_lots
    order = buy(7, "NS-LOT5")  # 5 of EARLY, 2 of LATE
    recalls.recall_lot(lot=late, by=user(FARMER), reason="Dư lượng thuốc bảo vệ thực vật")
    assert available() == 0  # LATE's 8 left the stock
    # The buyer took 2 kg from LATE, though the line's trace link is EARLY's.
    assert list(recalls.affected_orders(late)) == [order]
    assert run_checks() == []


def test_a_pre_harvest_breach_withdraws_the_lot(two_lots):
    early, late = two_lots
    safety.mark_for_review(lot=early)
    assert available() == 10
    assert run_checks() == []


def test_a_lot_that_may_not_be_sold_cannot_be_put_on_sale(traces):
    farmer = user(FARMER)
    unharvested = new_lot("NOT-YET", harvest=False)
    with translation.override("en"), pytest.raises(ValidationError, match="harvest"):
        sale.put_lot_on_sale(lot=unharvested, by=farmer)
    lot = new_lot("TWICE")
    sale.put_lot_on_sale(lot=lot, by=farmer, quantity=4)
    with translation.override("en"), pytest.raises(ValidationError, match="already on sale"):
        sale.put_lot_on_sale(lot=lot, by=farmer, quantity=1)
    buy(4, "NS-LOT0")
    sale.withdraw_lot(lot=lot, reason="test")  # e.g. waiting for review, then cleared
    with translation.override("en"), pytest.raises(ValidationError, match="at most 6"):
        sale.put_lot_on_sale(lot=lot, by=farmer, quantity=7)
    sale.put_lot_on_sale(lot=lot, by=farmer)
    assert available() == 6
    recalled = new_lot("RECALLED")
    recalls.recall_lot(lot=recalled, by=farmer, reason="Hỏng")
    with translation.override("en"), pytest.raises(ValidationError, match="recalled"):
        sale.put_lot_on_sale(lot=recalled, by=farmer)


def test_cancelled_goods_go_back_to_their_lot_unless_it_was_withdrawn(two_lots):
    early, late = two_lots
    order = buy(7, "NS-LOT6")  # 5 of EARLY, 2 of LATE
    line = order.lines.get()
    sale.withdraw_lot(lot=early, reason="test")
    assert available() == 8
    stock.release_lines([line])
    # LATE's 2 come back to LATE; EARLY's 5 are not for sale any more.
    assert available() == 10
    r = record()
    assert (r.num_in_stock, r.num_allocated) == (10, 0)
    assert SaleBatch.objects.get(source_id=late.pk).taken == 0


def test_returned_goods_go_back_to_their_lot(two_lots):
    early, late = two_lots
    order = buy(3, "NS-LOT7")
    line = order.lines.get()
    stock.consume_lines([line])  # picked up by the post office
    assert available() == 12
    stock.restock_lines([line])  # returned to the sender
    assert available() == 15
    r = record()
    assert (r.num_in_stock, r.num_allocated) == (15, 0)


def test_verify_ledger_notices_stock_that_does_not_match_the_lots(two_lots):
    StockRecord.objects.filter(pk=record().pk).update(num_in_stock=99)
    with translation.override("en"):
        problems = run_checks()
    assert any("its lots on sale hold 15" in p for p in problems)


# --- Pages ----------------------------------------------------------------------------------


def test_a_farmer_puts_a_lot_on_sale_from_its_page_and_sees_the_stock(traces, client):
    from .conftest import ASSOCIATION, sign_in

    lot = new_lot("PAGE-1", quantity="2", unit="tạ")
    sign_in(client, FARMER)
    home = client.get("/cua-hang/").content.decode()
    assert "/lo-hang/dang-ban/" in home
    page = client.get(f"/lo-hang/{lot.pk}/").content.decode()
    assert f"/lo-hang/{lot.pk}/ban/" in page
    form = client.get(f"/lo-hang/{lot.pk}/ban/").content.decode()
    assert 'value="200"' in form  # 2 tạ = 200 kg, the product's unit
    bad = client.post(f"/lo-hang/{lot.pk}/ban/", {"quantity": "nhiều"})
    assert bad.status_code == 200
    assert "Hãy nhập một số nguyên lớn hơn 0." in bad.content.decode()
    too_many = client.post(f"/lo-hang/{lot.pk}/ban/", {"quantity": "201"})
    assert "tối đa 200" in too_many.content.decode()
    response = client.post(f"/lo-hang/{lot.pk}/ban/", {"quantity": "150"}, follow=True)
    text = response.content.decode()
    assert "PAGE-1" in text and "150 kg" in text
    assert available() == 150

    # Staff outside the farmer's scope see no such lot.
    client.logout()
    sign_in(client, ASSOCIATION)
    assert client.get(f"/lo-hang/{lot.pk}/ban/").status_code == 404
    assert "PAGE-1" not in client.get("/lo-hang/dang-ban/").content.decode()


def test_the_stock_of_a_lot_sold_product_is_not_typed_by_hand(two_lots):
    from marketplace.catalogue.listings import update_product

    durian = Product.objects.get(upc=DURIAN)
    with translation.override("en"), pytest.raises(ValidationError, match="sold from its lots"):
        update_product(product=durian, by=user(FARMER), num_in_stock=500)


def test_lots_on_sale_page_reads_in_constant_queries(
    two_lots, client, django_assert_max_num_queries
):
    from .conftest import sign_in

    sign_in(client, FARMER)
    client.get("/lo-hang/dang-ban/")
    with django_assert_max_num_queries(20) as few:
        client.get("/lo-hang/dang-ban/")
    for code in ("THIRD", "FOURTH"):
        sale.put_lot_on_sale(lot=new_lot(code, expires_in=30), by=user(FARMER))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/lo-hang/dang-ban/")
    text = response.content.decode()
    assert "EARLY" in text and "FOURTH" in text
    assert "Còn 35 kg để bán" in text


def test_the_product_page_links_the_lot_the_next_order_takes_from(two_lots):
    from traceability.on_sale import lot_on_sale

    early, late = two_lots
    newest = new_lot("NEWEST", expires_in=40)  # harvested, not on sale
    durian = Product.objects.get(upc=DURIAN)
    assert lot_on_sale(durian) == early  # not the newest lot: the one sold first
    buy(5, "NS-LOT8")  # EARLY is sold out
    assert lot_on_sale(durian) == late
    buy(10, "NS-LOT9")  # nothing left on sale: the newest lot that may be sold
    assert lot_on_sale(durian) == newest
