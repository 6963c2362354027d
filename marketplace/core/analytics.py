"""Oscar's analytics counters, counted after the commit.

Oscar's analytics receivers add to shared counter rows (ProductRecord.num_views,
num_basket_additions, num_purchases; UserRecord) inside the request's transaction
(ATOMIC_REQUESTS), so each counter row stays locked until the request ends. Under load the
hot rows of a popular product then meet the stock-record locks of order placement in
different orders and PostgreSQL aborts transactions with "deadlock detected" (measured by
bench/checkout.py: 6 of 40 checkouts failed, basket additions answered 500). Here the same
receivers run once the transaction has committed, each UPDATE a transaction of its own;
a failure there is logged, never shown to the buyer (they are statistics). An order's
products are counted in one UPDATE (Oscar's receiver makes one a line).
"""

import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from oscar.apps.analytics import receivers as oscar_receivers
from oscar.apps.basket.signals import basket_addition
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.order.signals import order_placed
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_model

logger = logging.getLogger("marketplace.core.analytics")


def count_purchases(order) -> None:
    """Oscar's num_purchases of each product of `order` raised by what it bought: one
    UPDATE for the products that have a record (the usual case), Oscar's counter for any
    that has none yet."""
    ProductRecord = get_model("analytics", "ProductRecord")
    bought = defaultdict(int)
    for line in order.lines.all():
        if line.product_id is not None:
            bought[line.product_id] += line.quantity
    if not bought:
        return
    raised = Case(
        *(When(product_id=pk, then=Value(quantity)) for pk, quantity in bought.items()),
        output_field=IntegerField(),
    )
    records = ProductRecord.objects.filter(product_id__in=bought)
    if records.update(num_purchases=F("num_purchases") + raised) < len(bought):
        counted = set(records.values_list("product_id", flat=True))
        for pk, quantity in bought.items():
            if pk not in counted:
                oscar_receivers._update_counter(
                    ProductRecord, "num_purchases", {"product_id": pk}, quantity
                )


def receive_order_placed(sender, order, user, **kwargs):
    """Oscar's receiver, the products counted together (count_purchases)."""
    if kwargs.get("raw", False):
        return
    count_purchases(order)
    if user and user.is_authenticated:
        oscar_receivers._record_user_order(user, order)


SIGNALS = (
    (product_viewed, oscar_receivers.receive_product_view, None),
    (user_search, oscar_receivers.receive_product_search, None),
    (basket_addition, oscar_receivers.receive_basket_addition, None),
    (order_placed, oscar_receivers.receive_order_placed, receive_order_placed),
)


def _deferred(counter):
    def receiver(sender, **kwargs):
        kwargs.pop("signal", None)

        def count():
            try:
                counter(sender=sender, **kwargs)
            except Exception:
                logger.exception("analytics counter %s failed", counter.__name__)

        transaction.on_commit(count)

    return receiver


_receivers = []  # strong references: the signals hold weak ones by default


def install() -> None:
    """Replace Oscar's analytics receivers by the same ones run after commit."""
    for signal, oscars, ours in SIGNALS:
        signal.disconnect(oscars)
        counter = ours or oscars
        receiver = _deferred(counter)
        _receivers.append(receiver)
        signal.connect(receiver, dispatch_uid=f"nongsan-deferred-{counter.__name__}")
