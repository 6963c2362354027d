from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self):
        from oscar.apps.order.signals import order_placed

        from marketplace.catalogue import receivers as _files  # noqa: F401 (image files on commit)
        from marketplace.catalogue import stock
        from marketplace.core import analytics, numbers, observability
        from marketplace.fulfilment import shipping
        from marketplace.payments import basket_add, basket_middleware, offers
        from marketplace.search import receivers  # noqa: F401  (receivers: keeps SearchEntry in sync)
        from marketplace.site_settings import models as site_settings
        from marketplace.wholesale import queues as wholesale_queues
        from marketplace.wholesale import receivers as wholesale_receivers
        from marketplace.wholesale.services import on_order_placed

        # An approved business buyer's VAT invoice details go with each of its orders.
        order_placed.connect(on_order_placed, dispatch_uid="wholesale-invoice")
        wholesale_queues.register()
        wholesale_receivers.install()
        analytics.install()
        observability.install()
        offers.install()  # the basket's offers are looked for only while some exist
        basket_add.install()  # and a product's options only while any exist
        basket_middleware.install()  # a product's photos until they change
        shipping.install()  # the delivery rates are cached until the operator changes them
        site_settings.install()  # so are the marketplace settings
        numbers.guard_sqlite()
        stock.install()  # no product alerts looked for while stock is reserved
