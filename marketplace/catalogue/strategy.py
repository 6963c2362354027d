"""Oscar's pricing and availability strategy, the base of the one Oscar uses
(marketplace.wholesale.strategy adds wholesale price breaks to it): Oscar's own ``Default``
(the product's stock record, stock required, no tax added), except that a basket line is
priced from the stock record it was added with, which the basket loaded together with the
line, instead of reading the product's stock records again each time Oscar asks (the
checkout asks on every page, for every line, several times). Each product here has one
stock record (its producer's), so the answer is the same."""

from oscar.apps.partner import strategy


class Default(strategy.Default):
    def fetch_for_line(self, line, stockrecord=None):
        stockrecord = stockrecord or line.stockrecord
        if stockrecord is None:
            return super().fetch_for_line(line, stockrecord)
        return self.fetch_for_product(line.product, stockrecord)
