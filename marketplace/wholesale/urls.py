"""Wholesale pages (included at the site root, inside i18n_patterns)."""

from django.urls import path

from marketplace.wholesale import views

app_name = "wholesale"
urlpatterns = [
    path("tai-khoan/doanh-nghiep/", views.business_account, name="business"),
    path("cua-hang/san-pham/<int:pk>/gia-si/", views.price_breaks, name="price-breaks"),
    path(
        "cua-hang/san-pham/<int:pk>/gia-si/<int:break_id>/xoa/",
        views.remove_price_break,
        name="price-break-remove",
    ),
    path("quan-tri/khach-doanh-nghiep/", views.business_queue, name="queue"),
    path("quan-tri/khach-doanh-nghiep/<int:pk>/duyet/", views.approve_business, name="approve"),
    path("quan-tri/khach-doanh-nghiep/<int:pk>/tu-choi/", views.reject_business, name="reject"),
]
