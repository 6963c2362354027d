"""Property-based test of money and stock (Hypothesis, stateful): random sequences of
placing orders (several producers, two buyers, every payment method), paying, packing,
handing over to the post office, delivering (collecting the cash), failing and returning,
cancelling (buyer, producer, operator), refunding (part, whole, and more than was paid,
which must be refused; goods of a delivered parcel, charged to its producer), withdrawing
a transfer back, the post office handing its collected cash over and the operator
confirming it, paying producers out in batches, putting durian lots on sale (orders then
take from them, first-expiry-first-out) and recalling one, pre-orders for the coming harvest
(a window opened, pre-orders with or without a deposit, deposits paid, pre-orders cancelled,
converted from a harvest that may fall short) — with every check of ``verify_ledger``
(the settlement ledger included) run after each step.

Every step goes through the real services (row locks, the same code as the pages); each
example runs in a savepoint rolled back at its end, with a fresh fake Stripe. The checks
run after every step that wrote to the database; a step that only read (refused before
it changed anything, or with nothing to do) leaves the books as the last check found them,
so they are not read again.

Size: the ``ci`` profile (default) runs MAX_EXAMPLES examples of at most STEPS steps;
set ``NONGSAN_HYPOTHESIS_EXAMPLES`` / ``NONGSAN_HYPOTHESIS_STEPS`` to run more by hand, e.g.
``NONGSAN_HYPOTHESIS_EXAMPLES=300 NONGSAN_HYPOTHESIS_STEPS=40 pytest -s
tests/marketplace/test_money_properties.py`` (``NONGSAN_HYPOTHESIS_RANDOM=1`` for a new
seed each run; CI is derandomized, so a run is reproducible). ``-s`` prints how often each
step happened and was refused.
"""

import itertools
import os

import pytest
import stripe
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.core.loading import get_model

from marketplace.finance import handovers, settlements
from marketplace.finance.checks import run_checks
from marketplace.fulfilment import cancellations
from marketplace.fulfilment import services as fulfilment
from marketplace.models import Parcel, Preorder, PreorderWindow, Refund
from marketplace.payments import refunds
from marketplace.payments.state import PaymentError
from marketplace.preorders import services as preorders
from tests.marketplace import preorder_world, test_stripe_fake
from tests.marketplace import test_fulfilment as shared
from tests.marketplace.money_world import pay, place, source_of
from tests.marketplace.test_farmer_products import producer
from tests.marketplace.test_fulfilment import make_user, s10
from traceability import recalls, sale
from traceability.models import Lot

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

people = shared.people
stripe_keys = test_stripe_fake.stripe_keys
fake_stripe = test_stripe_fake.fake_stripe

MAX_EXAMPLES = int(os.environ.get("NONGSAN_HYPOTHESIS_EXAMPLES", "15"))
STEPS = int(os.environ.get("NONGSAN_HYPOTHESIS_STEPS", "20"))
settings.register_profile(
    "ci",
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("NONGSAN_HYPOTHESIS_RANDOM") != "1",
)

# Three producers: durian and avocado (krongpac, Đắk Lắk), pepper (chuse, Gia Lai), coffee
# (the Buôn Ma Thuột cooperative, producer "congbang"). Little stock, so orders run out.
PRODUCTS = ("NS0005", "NS0007", "NS0009", "NS0001")
STOCK = 6
METHODS = ("cod", "vietqr", "stripe")
REASONS = ("Đặt nhầm", "Hết hàng", "Mất mùa", "Không liên lạc được")
EXPECTED = (
    cancellations.CancellationError,
    fulfilment.FulfilmentError,
    refunds.RefundRefused,
    PaymentError,
    UnableToPlaceOrder,
    handovers.HandoverError,
    settlements.SettlementError,
    preorders.PreorderRefused,
)


# Statements that change nothing a check reads: reads, and the savepoints the services'
# transactions open and release (a refused step rolls back to its savepoint, which only
# undoes what it wrote, so a step that wrote nothing leaves the database as it was).
READ_ONLY = ("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class MoneyAndStock(RuleBasedStateMachine):
    world: dict = {}
    totals: dict[str, int] = {}

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        # Counts the statements that may change the database; each invariant runs again
        # only when that count moved since it last ran (see `_changed`).
        self._writes = 0
        self._checked: dict[str, int] = {}
        self._watch = connection.execute_wrapper(self._count_writes)
        self._watch.__enter__()
        self._previous_stripe = stripe.default_http_client
        self.stripe = test_stripe_fake.FakeStripe()
        stripe.default_http_client = self.stripe
        StockRecord.objects.filter(product__upc__in=PRODUCTS).update(
            num_in_stock=STOCK, num_allocated=0
        )
        self.orders: list = []
        self.lots: list = []
        self.windows: list = []
        self.preorders: list = []
        self.tracking = itertools.count(10_000_000)

    def teardown(self):
        self._watch.__exit__(None, None, None)
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        stripe.default_http_client = self._previous_stripe

    # --- helpers ---------------------------------------------------------------------------

    def _count_writes(self, execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(READ_ONLY):
            self._writes += 1
        return execute(sql, params, many, context)

    def _changed(self, check: str) -> bool:
        """Whether the database may have changed since `check` last ran (always true
        for its first run, on the example's starting state)."""
        if self._checked.get(check) == self._writes:
            return False
        self._checked[check] = self._writes
        return True

    def _note(self, what: str) -> None:
        self.totals[what] = self.totals.get(what, 0) + 1

    def _try(self, what: str, call):
        try:
            result = call()
        except EXPECTED:
            self._note(f"{what} refused")
            return None
        self._note(what)
        return result

    def _order(self, i):
        return Order.objects.get(pk=self.orders[i % len(self.orders)])

    def _parcel(self, i):
        parcels = list(Parcel.objects.filter(order_id__in=self.orders).order_by("pk"))
        return parcels[i % len(parcels)]

    def _owner(self, parcel):
        return parcel.partner.users.order_by("pk").first()

    # --- rules -----------------------------------------------------------------------------

    @rule(
        buyer=st.sampled_from(("buyer", "buyer2")),
        items=st.dictionaries(st.sampled_from(PRODUCTS), st.integers(1, 3), min_size=1, max_size=3),
        method=st.sampled_from(METHODS),
    )
    def place_order(self, buyer, items, method):
        order = self._try("place", lambda: place(self.world[buyer], items, method))
        if order is not None:
            self.orders.append(order.pk)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50))
    def pay_order(self, i):
        order = self._order(i)
        source = source_of(order)
        if source.source_type.code == "cod" or source.amount_debited >= source.amount_allocated:
            return
        self._try("pay", lambda: pay(order, self.world["operator"], self.stripe))

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50))
    def pack(self, i):
        parcel = self._parcel(i)
        self._try("pack", lambda: fulfilment.pack(parcel, self._owner(parcel)))

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50))
    def hand_over(self, i):
        parcel = self._parcel(i)
        operator = self.world["operator"]

        def act():
            if not parcel.tracking_number:
                fulfilment.set_tracking(parcel, operator, s10(f"{next(self.tracking):08d}"))
            return fulfilment.pick_up(parcel, operator)

        self._try("hand over", act)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50))
    def deliver(self, i):
        parcel = self._parcel(i)
        operator = self.world["operator"]

        def act():
            fulfilment.deliver(parcel, operator)
            if parcel.payment.cod:
                fulfilment.collect_cod(parcel, operator, parcel.payment.to_collect)

        self._try("deliver", act)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), fails=st.booleans(), fee=st.integers(0, 40_000))
    def whole_journey(self, i, fails, fee):
        """One parcel as far as it goes in one step: paid if need be, packed, handed over,
        then delivered (its cash collected) or failed and returned to the sender."""
        parcel = self._parcel(i)
        operator = self.world["operator"]
        source = source_of(parcel.order)
        if source.source_type.code != "cod" and source.amount_debited < source.amount_allocated:
            self._try("pay", lambda: pay(parcel.order, operator, self.stripe))
        parcel.refresh_from_db()
        if parcel.status == "new":
            self._try("pack", lambda: fulfilment.pack(parcel, self._owner(parcel)))
        if parcel.status == "packed":
            self.hand_over(i)
            parcel.refresh_from_db()
        if parcel.status == "picked_up" and fails:
            self.fail_and_return(i, fee, REASONS[-1])
        elif parcel.status == "picked_up":
            self.deliver(i)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), fee=st.integers(0, 40_000), reason=st.sampled_from(REASONS))
    def fail_and_return(self, i, fee, reason):
        parcel = self._parcel(i)
        operator = self.world["operator"]

        def act():
            fulfilment.fail_delivery(parcel=parcel, by=operator, reason=reason)
            fulfilment.return_to_sender(parcel=parcel, by=operator, fee=fee)

        self._try("fail and return", act)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), whole=st.booleans(), reason=st.sampled_from(REASONS))
    def buyer_cancels(self, i, whole, reason):
        parcel = self._parcel(i)
        buyer = parcel.order.user
        if whole:
            call = lambda: cancellations.cancel_order(  # noqa: E731
                order=parcel.order, role="buyer", reason=reason, by=buyer
            )
        else:
            call = lambda: cancellations.cancel_parcel(  # noqa: E731
                parcel=parcel, role="buyer", reason=reason, by=buyer
            )
        self._try("buyer cancels", call)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), reason=st.sampled_from(REASONS))
    def farmer_cancels_a_line(self, i, reason):
        parcel = self._parcel(i)
        lines = list(fulfilment.active_parcel_lines(parcel))
        if not lines:
            return
        line = lines[i % len(lines)]
        self._try(
            "farmer cancels a line",
            lambda: cancellations.cancel_line(line=line, reason=reason, by=self._owner(parcel)),
        )

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), reason=st.sampled_from(REASONS))
    def operator_cancels(self, i, reason):
        parcel = self._parcel(i)
        self._try(
            "operator cancels",
            lambda: cancellations.cancel_parcel(
                parcel=parcel, role="operator", reason=reason, by=self.world["operator"]
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), part=st.sampled_from(("part", "whole", "over")))
    def operator_refunds(self, i, part):
        order = self._order(i)
        refundable = refunds.refundable_of(source_of(order))
        if part == "over":
            before = source_of(order)
            with pytest.raises(refunds.RefundRefused):
                refunds.refund(order=order, amount=refundable + 1, by=self.world["operator"])
            after = source_of(order)
            assert after.amount_refunded == before.amount_refunded
            self._note("over-refund refused")
            return
        amount = refundable if part == "whole" else (refundable // 3)
        if amount <= 0:
            return
        self._try(
            f"refund {part}",
            lambda: refunds.refund(order=order, amount=amount, by=self.world["operator"]),
        )

    @precondition(lambda self: Refund.objects.filter(status="pending").exists())
    @rule(i=st.integers(0, 50))
    def operator_transfers_back(self, i):
        pending = list(Refund.objects.filter(status="pending", method="transfer").order_by("pk"))
        if not pending:
            return
        refund = pending[i % len(pending)]
        self._try(
            "transfer back",
            lambda: refunds.record_transfer_back(
                refund=refund,
                by=self.world["operator"],
                bank_bin="970436",
                account_number="0123456789",
                account_name="Nguyen Thi Mai",
                bank_reference=f"FT{refund.pk:08d}",
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 50), share=st.sampled_from((1, 2, 3)))
    def operator_refunds_delivered_goods(self, i, share):
        delivered = list(
            Parcel.objects.filter(order_id__in=self.orders, status="delivered").order_by("pk")
        )
        if not delivered:
            return
        parcel = delivered[i % len(delivered)]
        amount = min(parcel.goods_total // share, refunds.refundable_of(source_of(parcel.order)))
        if amount <= 0:
            return
        self._try(
            "refund delivered goods",
            lambda: refunds.refund(
                order=parcel.order,
                amount=amount,
                by=self.world["operator"],
                parcel=parcel,
                charges_producer=True,
            ),
        )

    @precondition(lambda self: Refund.objects.filter(status="pending").exists())
    @rule(i=st.integers(0, 50))
    def operator_withdraws_a_transfer_back(self, i):
        pending = list(Refund.objects.filter(status="pending", method="transfer").order_by("pk"))
        if not pending:
            return
        refund = pending[i % len(pending)]
        self._try(
            "withdraw transfer back",
            lambda: refunds.cancel_transfer_refund(
                refund=refund, by=self.world["operator"], reason="sai số tiền"
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(gia_lai=st.booleans(), confirm=st.booleans())
    def post_office_hands_cash_over(self, gia_lai, confirm):
        clerk = self.world["other_post_office" if gia_lai else "post_office_staff"]
        handover = self._try("hand cash over", lambda: handovers.create_handover(by=clerk))
        if handover is not None and confirm:
            self._try(
                "confirm cash received",
                lambda: handovers.confirm_receipt(
                    handover=handover, by=self.world["operator"], reference=f"UNC-{handover.pk}"
                ),
            )

    @precondition(lambda self: self.orders)
    @rule()
    def operator_pays_out(self):
        owed = [row.partner.pk for row in settlements.payable() if row.account is not None]
        if not owed:
            return
        self._try(
            "pay out",
            lambda: settlements.create_payout_batch(partner_ids=owed, by=self.world["operator"]),
        )

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def the_ledger_reconciles(self):
        if not self._changed("ledger"):
            return
        problems = run_checks()
        assert problems == [], problems

    @invariant()
    def every_line_sold_from_lots_links_to_one_of_them(self):
        if not self._changed("lots"):
            return
        from marketplace.models import BatchAllocation
        from traceability.models import LineLot

        taken: dict[int, set] = {}
        for line_id, source_id in BatchAllocation.objects.filter(
            line__order_id__in=self.orders
        ).values_list("line_id", "batch__source_id"):
            taken.setdefault(line_id, set()).add(source_id)
        linked = dict(LineLot.objects.filter(line_id__in=taken).values_list("line_id", "lot_id"))
        for line_id, sources in taken.items():
            assert linked.get(line_id) in sources

    @invariant()
    def refunds_never_exceed_what_was_paid(self):
        if not self._changed("refunds"):
            return
        # A deposit order's payment also leaves it as the credit of the converted order.
        credited = dict(
            Preorder.objects.filter(pk__in=self.preorders, deposit_order__isnull=False).values_list(
                "deposit_order_id", "deposit_credited"
            )
        )
        for order_id in self.orders + list(credited):
            source = source_of(Order(pk=order_id))
            rows = Refund.objects.filter(order_id=order_id)
            succeeded = sum(r.amount for r in rows if r.status == "succeeded")
            pending = sum(r.amount for r in rows if r.status == "pending")
            assert succeeded + credited.get(order_id, 0) == source.amount_refunded
            assert succeeded + pending <= source.amount_debited
            assert source.amount_allocated >= 0


class MoneyStockAndLots(MoneyAndStock):
    """The same machine with durian lots put on sale (orders then take from them,
    first-expiry-first-out) and recalled (a machine of its own, so that each machine's
    steps are still reached in the examples CI runs)."""

    @rule(quantity=st.integers(1, 6), expires_in=st.integers(1, 30))
    def farmer_puts_a_durian_lot_on_sale(self, quantity, expires_in):
        from tests.traceability.test_lots_on_sale import new_lot

        lot = new_lot(f"PBT-{len(self.lots)}", quantity=str(quantity), expires_in=expires_in)
        self.lots.append(lot.pk)
        self._try("lot on sale", lambda: sale.put_lot_on_sale(lot=lot, by=self.world["farmer"]))

    @precondition(lambda self: self.lots)
    @rule(i=st.integers(0, 50))
    def farmer_recalls_a_lot(self, i):
        lot = Lot.objects.get(pk=self.lots[i % len(self.lots)])

        def act():
            try:
                return recalls.recall_lot(lot=lot, by=self.world["farmer"], reason="Hư hỏng")
            except ValidationError:  # recalled already
                raise fulfilment.FulfilmentError("recalled") from None

        self._try("lot recalled", act)


class MoneyStockAndPreorders(MoneyAndStock):
    """The same machine with pre-orders for the coming harvest added: a window opened,
    pre-orders with or without a deposit, deposits paid, pre-orders cancelled, converted
    from a harvest that may fall short (a machine of its own, as MoneyStockAndLots).
    Orders are placed, paid, packed, handed over and delivered as in the first machine;
    its cancelling, refunding and payout steps are left to it, so that pre-order steps
    get their share of the examples CI runs."""

    def _not_here(self):
        """A step of the first machine this one does not take (not a rule here)."""

    whole_journey = fail_and_return = buyer_cancels = farmer_cancels_a_line = _not_here
    operator_cancels = operator_refunds = operator_transfers_back = _not_here
    operator_refunds_delivered_goods = operator_withdraws_a_transfer_back = _not_here
    post_office_hands_cash_over = operator_pays_out = _not_here

    def _open_windows(self):
        return list(
            PreorderWindow.objects.filter(pk__in=self.windows)
            .exclude(status=PreorderWindow.Status.CONVERTED)
            .order_by("pk")
        )

    @precondition(lambda self: len(self._open_windows()) < 2)
    @rule(cap=st.integers(1, 8), deposit_percent=st.sampled_from((0, 30, 100)))
    def farmer_opens_preorders(self, cap, deposit_percent):
        window = self._try(
            "open pre-orders",
            lambda: preorder_world.window(
                self.world["farmer"], cap=cap, price=150000, deposit_percent=deposit_percent
            ),
        )
        if window is not None:
            self.windows.append(window.pk)

    @precondition(lambda self: self._open_windows())
    @rule(
        i=st.integers(0, 50),
        buyer=st.sampled_from(("buyer", "buyer2")),
        quantity=st.integers(1, 5),
        method=st.sampled_from(("vietqr", "stripe")),
    )
    def buyer_preorders(self, i, buyer, quantity, method):
        windows = self._open_windows()
        window = windows[i % len(windows)]
        placed = self._try(
            "pre-order",
            lambda: preorder_world.preorder(window, self.world[buyer], quantity, method),
        )
        if placed is not None:
            self.preorders.append(placed.pk)

    def _deposits_due(self):
        """Open pre-orders whose deposit is not paid yet."""
        due = []
        for preorder in Preorder.objects.filter(
            pk__in=self.preorders, deposit_order__isnull=False
        ).order_by("pk"):
            if not preorder.is_open:
                continue
            source = source_of(preorder.deposit_order)
            if source.amount_debited < source.amount_allocated:
                due.append(preorder)
        return due

    @precondition(lambda self: self._deposits_due())
    @rule(i=st.integers(0, 50))
    def buyer_pays_deposit(self, i):
        due = self._deposits_due()
        preorder = due[i % len(due)]
        self._try(
            "pay deposit", lambda: pay(preorder.deposit_order, self.world["operator"], self.stripe)
        )

    @precondition(lambda self: self.preorders)
    @rule(i=st.integers(0, 50))
    def buyer_cancels_preorder(self, i):
        preorder = Preorder.objects.get(pk=self.preorders[i % len(self.preorders)])
        self._try(
            "cancel pre-order",
            lambda: preorders.cancel_preorder(preorder=preorder, by=preorder.user),
        )

    @precondition(lambda self: self.preorders and self._open_windows())
    @rule(i=st.integers(0, 50), harvested=st.integers(0, 10))
    def farmer_converts_preorders(self, i, harvested):
        windows = self._open_windows()
        window = windows[i % len(windows)]
        lot = preorder_world.lot_of(window)
        result = self._try(
            "convert pre-orders",
            lambda: preorders.convert(
                window=window, lot_id=lot.pk, quantity=harvested, by=self.world["farmer"]
            ),
        )
        if result is None:
            return
        asked = [p.quantity for p, _order in result.filled] + [p.quantity for p in result.unfilled]
        # Exact allocation in order of placement: each gets what is left, up to its ask.
        left, expected = harvested, []
        for quantity in asked:
            expected.append(min(quantity, left))
            left -= expected[-1]
        got = [p.converted for p, _order in result.filled] + [0 for _p in result.unfilled]
        assert got == expected, (got, expected)
        self.orders.extend(order.pk for _p, order in result.filled)

    @invariant()
    def pre_orders_never_exceed_the_cap(self):
        if not self._changed("cap"):
            return
        for window in PreorderWindow.objects.filter(pk__in=self.windows):
            assert preorders.taken(window) <= window.cap


@pytest.fixture
def world(people, stripe_keys):
    """The roles, a second buyer, a user for the coffee cooperative's shop, and a bank
    account for every producer (so they can be paid out)."""
    from tests.marketplace.settlement_helpers import with_bank_accounts

    restore = with_bank_accounts()
    coffee = make_user("caphe@nongsan.test")
    StockRecord.objects.get(product__upc="NS0001").partner.users.add(coffee)
    found = dict(people)
    found["buyer2"] = make_user("nguoimua2@nongsan.test")
    for buyer in (found["buyer"], found["buyer2"]):
        preorder_world.give_address(buyer)
    preorder_world.vietqr_ready()
    assert producer("krongpac").partner.users.filter(pk=people["farmer"].pk).exists()
    yield found
    restore()


def run_machine(machine, world, steps):
    from hypothesis.stateful import run_state_machine_as_test

    machine.world = world
    machine.totals = {}
    run_state_machine_as_test(machine, settings=settings.get_profile("ci"))
    print(f"\n{machine.__name__}: {MAX_EXAMPLES} examples, at most {STEPS} steps:")
    for what, count in sorted(machine.totals.items()):
        print(f"  {what}: {count}")
    # The examples did reach the interesting states.
    for step in steps:
        assert machine.totals.get(step, 0), step


@pytest.mark.django_db
def test_money_and_stock_reconcile_after_every_step(world):
    steps = ("place", "pay", "pack", "hand over", "deliver", "over-refund refused")
    run_machine(MoneyAndStock, world, steps)


@pytest.mark.django_db
def test_money_and_stock_reconcile_with_lots_on_sale(world):
    run_machine(MoneyStockAndLots, world, ("place", "lot on sale", "lot recalled"))


@pytest.mark.django_db
def test_money_and_stock_reconcile_with_pre_orders(world):
    steps = ("place", "open pre-orders", "pre-order", "pay deposit", "convert pre-orders")
    run_machine(MoneyStockAndPreorders, world, steps)
