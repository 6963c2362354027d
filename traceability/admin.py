"""The operator keeps the list of banned active ingredients current here (seeded from
traceability/data/banned_ingredients.csv; traceability.safety.banned_ingredient reads it)."""

from django.contrib import admin

from .models import BannedIngredient


@admin.register(BannedIngredient)
class BannedIngredientAdmin(admin.ModelAdmin):
    list_display = ("name", "group", "source", "active", "updated_at")
    list_filter = ("active", "group")
    search_fields = ("name", "aliases", "source")
    fields = ("name", "aliases", "group", "source", "note", "active")
