"""The farmer's own products and the operator's listing approval (included at the site
root, inside i18n_patterns)."""

from django.urls import path

from marketplace.shops import views
from marketplace.site_settings import views as settings_views

app_name = "shop"
urlpatterns = [
    # The seller's channel: the farmer's home.
    path("cua-hang/", views.seller_home, name="home"),
    # The farmer's own products.
    path("cua-hang/san-pham/", views.my_products, name="products"),
    path("cua-hang/san-pham/them/", views.add_product, name="product-add"),
    path("cua-hang/san-pham/<int:pk>/sua/", views.edit_product, name="product-edit"),
    # Operator: listings waiting for approval, and the approval switch.
    path("quan-tri/san-pham-cho-duyet/", views.listing_queue, name="listing-queue"),
    path("quan-tri/san-pham-cho-duyet/cai-dat/", views.approval_setting, name="listing-settings"),
    path("quan-tri/san-pham-cho-duyet/<int:pk>/duyet/", views.approve, name="listing-approve"),
    path("quan-tri/san-pham-cho-duyet/<int:pk>/tu-choi/", views.reject, name="listing-reject"),
    # Operator: payment and delivery settings.
    path("quan-tri/cai-dat-thanh-toan/", settings_views.payment_settings, name="payment-settings"),
]
