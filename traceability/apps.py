from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self):
        from marketplace.core.lots import register_lot_provider

        from .line_lots import LineLots

        register_lot_provider(LineLots())

        from django.conf import settings

        if not settings.DEBUG:
            from .signing import check_configuration

            check_configuration()  # refuse to start with an unusable trace signing key
