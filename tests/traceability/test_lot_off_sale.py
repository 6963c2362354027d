"""Taking a lot off sale by hand: from the lot's page, after a confirmation, what remains
of it leaves the product's stock at once (the withdrawal the recall and the daily sweep
use); only the lot's farmer and staff in scope may; verify_ledger still agrees."""

import pytest

from marketplace.catalogue import batches
from marketplace.finance.checks import run_checks
from marketplace.models import SaleBatch
from traceability import sale

from .conftest import ASSOCIATION, BUYER, FARMER, OPERATOR, sign_in
from .test_lots_on_sale import available, buy, user
from .test_lots_on_sale import two_lots as two_lots  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_the_farmer_takes_a_lot_off_sale_after_confirming(two_lots, client):
    early, late = two_lots
    buy(2, "NS-OFF1")  # 2 of EARLY's 5 sold
    assert available() == 13
    sign_in(client, FARMER)
    page = client.get(f"/lo-hang/{early.pk}/").content.decode()
    assert f"/lo-hang/{early.pk}/ngung-ban/" in page
    assert "Đang bán: còn 3 kg." in page
    confirm = client.get(f"/lo-hang/{early.pk}/ngung-ban/")
    assert confirm.status_code == 200
    assert "Còn 3 kg của lô hàng này đang bán" in confirm.content.decode()
    assert available() == 13  # a look changes nothing

    response = client.post(f"/lo-hang/{early.pk}/ngung-ban/", follow=True)
    text = response.content.decode()
    assert "Lô hàng EARLY đã ngừng bán: 3 kg đã rời khỏi tồn kho của" in text
    assert available() == 10  # at once: only LATE is left
    batch = SaleBatch.objects.get(source_id=early.pk)
    assert batch.withdrawn_at is not None and batch.withdrawn_reason == sale.BY_HAND
    assert f"/lo-hang/{early.pk}/ban/" in text  # may be put on sale again
    assert run_checks() == []

    # Taking it off twice does nothing more; the page says it is not on sale.
    again = client.post(f"/lo-hang/{early.pk}/ngung-ban/")
    assert again.status_code == 200 and "Lô hàng này hiện không được bán." in again.content.decode()
    assert available() == 10

    # Put on sale again: only what was not sold comes back.
    sale.put_lot_on_sale(lot=early, by=user(FARMER))
    assert available() == 13
    assert run_checks() == []


def test_later_orders_never_take_from_a_lot_taken_off_sale(two_lots):
    early, late = two_lots
    assert sale.take_off_sale(lot=late, by=user(FARMER)) == 10
    order = buy(5, "NS-OFF2")
    assert {a.batch.label for a in order.lines.get().batch_allocations.all()} == {"EARLY"}
    assert available() == 0
    assert batches.left_of_source(late.pk) is None
    assert run_checks() == []


def test_only_the_farmer_and_staff_in_scope_take_a_lot_off_sale(two_lots, client):
    early, late = two_lots
    url = f"/lo-hang/{late.pk}/ngung-ban/"
    for email, status in ((BUYER, 403), (ASSOCIATION, 404)):  # another commune's branch
        client.logout()
        sign_in(client, email)
        assert client.get(url).status_code == status
        assert client.post(url).status_code == status
    assert available() == 15
    with pytest.raises(sale.PermissionDenied):
        sale.take_off_sale(lot=late, by=user(ASSOCIATION))
    client.logout()
    assert client.post(url).status_code == 302  # to sign in
    assert available() == 15
    sign_in(client, OPERATOR)
    client.post(url)
    assert available() == 5
