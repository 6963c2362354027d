"""Member imports (under /can-bo/): upload, mapping, progress, report, template."""

from django.urls import path

from . import import_views as views

urlpatterns = [
    path("nhap-hoi-vien/", views.import_list, name="imports"),
    path("nhap-hoi-vien/moi/", views.import_new, name="import-new"),
    path("nhap-hoi-vien/mau.xlsx", views.import_template, name="import-template"),
    path("nhap-hoi-vien/<int:pk>/", views.import_detail, name="import-detail"),
    path("nhap-hoi-vien/<int:pk>/cot/", views.import_map, name="import-map"),
    path("nhap-hoi-vien/<int:pk>/chay-lai/", views.import_retry, name="import-retry"),
    path("nhap-hoi-vien/<int:pk>/tien-do.json", views.import_progress, name="import-progress"),
    path("nhap-hoi-vien/<int:pk>/bao-cao.csv", views.import_report, name="import-report"),
    path("nhap-hoi-vien/<int:pk>/tep/", views.import_file, name="import-file"),
]
