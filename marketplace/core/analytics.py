"""Oscar's analytics counters, counted after the commit.

Oscar's analytics receivers add to shared counter rows (ProductRecord.num_views,
num_basket_additions, num_purchases; UserRecord) inside the request's transaction
(ATOMIC_REQUESTS), so each counter row stays locked until the request ends. Under load the
hot rows of a popular product then meet the stock-record locks of order placement in
different orders and PostgreSQL aborts transactions with "deadlock detected" (measured by
bench/checkout.py: 6 of 40 checkouts failed, basket additions answered 500). Here the same
receivers run once the transaction has committed, each UPDATE a transaction of its own;
a failure there is logged, never shown to the buyer (they are statistics).
"""

import logging

from django.db import transaction
from oscar.apps.analytics import receivers as oscar_receivers
from oscar.apps.basket.signals import basket_addition
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.order.signals import order_placed
from oscar.apps.search.signals import user_search

logger = logging.getLogger("marketplace.core.analytics")

SIGNALS = (
    (product_viewed, oscar_receivers.receive_product_view),
    (user_search, oscar_receivers.receive_product_search),
    (basket_addition, oscar_receivers.receive_basket_addition),
    (order_placed, oscar_receivers.receive_order_placed),
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
    for signal, counter in SIGNALS:
        signal.disconnect(counter)
        receiver = _deferred(counter)
        _receivers.append(receiver)
        signal.connect(receiver, dispatch_uid=f"nongsan-deferred-{counter.__name__}")
