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

    def place_order(self, basket, *args, shipping_address=None, **kwargs):
        from marketplace.fulfilment.parcels import create_parcels

        with transaction.atomic():
            self._to_reserve = []
            self._order_lines = {}
            order = super().place_order(basket, *args, shipping_address=shipping_address, **kwargs)
            # One parcel per producer, priced as the buyer saw it.
            create_parcels(order, basket, shipping_address)
            # Locked together in primary-key order, checked, then reserved; anything short
            # undoes the whole order (this transaction).
            try:
                stock.reserve_lines(
                    (line.stockrecord, line.quantity, self._order_lines.get(line.pk))
                    for line in self._to_reserve
                )
            except stock.StockError as exc:
                raise UnableToPlaceOrder(str(exc)) from None
            return order
