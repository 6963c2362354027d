"""Order placement that never oversells.

Oscar's OrderCreator allocates stock with ``num_allocated = num_allocated + n`` and does
not look at what is left, so two buyers of the last durian both get an order. Here the
stock records of the basket are locked together (SELECT … FOR UPDATE, in primary-key order
so that concurrent placements cannot deadlock) and checked inside the same transaction that
creates the order and reserves the stock (marketplace.catalogue.stock.reserve_lines); a
basket asking for more than is left raises UnableToPlaceOrder with a message naming the product, and
Oscar's checkout shows it on the preview page with the basket intact.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.order.signals import order_placed
from oscar.apps.order.utils import OrderCreator as OscarOrderCreator
from oscar.apps.order.utils import OrderNumberGenerator
from oscar.core.loading import get_model

from marketplace.catalogue import stock

Line = get_model("order", "Line")
LinePrice = get_model("order", "LinePrice")


class OrderCreator(OscarOrderCreator):
    def create_line_models(self, order, basket_line, extra_line_fields=None):
        """Oscar's, remembering each basket line's order line (a product sold from lots
        is reserved for its order line: marketplace.catalogue.batches)."""
        (order_line,) = self.create_lines(order, [basket_line], extra_line_fields)
        return order_line

    def create_lines(self, order, basket_lines, extra_line_fields=None) -> list:
        """Oscar's create_line_models for each of `basket_lines`, in their order, with the
        order lines written in one INSERT and their prices in another (Oscar writes each
        line, then each of its prices); each basket line's order line remembered."""
        basket_lines = list(basket_lines)
        order_lines = [
            Line(**self._line_data(order, basket_line, extra_line_fields))
            for basket_line in basket_lines
        ]
        Line._default_manager.bulk_create(order_lines)
        LinePrice._default_manager.bulk_create(
            [
                LinePrice(
                    order=order,
                    line=order_line,
                    quantity=quantity,
                    price_incl_tax=price_incl_tax,
                    price_excl_tax=price_excl_tax,
                    tax_code=basket_line.tax_code,
                )
                for order_line, basket_line in zip(order_lines, basket_lines, strict=True)
                for price_incl_tax, price_excl_tax, quantity in basket_line.get_price_breakdown()
            ]
        )
        for order_line, basket_line in zip(order_lines, basket_lines, strict=True):
            self.create_line_attributes(order, order_line, basket_line)
            self.create_line_discount_models(order, order_line, basket_line)
            self.create_additional_line_models(order, order_line, basket_line)
            self._order_lines[basket_line.pk] = order_line
        return order_lines

    def _line_data(self, order, basket_line, extra_line_fields=None) -> dict:
        """What Oscar's create_line_models writes of a basket line (oscar.apps.order.utils)."""
        product, stockrecord = basket_line.product, basket_line.stockrecord
        if not stockrecord:
            raise UnableToPlaceOrder(f"Basket line #{basket_line.id} has no stockrecord")
        partner = stockrecord.partner
        line_data = {
            "order": order,
            "partner": partner,
            "partner_name": partner.name,
            "partner_sku": stockrecord.partner_sku,
            "stockrecord": stockrecord,
            "product": product,
            "title": product.get_title(),
            "upc": product.upc,
            "quantity": basket_line.quantity,
            "line_price_excl_tax": basket_line.line_price_excl_tax_incl_discounts,
            "line_price_incl_tax": basket_line.line_price_incl_tax_incl_discounts,
            "line_price_before_discounts_excl_tax": basket_line.line_price_excl_tax,
            "line_price_before_discounts_incl_tax": basket_line.line_price_incl_tax,
            "unit_price_incl_tax": basket_line.unit_price_incl_tax,
            "unit_price_excl_tax": basket_line.unit_price_excl_tax,
            "tax_code": basket_line.tax_code,
            "num_allocated": basket_line.quantity,
        }
        extra_line_fields = dict(extra_line_fields or {})
        if hasattr(settings, "OSCAR_INITIAL_LINE_STATUS"):
            extra_line_fields.setdefault("status", settings.OSCAR_INITIAL_LINE_STATUS)
        line_data.update(extra_line_fields)
        return line_data

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
            order = self._place_order(basket, *args, shipping_address=shipping_address, **kwargs)
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

    def _place_order(
        self,
        basket,
        total,
        shipping_method,
        shipping_charge,
        user=None,
        shipping_address=None,
        billing_address=None,
        order_number=None,
        status=None,
        request=None,
        surcharges=None,
        **kwargs,
    ):
        """Oscar's ``OrderCreator.place_order`` (oscar.apps.order.utils), in the caller's
        transaction, without three of its round trips on every order:
        - the order number is not looked up first: it is unique in the table, so an order
          placed twice from one basket fails at its INSERT, undone with the transaction
          (Oscar's look-up raised ValueError; the checkout treats both alike);
        - no savepoint of its own: place_order's transaction undoes it all;
        - the basket's vouchers are read (and locked) only when some voucher exists or an
          offer applied to the basket came with one (marketplace.payments.offers); a basket
          can hold a voucher only once one exists;
        and its lines and their prices are written two INSERTs in all (create_lines).
        The rest, in Oscar's order."""
        if basket.is_empty:
            raise ValueError(_("Empty baskets cannot be submitted"))
        if not order_number:
            order_number = OrderNumberGenerator().order_number(basket)
        if not status and hasattr(settings, "OSCAR_INITIAL_ORDER_STATUS"):
            status = settings.OSCAR_INITIAL_ORDER_STATUS
        kwargs["surcharges"] = surcharges
        order = self.create_order_model(
            user,
            basket,
            shipping_address,
            shipping_method,
            shipping_charge,
            billing_address,
            total,
            order_number,
            status,
            request,
            **kwargs,
        )
        vouchers = _may_hold_vouchers(basket)
        if vouchers:
            for voucher in basket.vouchers.select_for_update():
                if not voucher.is_active():  # basket ignores inactive vouchers
                    basket.vouchers.remove(voucher)
                else:
                    available_to_user, msg = voucher.is_available_to_user(user=user)
                    if not available_to_user:
                        raise ValueError(msg)
        for application in basket.offer_applications:
            application["message"] = application["offer"].apply_deferred_benefit(
                basket, order, application
            )
            if application["result"].affects_shipping:
                shipping_discount = shipping_method.discount(basket)
                if shipping_discount <= Decimal("0.00"):
                    continue
                application["discount"] = shipping_discount
            self.create_discount_model(order, application)
            self.record_discount(application)
        if vouchers:
            for voucher in basket.vouchers.all():
                self.record_voucher_usage(order, voucher, user)
        # In basket order (the line keys keep the order the buyer saw), the stock in
        # stock-record order (update_stock_records).
        self.create_lines(order, basket.all_lines())
        for line in sorted(basket.all_lines(), key=lambda line: line.stockrecord_id):
            self.update_stock_records(line)
        order_placed.send(sender=self, order=order, user=user)
        return order


def _may_hold_vouchers(basket) -> bool:
    """Whether `basket` may hold a voucher: one exists (as the offer applicator knows it),
    or an offer applied to it came with one."""
    from marketplace.payments.offers import offers_exist

    _site, vouchers = offers_exist()
    return vouchers or any(a.get("voucher") for a in basket.offer_applications)


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
