from django.contrib import admin

from .models import Organisation, StaffMembership


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "province_code", "commune_code")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "title")
    raw_id_fields = ("user",)
