"""Stripe's webhook: one URL whatever the language (included outside i18n_patterns)."""

from django.urls import path

from marketplace.payments import webhooks

app_name = "stripe"
urlpatterns = [
    path("stripe/webhook/", webhooks.stripe_webhook, name="webhook"),
]
