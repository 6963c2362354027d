"""Card payments after checkout: the buyer's card page and the operator's refund page
(included at the site root, inside i18n_patterns)."""

from django.urls import path

from marketplace.payments import checkout, refund_views

app_name = "payments"
urlpatterns = [
    path("thanh-toan/the/<str:number>/", checkout.card_payment, name="card"),
    path("quan-tri/don-hang/<str:number>/hoan-tien/", refund_views.refund_page, name="refund"),
    path(
        "quan-tri/don-hang/<str:number>/hoan-tien/<int:pk>/chuyen-khoan/",
        refund_views.transfer_back,
        name="refund-transfer",
    ),
    path(
        "quan-tri/don-hang/<str:number>/hoan-tien/<int:pk>/huy/",
        refund_views.cancel_transfer,
        name="refund-cancel",
    ),
]
