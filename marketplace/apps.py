from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self):
        from marketplace.catalogue import receivers as _files  # noqa: F401 (image files on commit)
        from marketplace.core import analytics, numbers, observability
        from marketplace.search import receivers  # noqa: F401  (receivers: keeps SearchEntry in sync)

        analytics.install()
        observability.install()
        numbers.guard_sqlite()
