from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self):
        from . import analytics, receivers  # noqa: F401  (receivers: keeps SearchEntry in sync)

        analytics.install()
