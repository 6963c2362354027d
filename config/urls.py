from django.apps import apps
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from marketplace.core.redirects import set_language
from marketplace.views import HomeView, favicon, healthz, metrics, readyz

urlpatterns = [
    # Django's language switch, with `next` held to marketplace.core.redirects.safe_next's rule.
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Operations: liveness, readiness, Prometheus metrics (README "Operations").
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    # Stripe's webhook: one URL whatever the language.
    path("", include("marketplace.payments.urls_stripe")),
]

# Vietnamese at "/", English at "/en/": every page has one URL per language.
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    # One sign-in page for everyone (e-mail or phone number), at Oscar's address.
    path("", include("marketplace.accounts.urls")),
    path("can-bo/", include("farmers.urls")),
    # Farmer's own shop (products, certificates) and operator moderation.
    path("", include("marketplace.shops.urls")),
    # Products in bulk (spreadsheet import, price and stock): farmers and staff.
    path("", include("farmers.urls_products")),
    path("", include("marketplace.certificates.urls")),
    # Orders after checkout: card payments, bank transfers, parcels, COD remittances.
    path("", include("marketplace.payments.urls")),
    path("", include("marketplace.finance.urls_transfers")),
    path("", include("marketplace.fulfilment.urls")),
    path("", include("marketplace.finance.urls_remittances")),
    path("", include("marketplace.finance.urls_handovers")),
    path("", include("marketplace.finance.urls_settlements")),
    # Wholesale: business buyers, producers' price breaks, the operator's approval.
    path("", include("marketplace.wholesale.urls")),
    # Pre-orders for the coming harvest (producers and buyers).
    path("", include("marketplace.preorders.urls")),
    # The operator's home: queues and settings.
    path("", include("marketplace.site_settings.urls")),
    # Public pages: home, producer shops, provinces.
    path("", HomeView.as_view(), name="home"),
    path("", include("marketplace.urls")),
    path("", include("traceability.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
    prefix_default_language=False,
)

if settings.SERVE_MEDIA:
    urlpatterns.insert(
        0,
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    )

handler403 = "oscar.views.handler403"
handler404 = "oscar.views.handler404"
handler500 = "marketplace.views.server_error"
