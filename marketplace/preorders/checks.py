"""What must reconcile for pre-orders and their deposits (run by verify_ledger through
marketplace.finance.checks.CHECKS):

- nothing over the cap: per window, what open pre-orders hold plus what converted ones
  received is at most the cap, and what was converted at most what was harvested;
- each pre-order's deposit follows the deposit rule (services.deposit_for) and its deposit
  order asks for exactly it;
- a pre-order that ended (converted, cancelled, not reached by the harvest): the deposit
  paid = what counts as payment of its order + what was refunded (made or pending), and
  nothing of it is due any more; an open one has refunded nothing;
- a converted pre-order's order has one line, of the product, for the quantity converted
  at the pre-order's price, and the deposit it was credited was paid to it.
"""

from collections import defaultdict
from decimal import Decimal

from oscar.core.loading import get_model

from marketplace.models import Preorder, PreorderWindow, Refund
from marketplace.payments.state import PAID_EVENT
from marketplace.preorders.services import deposit_for

Line = get_model("order", "Line")
PaymentEvent = get_model("order", "PaymentEvent")
ZERO = Decimal(0)


def check_preorders() -> list[str]:
    problems = []
    held = defaultdict(int)
    converted = defaultdict(int)
    preorders = Preorder.objects.select_related("window").prefetch_related("deposit_order__sources")
    refunds = defaultdict(lambda: ZERO)
    for order_id, amount in Refund.objects.filter(
        status__in=[Refund.Status.SUCCEEDED, Refund.Status.PENDING]
    ).values_list("order_id", "amount"):
        refunds[order_id] += amount
    credits = defaultdict(lambda: ZERO)
    for order_id, reference, amount in PaymentEvent.objects.filter(
        event_type__code=PAID_EVENT, order_id__in=Preorder.objects.values("order_id")
    ).values_list("order_id", "reference", "amount"):
        credits[(order_id, reference)] += amount
    lines = defaultdict(list)
    for row in Line.objects.filter(order_id__in=Preorder.objects.values("order_id")).values(
        "order_id", "product_id", "quantity", "unit_price_incl_tax"
    ):
        lines[row["order_id"]].append(row)
    for p in preorders.order_by("pk"):
        name = f"pre-order {p.pk}"
        window = p.window
        if p.status == Preorder.Status.PLACED:
            held[window.pk] += p.quantity
        elif p.status == Preorder.Status.CONVERTED:
            held[window.pk] += p.converted
            converted[window.pk] += p.converted
        rule = deposit_for(price=p.price, quantity=p.quantity, percent=window.deposit_percent)
        if p.deposit != rule:
            problems.append(f"{name}: deposit {p.deposit}, the rule gives {rule}")
        if (p.deposit > 0) != (p.deposit_order_id is not None):
            problems.append(f"{name}: deposit {p.deposit} but deposit order {p.deposit_order_id}")
        if p.deposit_order_id is not None:
            sources = list(p.deposit_order.sources.all())
            source = sources[0] if sources else None
            if source is None:
                problems.append(f"{name}: its deposit order has no payment")
                continue
            paid = source.amount_debited
            refunded = refunds[p.deposit_order_id]
            if p.is_open:
                if source.amount_allocated != p.deposit:
                    problems.append(
                        f"{name}: deposit {p.deposit}, its order asks {source.amount_allocated}"
                    )
                if source.amount_refunded or refunded:
                    problems.append(f"{name}: open, yet part of its deposit was refunded")
            else:
                if paid != p.deposit_credited + refunded:
                    problems.append(
                        f"{name}: deposit paid {paid}, credited to its order "
                        f"{p.deposit_credited} + refunded {refunded}"
                    )
                if source.amount_allocated != paid:
                    problems.append(
                        f"{name}: ended, yet {source.amount_allocated - paid} of its deposit "
                        "is still due"
                    )
        if p.deposit_credited and p.status != Preorder.Status.CONVERTED:
            problems.append(f"{name}: credited {p.deposit_credited} but not converted")
        if p.status == Preorder.Status.CONVERTED:
            rows = lines.get(p.order_id, [])
            if (
                len(rows) != 1
                or rows[0]["product_id"] != window.product_id
                or rows[0]["quantity"] != p.converted
                or rows[0]["unit_price_incl_tax"] != p.price
            ):
                problems.append(
                    f"{name}: converted {p.converted} at {p.price}, its order's lines differ"
                )
            if p.deposit_credited and p.deposit_order_id:
                got = credits[(p.order_id, p.deposit_order.number)]
                if got != p.deposit_credited:
                    problems.append(
                        f"{name}: credited {p.deposit_credited}, its order received {got}"
                    )
    windows = PreorderWindow.objects.order_by("pk").values_list("pk", "cap", "status", "harvested")
    for pk, cap, status, harvested in windows:
        if held[pk] > cap:
            problems.append(f"pre-order window {pk}: {held[pk]} pre-ordered, over its cap {cap}")
        if status == PreorderWindow.Status.CONVERTED and converted[pk] > harvested:
            problems.append(
                f"pre-order window {pk}: {converted[pk]} converted, {harvested} harvested"
            )
    return problems
