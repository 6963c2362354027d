"""URLs of the labels pages, included by traceability/urls.py (namespace traceability)."""

from django.urls import path

from . import views_labels

urlpatterns = [
    path("lo-hang/<int:pk>/ma-qr.png", views_labels.lot_qr, {"fmt": "png"}, name="lot-qr-png"),
    path("lo-hang/<int:pk>/ma-qr.svg", views_labels.lot_qr, {"fmt": "svg"}, name="lot-qr-svg"),
    path("lo-hang/<int:pk>/nhan/", views_labels.sheets, name="label-sheets"),
    path(
        "lo-hang/<int:pk>/nhan/<int:sheet_pk>/",
        views_labels.sheet_status,
        name="label-sheet",
    ),
    path(
        "lo-hang/<int:pk>/nhan/<int:sheet_pk>/trang-thai.json",
        views_labels.sheet_status_json,
        name="label-sheet-json",
    ),
    path(
        "lo-hang/<int:pk>/nhan/<int:sheet_pk>/lam-lai/",
        views_labels.sheet_retry,
        name="label-sheet-retry",
    ),
    path(
        "lo-hang/<int:pk>/nhan/<int:sheet_pk>/tai-ve.pdf",
        views_labels.sheet_pdf,
        name="label-sheet-pdf",
    ),
]
