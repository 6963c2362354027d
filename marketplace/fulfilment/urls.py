"""Fulfilment pages (included at the site root, inside i18n_patterns): producers pack
their parcels, post-office staff ship and deliver them and record the cash collected."""

from django.urls import path

from marketplace.fulfilment import cancel_views, views

app_name = "fulfilment"
urlpatterns = [
    # Producers: their own parcels.
    path("cua-hang/don-hang/", views.producer_parcels, name="producer-parcels"),
    path("cua-hang/don-hang/<int:pk>/", views.producer_parcel, name="producer-parcel"),
    path("cua-hang/don-hang/<int:pk>/dong-goi/", views.producer_pack, name="producer-pack"),
    path("cua-hang/don-hang/<int:pk>/phieu-dong-goi/", views.packing_slip, name="packing-slip"),
    path(
        "cua-hang/don-hang/<int:pk>/huy-dong/<int:line_id>/",
        cancel_views.producer_cancel_line,
        name="producer-cancel-line",
    ),
    # Buyers cancel an order or a parcel (signed in, or a guest through the signed link).
    path("don-hang/<str:number>/huy/", cancel_views.buyer_cancel, name="buyer-cancel"),
    path("don-hang/<str:number>/<str:hash>/huy/", cancel_views.guest_cancel, name="guest-cancel"),
    path(
        "quan-tri/don-hang/<str:number>/huy/", cancel_views.operator_cancel, name="operator-cancel"
    ),
    # Post office: its home, and the parcels of producers in its province (the operator: all).
    path("buu-dien/", views.post_home, name="post-home"),
    path("buu-dien/buu-gui/", views.post_parcels, name="post-parcels"),
    path("buu-dien/buu-gui/<int:pk>/", views.post_parcel, name="post-parcel"),
    path("buu-dien/buu-gui/<int:pk>/ma-van-don/", views.post_set_tracking, name="post-tracking"),
    path("buu-dien/buu-gui/<int:pk>/da-nhan/", views.post_pick_up, name="post-pick-up"),
    path("buu-dien/buu-gui/<int:pk>/da-giao/", views.post_deliver, name="post-deliver"),
    path("buu-dien/buu-gui/<int:pk>/thu-cod/", views.post_collect_cod, name="post-cod"),
    path("buu-dien/buu-gui/<int:pk>/giao-that-bai/", cancel_views.post_fail, name="post-fail"),
    path("buu-dien/buu-gui/<int:pk>/chuyen-hoan/", cancel_views.post_return, name="post-return"),
]
