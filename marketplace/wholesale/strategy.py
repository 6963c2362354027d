"""Oscar's pricing strategy for nongsan (settings: marketplace.core.loading overrides
``partner.strategy.Selector``): Oscar's default (the stock record a basket line was added with,
marketplace.catalogue.strategy; stock required, no tax: prices are what the producer asks,
VAT inclusive), with the price of a basket line following the wholesale price break its
quantity reaches, for approved business buyers (marketplace.wholesale.pricing.unit_price).
Product prices shown on pages are the retail (one unit) price; the product page lists the
breaks to business buyers."""

from decimal import Decimal
from functools import cached_property

from oscar.apps.partner.prices import FixedPrice

from marketplace.catalogue.strategy import Default
from marketplace.wholesale import pricing


class Selector:
    def strategy(self, request=None, user=None, **kwargs):
        return Strategy(request, user=user)


class Strategy(Default):
    def __init__(self, request=None, user=None):
        super().__init__(request)
        if self.user is None and user is not None and user.is_authenticated:
            self.user = user

    @cached_property
    def wholesale(self) -> bool:
        """Whether this buyer gets wholesale prices (at most one query, then cached)."""
        return pricing.is_wholesale_buyer(self.user)

    @cached_property
    def _breaks(self) -> dict:
        return pricing.breaks_by_product() if self.wholesale else {}

    def price_breaks(self, product) -> list:
        """[(min_quantity, price)] this buyer gets for `product` (none for other buyers)."""
        return self._breaks.get(product.pk, [])

    def fetch_for_line(self, line, stockrecord=None):
        info = super().fetch_for_line(line, stockrecord)
        record = info.stockrecord
        breaks = self.price_breaks(line.product)
        if not breaks or record is None or record.price is None:
            return info
        unit = pricing.unit_price(retail=record.price, quantity=line.quantity, breaks=breaks)
        if unit == record.price:
            return info
        price = FixedPrice(currency=record.price_currency, excl_tax=unit, tax=Decimal("0.00"))
        return info._replace(price=price)
