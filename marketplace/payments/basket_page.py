"""Oscar's basket page, its GET outside the request transaction: it only reads, and on
SQLite a transaction takes the one write lock (marketplace.core.transactions). Changing a
quantity or removing a line (its POST) keeps the transaction."""

from oscar.apps.basket.views import BasketView as OscarBasketView

from marketplace.core.transactions import reads_on_get


@reads_on_get
class BasketView(OscarBasketView):
    pass
