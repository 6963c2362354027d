"""On PostgreSQL (SQLite serialises writers anyway): buyers pre-ordering the last of a
harvest at the same moment never together exceed the window's cap — the window row is
locked while what is left is read — and the books reconcile afterwards."""

import threading

import pytest
from django.db import connection, connections

from marketplace.finance.checks import run_checks
from marketplace.models import Preorder
from marketplace.preorders import services
from tests.conftest import need
from tests.marketplace import preorder_world as world
from tests.marketplace.test_farmer_products import users


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_pre_orders_never_exceed_the_cap(demo):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    world.vietqr_ready()
    farmer = users()["farmer"]
    win = world.window(farmer, cap=7, deposit_percent=30)
    buyers = [world.buyer() for _ in range(6)]
    start = threading.Barrier(len(buyers))
    placed, refused, errors = [], [], []

    def run(buyer):
        try:
            start.wait()
            placed.append(world.preorder(win, buyer, 2).pk)
        except services.PreorderRefused as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    # 7 units, 2 each: three buyers get theirs, the three others are told what is left.
    assert len(placed) == 3 and len(refused) == 3, (placed, refused)
    assert services.taken(win) == 6
    assert sum(Preorder.objects.filter(window=win).values_list("quantity", flat=True)) == 6
    assert all("1" in message for message in refused)
    problems = run_checks()
    assert problems == [], problems
