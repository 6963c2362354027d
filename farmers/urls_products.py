"""Products in bulk for a producer (the farmer's own shop, or staff for a farmer in their
scope): spreadsheet imports and the price-and-stock page (farmers.product_views)."""

from django.urls import path

from . import product_views as views

app_name = "bulk"
urlpatterns = [
    path("san-pham-hang-loat/<slug:producer_slug>/", views.bulk_edit, name="edit"),
    path("san-pham-hang-loat/<slug:producer_slug>/nhap/", views.imports, name="imports"),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/mau.xlsx",
        views.import_template,
        name="import-template",
    ),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/<int:pk>/",
        views.import_detail,
        name="import-detail",
    ),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/<int:pk>/cot/",
        views.import_map,
        name="import-map",
    ),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/<int:pk>/tien-do.json",
        views.import_progress,
        name="import-progress",
    ),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/<int:pk>/bao-cao.csv",
        views.import_report,
        name="import-report",
    ),
    path(
        "san-pham-hang-loat/<slug:producer_slug>/nhap/<int:pk>/chay-lai/",
        views.import_retry,
        name="import-retry",
    ),
]
