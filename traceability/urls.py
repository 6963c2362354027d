"""Included at the site root inside i18n_patterns (Vietnamese at "/", English at "/en/")."""

from django.urls import include, path, re_path

from . import (
    urls_epcis,
    urls_labels,
    urls_log,
    urls_recalls,
    views,
    views_outlook,
    views_safety,
    views_sale,
)

app_name = "traceability"
urlpatterns = [
    # Public: GS1 Digital Link (parsed by traceability.gs1, so a malformed link is a 400
    # with a message, not a 404) and the short link printed under the QR code.
    re_path(r"^01/(?P<rest>.*)$", views.digital_link, name="digital-link"),
    # What this resolver supports (GS1-Conformant Resolver: a well-known location).
    path(".well-known/gs1resolver", views.resolver_description, name="gs1resolver"),
    path("t/<str:short_code>/", views.short_link, name="short"),
    path("ngon-ngu/<str:language>/", views.choose_language, name="language"),
    # Farmers and staff.
    path("lo-hang/", views.my_lots, name="lots"),
    path("lo-hang/tao/", views.create_lot, name="lot-create"),
    path("lo-hang/<int:pk>/", views.lot_detail, name="lot"),
    path("lo-hang/<int:pk>/su-kien/", views.add_event, name="event-add"),
    # Lots on sale: a harvested lot becomes the product's stock (traceability.sale).
    path("lo-hang/dang-ban/", views_sale.lots_on_sale, name="lots-on-sale"),
    path("lo-hang/<int:pk>/ban/", views_sale.put_on_sale, name="lot-sell"),
    path("lo-hang/<int:pk>/ngung-ban/", views_sale.take_off_sale, name="lot-unsell"),
    # The harvest outlook for association staff and the operator (traceability.outlook).
    path("trien-vong-thu-hoach/", views_outlook.harvest_outlook, name="harvest-outlook"),
    path("trien-vong-thu-hoach.csv", views_outlook.harvest_outlook_csv, name="harvest-outlook-csv"),
    # A producer's GLN (its location in EPCIS exports): the farmer's own, or staff's members.
    path("lo-hang/ma-gln/", views.producer_glns, name="producer-glns"),
    path("lo-hang/ma-gln/<int:pk>/", views.producer_gln, name="producer-gln"),
    # The operator: lots harvested inside a pre-harvest interval, to clear or refuse.
    path("quan-tri/lo-can-xem-xet/", views_safety.queue, name="safety-queue"),
    path("quan-tri/lo-can-xem-xet/<int:pk>/", views_safety.review, name="safety-review"),
    path("quan-tri/hoat-chat-cam/", views_safety.banned_ingredients, name="banned-ingredients"),
    # Labels and QR codes; scans, recalls and order lines; EPCIS export.
    path("", include(urls_labels)),
    path("", include(urls_recalls)),
    path("", include(urls_epcis)),
    # The transparency log: keys, checkpoints, proofs (public JSON).
    path("", include(urls_log)),
    # A compressed GS1 Digital Link: one base64url segment at the root (last, so that it
    # only answers what nothing else does; one that is not a link falls back to "/…/").
    re_path(r"^(?P<compressed>[A-Za-z0-9_-]{10,})$", views.compressed_link, name="compressed"),
]
