"""Order placement that never oversells.

Oscar's OrderCreator allocates stock with ``num_allocated = num_allocated + n`` and does
not look at what is left, so two buyers of the last durian both get an order. Here the
stock records of the basket are locked together (SELECT … FOR UPDATE, in primary-key order
so that concurrent placements cannot deadlock) and checked inside the same transaction that
creates the order and reserves the stock (marketplace.catalogue.stock.reserve_lines); a
basket asking for more than is left raises UnableToPlaceOrder with a message naming the product, and
Oscar's checkout shows it on the preview page with the basket intact.
"""

from django.db import transaction
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.order.utils import OrderCreator as OscarOrderCreator

from marketplace.catalogue import stock


class OrderCreator(OscarOrderCreator):
    def create_line_models(self, order, basket_line, extra_line_fields=None):
        """Oscar's, remembering each basket line's order line (a product sold from lots
        is reserved for its order line: marketplace.catalogue.batches)."""
        order_line = super().create_line_models(order, basket_line, extra_line_fields)
        self._order_lines[basket_line.pk] = order_line
        return order_line

    def update_stock_records(self, line):
        """Oscar allocates each line's stock here, in stock-record order; the reservation
        (stock.reserve, for the order line made from it: a product sold from lots is
        reserved lot by lot for that line, marketplace.catalogue.batches) is made in
        place_order once the order, its lines and its parcels are written, so that the
        stock records stay locked only for the reservation and the rest of the request
        (buyers of the same product wait for each other there)."""
        if line.stockrecord_id is not None:
            self._to_reserve.append(line)

    def place_order(
        self,
        basket,
        *args,
        shipping_address=None,
        reserve_stock=True,
        cash_on_delivery=False,
        **kwargs,
    ):
        """Oscar's, with one parcel per producer (collecting goods and delivery when the
        order is paid `cash_on_delivery`: fulfilment.parcels.create_parcels), and the
        order's stock reserved (``reserve_stock_of``) unless `reserve_stock` is False: then
        the caller reserves it in its own transaction once it has written the rest of the
        order (the checkout, ``PaymentDetailsView.handle_order_placement``), so that the
        stock records are locked for as short a time as can be."""
        from marketplace.fulfilment.parcels import create_parcels

        # Reserved later, the order is undone with its caller's transaction if stock is
        # short: no savepoint of its own then.
        with transaction.atomic(savepoint=reserve_stock):
            self._to_reserve = []
            self._order_lines = {}
            order = super().place_order(basket, *args, shipping_address=shipping_address, **kwargs)
            # One parcel per producer, priced as the buyer saw it.
            create_parcels(order, basket, shipping_address, cash_on_delivery=cash_on_delivery)
            order.placed_lines = list(self._order_lines.values())  # in basket order
            order.stock_to_reserve = [
                (line.stockrecord, line.quantity, self._order_lines.get(line.pk))
                for line in self._to_reserve
            ]
            if reserve_stock:
                reserve_stock_of(order)
            return order


def reserve_stock_of(order) -> None:
    """Reserve what `order` (placed by ``OrderCreator``) takes: its stock records locked
    together in primary-key order, checked, then reserved (stock.reserve_lines).
    UnableToPlaceOrder naming the product when one is short: the caller's transaction,
    which wrote the order, must then be undone with it (Oscar's checkout shows the message
    on the preview page with the basket intact)."""
    try:
        stock.reserve_lines(order.stock_to_reserve)
    except stock.StockError as exc:
        raise UnableToPlaceOrder(str(exc)) from None
