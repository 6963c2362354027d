"""Which pages are the buyer's storefront: one place for it.

Storefront pages (what a buyer opens on a cheap phone: home, catalogue, search, product,
basket, checkout, their account and orders, provinces, producers, certificates, paying by
card, cancelling an order) are drawn with the project's small stylesheet alone
(static/nongsan/store.css), without Oscar's theme (Bootstrap, jQuery, an icon font: over
half a megabyte). Every other page that extends oscar/layout.html (the farmer's channel,
staff, post office, operator) keeps Oscar's theme; Oscar's dashboard has its own layout.
"""

# URL namespaces that are storefront pages as a whole.
STOREFRONT_NAMESPACES = frozenset(
    {"catalogue", "basket", "checkout", "search", "customer", "offer", "wishlists", "marketplace"}
)
# Single storefront pages in other namespaces (view names as "namespace:name").
STOREFRONT_VIEWS = frozenset(
    {
        "home",
        "sign-in",
        "guest-order-lookup",
        "password-reset",
        "password-reset-done",
        "password-reset-confirm",
        "password-reset-complete",
        "certificates:detail",
        "payments:card",
        "fulfilment:buyer-cancel",
        "fulfilment:guest-cancel",
    }
)


def is_storefront(request) -> bool:
    """True when `request` is for a storefront page (see the module's docstring)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    if match.namespaces and match.namespaces[0] in STOREFRONT_NAMESPACES:
        return True
    return match.view_name in STOREFRONT_VIEWS


def storefront(request) -> dict:
    """Context processor: `storefront_page` for oscar/layout.html."""
    return {"storefront_page": is_storefront(request)}
