"""Which requests run in a transaction (ATOMIC_REQUESTS) and which do not.

Every view runs in a request transaction (settings: ATOMIC_REQUESTS), and on SQLite a
transaction takes the database's one write lock when it starts (BEGIN IMMEDIATE: a reading
transaction that then writes would otherwise fail with "database is locked"). A page that
only reads would so hold every buyer placing an order, and every other page, behind it, and
each waiter polls the lock with growing sleeps.

`reads_on_get` marks a class-based view whose GET and HEAD only read: those run without the
request transaction (each query in its own, as Django does by default; the page's template
is rendered after the view's transaction anyway), while its other methods keep theirs
exactly as ATOMIC_REQUESTS gave it. Only for views whose GET writes nothing (the session is
saved by its middleware after the view, outside the transaction in both cases).

`own_transactions` marks a view that opens its own transactions around what it writes, for
every method (the checkout's place-order step: what it reads and the card payment it asks
Stripe for come first, outside; the order is written in one transaction at the end).
"""

from django.db import transaction
from django.utils.decorators import method_decorator

SAFE = frozenset({"GET", "HEAD"})


def _outside(view_class, methods=None):
    """`view_class` with the request transaction left out for `methods` (all if None)
    and opened by its dispatch, as ATOMIC_REQUESTS would, for the others."""
    dispatch = view_class.dispatch

    def atomic_unless_outside(self, request, *args, **kwargs):
        if methods is None or request.method in methods:
            return dispatch(self, request, *args, **kwargs)
        with transaction.atomic():
            return dispatch(self, request, *args, **kwargs)

    atomic_unless_outside.__name__ = "dispatch"
    view_class.dispatch = method_decorator(transaction.non_atomic_requests)(atomic_unless_outside)
    return view_class


def reads_on_get(view_class):
    """`view_class` with its GET and HEAD outside the request transaction."""
    return _outside(view_class, SAFE)


def own_transactions(view_class):
    """`view_class` outside the request transaction whatever the method: it must open
    its own (transaction.atomic) around what it writes."""
    return _outside(view_class)
