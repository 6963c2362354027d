"""The sign-in page and the guest's order-status form (included at the site root, inside
i18n_patterns, before Oscar's customer URLs so that the sign-in answers at Oscar's address,
`customer:login`)."""

from django.urls import path

from marketplace.accounts import guest_order_views, views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="sign-in"),
    path(
        "accounts/orders/<str:order_number>/<int:line_id>/",
        views.OrderLineView.as_view(),
        name="order-line",
    ),
    path(
        "don-hang/tra-cuu/",
        guest_order_views.GuestOrderLookupView.as_view(),
        name="guest-order-lookup",
    ),
]
