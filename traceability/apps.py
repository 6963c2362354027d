from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self):
        from marketplace.core.lots import register_lot_provider

        from .line_lots import LineLots

        register_lot_provider(LineLots())

        from marketplace.core.queues import register_operator_page, register_operator_queue

        from .safety import count_to_review

        register_operator_queue(
            label=_("Lots to review (harvested inside a pre-harvest interval)"),
            url_name="traceability:safety-queue",
            count=count_to_review,
        )
        register_operator_page(
            label=_("Banned active ingredients"),
            url_name="traceability:banned-ingredients",
        )
        register_operator_page(
            label=_("Harvest outlook"),
            url_name="traceability:harvest-outlook",
        )

        from marketplace.core.handlers import register_early_answer

        from .middleware import early_answer

        # A short link's kept page, answered by the served app's handler (config.wsgi)
        # before Django's request object and middleware (marketplace.core.handlers).
        register_early_answer("traceability.middleware.KeptTracePageMiddleware", early_answer)

        from django.conf import settings

        if not settings.DEBUG:
            from .signing import check_configuration

            check_configuration()  # refuse to start with an unusable trace signing key
