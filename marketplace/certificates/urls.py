"""Certificate pages (included at the site root, inside i18n_patterns)."""

from django.urls import path

from marketplace.certificates import views

app_name = "certificates"
urlpatterns = [
    # The farmer's own certificates.
    path("cua-hang/chung-nhan/", views.my_certificates, name="mine"),
    path("cua-hang/chung-nhan/them/", views.add_certificate, name="add"),
    path("cua-hang/chung-nhan/<int:pk>/", views.my_certificate, name="own-detail"),
    # Public certificate page and its scan.
    path("chung-nhan/<int:pk>/", views.certificate_detail, name="detail"),
    path("chung-nhan/<int:pk>/ban-quet/", views.certificate_scan, name="scan"),
    # Operator: verification queue and certificates about to expire.
    path("quan-tri/chung-nhan/", views.operator_queue, name="queue"),
    path("quan-tri/chung-nhan/sap-het-han/", views.operator_expiring, name="expiring"),
    path("quan-tri/chung-nhan/<int:pk>/duyet/", views.operator_verify, name="verify"),
    path("quan-tri/chung-nhan/<int:pk>/tu-choi/", views.operator_reject, name="reject"),
]
