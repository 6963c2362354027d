"""What a unit costs a buyer for a quantity: THE wholesale rule. The strategy
(marketplace.wholesale.strategy) calls it for every basket line, so the line's price,
the order line and everything computed from them (parcels, COD, the settlement ledger)
follow it.

- Everyone pays the stock record's price, except
- an approved business buyer (``is_wholesale_buyer``), who pays the price of the largest
  price break whose "from quantity" the line's quantity reaches (exactly at the
  threshold included), never more than the retail price.
"""

from decimal import Decimal

from django.core.cache import cache

CACHE_SECONDS = 300


def unit_price(*, retail: Decimal, quantity: int, breaks) -> Decimal:
    """The unit price of `quantity` units: `breaks` is an iterable of (min_quantity, price)
    (any order); the largest min_quantity ≤ quantity wins; no break reached: `retail`."""
    reached = [(minimum, price) for minimum, price in breaks if quantity >= minimum]
    if not reached:
        return retail
    return min(max(reached)[1], retail)


def _cache_key(user_id: int) -> str:
    return f"wholesale-buyer:{user_id}"


def is_wholesale_buyer(user) -> bool:
    """Whether `user` is a business buyer the operator approved (one query, then cached
    until the business is reviewed again: ``forget``)."""
    if user is None or not user.is_authenticated:
        return False
    key = _cache_key(user.pk)
    found = cache.get(key)
    if found is None:
        from marketplace.models import BusinessBuyer

        found = BusinessBuyer.objects.filter(
            user_id=user.pk, status=BusinessBuyer.Status.APPROVED
        ).exists()
        cache.set(key, found, CACHE_SECONDS)
    return found


def forget(user_id: int) -> None:
    """Drop what is cached about this buyer (after a review or new details)."""
    cache.delete(_cache_key(user_id))


def breaks_by_product(product_ids=None) -> dict:
    """{product id: [(min_quantity, price), …] ascending} for these products (all when
    None), in one query."""
    from marketplace.models import PriceBreak

    rows = PriceBreak.objects.order_by("product_id", "min_quantity")
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    found: dict = {}
    for product_id, minimum, price in rows.values_list("product_id", "min_quantity", "price"):
        found.setdefault(product_id, []).append((minimum, price))
    return found
