from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmersConfig(AppConfig):
    name = "farmers"
    verbose_name = _("Farmers")

    def ready(self):
        from marketplace.core.scope import register_scope_provider

        from .scope import scope_of

        register_scope_provider(scope_of)
