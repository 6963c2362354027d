"""URLs of the public transparency log, included by traceability/urls.py."""

from django.urls import path

from . import views_log

urlpatterns = [
    path("minh-bach/khoa/", views_log.keys, name="keys"),
    path("minh-bach/khoa.pem", views_log.keys_pem, name="keys-pem"),
    path("minh-bach/diem-kiem/", views_log.checkpoint, name="checkpoint"),
    path("minh-bach/diem-kiem/tat-ca/", views_log.checkpoints, name="checkpoints"),
    path("minh-bach/nhat-quan/<int:old>/", views_log.consistency, name="consistency"),
    path("minh-bach/lo/<str:short_code>.json", views_log.bundle, name="bundle"),
]
