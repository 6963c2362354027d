"""Staff list products on behalf of farmers in their scope (under /can-bo/)."""

from django.urls import path

from . import listing_views as views

urlpatterns = [
    path("san-pham/", views.staff_products, name="listings"),
    path("san-pham/sua/<int:product_pk>/", views.staff_edit_product, name="listing-edit"),
    path("san-pham/<slug:producer_slug>/them/", views.staff_add_product, name="listing-add"),
]
