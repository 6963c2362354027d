"""URLs of the epcis pages, included by traceability/urls.py (namespace traceability)."""

from django.urls import path

from . import views_epcis

urlpatterns = [
    path("lo-hang/<int:pk>/epcis/", views_epcis.lot_epcis, name="lot-epcis"),
    path(
        "lo-hang/nha-san-xuat/<int:pk>/epcis/",
        views_epcis.producer_epcis,
        name="producer-epcis",
    ),
    path(
        "dia-diem/nha-san-xuat/<int:pk>/",
        views_epcis.producer_location,
        name="producer-location",
    ),
    path("dia-diem/xa/<int:code>/", views_epcis.commune_location, name="commune-location"),
    path("epcis/voc/", views_epcis.vocabulary, name="epcis-vocabulary"),
    path("epcis/voc/<str:term>", views_epcis.vocabulary_term, name="epcis-term"),
]
