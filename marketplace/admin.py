from django.contrib import admin

from marketplace.models import ProducerProfile


@admin.register(ProducerProfile)
class ProducerProfileAdmin(admin.ModelAdmin):
    list_display = ("partner", "kind", "province_code", "commune_code")
    list_filter = ("kind",)
