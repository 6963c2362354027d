from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmersConfig(AppConfig):
    name = "farmers"
    verbose_name = _("Farmers")

    def ready(self):
        from marketplace.core.payees import register_bank_account_provider
        from marketplace.core.post_offices import register_post_office_provider
        from marketplace.core.scope import register_scope_provider

        from .payees import bank_accounts
        from .post_offices import post_offices
        from .scope import scope_of

        register_scope_provider(scope_of)
        register_bank_account_provider(bank_accounts)
        register_post_office_provider(post_offices)
