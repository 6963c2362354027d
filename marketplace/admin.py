from django.contrib import admin

from marketplace.models import ProducerBankAccount, ProducerProfile


@admin.register(ProducerProfile)
class ProducerProfileAdmin(admin.ModelAdmin):
    list_display = ("partner", "kind", "province_code", "commune_code")
    list_filter = ("kind",)


@admin.register(ProducerBankAccount)
class ProducerBankAccountAdmin(admin.ModelAdmin):
    """Where the operator records the account a producer that is not a member is paid into
    (marketplace.core.payees)."""

    list_display = ("partner", "bank_bin", "number", "holder")
    search_fields = ("partner__name", "number", "holder")
