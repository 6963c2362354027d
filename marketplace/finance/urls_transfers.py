"""Operator pages for VietQR bank transfers (included at the site root, inside
i18n_patterns)."""

from django.urls import path

from marketplace.finance import transfer_views as views

app_name = "transfers"
urlpatterns = [
    path("quan-tri/chuyen-khoan/", views.awaiting, name="awaiting"),
    path("quan-tri/chuyen-khoan/sao-ke/", views.import_statement, name="import"),
    path("quan-tri/chuyen-khoan/sao-ke/<int:pk>/", views.statement_import, name="statement"),
    path(
        "quan-tri/chuyen-khoan/sao-ke/<int:pk>/lam-lai/",
        views.statement_import_retry,
        name="statement-retry",
    ),
    path(
        "quan-tri/chuyen-khoan/don-hang/<int:pk>/da-nhan/",
        views.mark_received,
        name="mark-received",
    ),
]
