"""URLs of the recalls pages, included by traceability/urls.py (namespace traceability)."""

from django.urls import path

from . import views, views_recalls

urlpatterns = [
    # Public: a serialised label's short link, and sharing a province after a scan.
    path("t/<str:short_code>/<path:serial>/", views.short_link, name="short-serial"),
    path(
        "truy-xuat/<str:short_code>/chia-se-tinh/",
        views_recalls.share_province,
        name="scan-province",
    ),
    # Lot managers.
    path("lo-hang/<int:pk>/thu-hoi/", views_recalls.recall_lot, name="lot-recall"),
    path("don-hang/gan-lo/", views_recalls.order_lines, name="order-lines"),
    path(
        "don-hang/gan-lo/<int:line_pk>/",
        views_recalls.link_order_line,
        name="order-line-link",
    ),
]
