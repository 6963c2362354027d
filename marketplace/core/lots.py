"""The lot an order line was packed from: a hook, so that marketplace packs parcels with
lots without importing traceability (which owns lots and their rules).

traceability registers its provider in TraceabilityConfig.ready()
(traceability.line_lots.LineLots). Without a provider there are no lots: lines have none,
nothing can be chosen and linking is refused.
"""

from django.core.exceptions import ImproperlyConfigured


class NoLots:
    """The provider's interface, and what happens without one."""

    def with_lots(self, lines):
        """`lines` (a queryset of order lines) reading their lots in the same query."""
        return lines

    def lot_of(self, line):
        """The lot `line` was packed from (of a queryset from with_lots), or None."""
        return None

    def choices(self, *, partner_id, product_ids) -> dict:
        """{product id: [lots of this producer and product that may be packed (that may
        be sold today), newest first]}, in at most two queries."""
        return {}

    def linked(self, line_ids) -> dict:
        """{line id: (lot id, lot code)} for the lines already linked to a lot."""
        return {}

    def link_placed(self, *, line, source_id) -> None:
        """`line` was placed and took goods from lot `source_id` on sale
        (marketplace.catalogue.batches): record the link at once, inside the placement's
        transaction. Without a provider nothing is recorded."""

    def link(self, *, line, lot_id, by) -> None:
        """Record that `line` was packed from lot `lot_id` (ValidationError or
        PermissionDenied, with a message, when it may not be)."""
        raise ImproperlyConfigured("No lot provider is registered.")


_provider = NoLots()


def register_lot_provider(provider) -> None:
    global _provider
    _provider = provider


def lot_provider():
    return _provider
