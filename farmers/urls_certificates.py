"""Association staff verify the certificates of producers in their scope (under /can-bo/)."""

from django.urls import path

from . import certificate_views as views

urlpatterns = [
    path("chung-nhan/", views.staff_certificates, name="certificates"),
    path("chung-nhan/<int:pk>/duyet/", views.staff_verify, name="certificate-verify"),
    path("chung-nhan/<int:pk>/tu-choi/", views.staff_reject, name="certificate-reject"),
]
