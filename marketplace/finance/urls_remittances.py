"""Operator pages for the COD remittance ledger (included at the site root, inside
i18n_patterns)."""

from django.urls import path

from marketplace.finance import remittance_views as views

app_name = "remittances"
urlpatterns = [
    path("quan-tri/doi-soat-cod/", views.ledger, name="ledger"),
    # The farmer's own remittances.
    path("cua-hang/tien-thu-ho/", views.my_remittances, name="mine"),
    path("quan-tri/doi-soat-cod/xuat-csv/", views.ledger_csv, name="export"),
    path("quan-tri/doi-soat-cod/nha-san-xuat/<int:pk>/", views.producer, name="producer"),
    path("quan-tri/doi-soat-cod/nha-san-xuat/<int:pk>/tao/", views.create, name="create"),
    path("quan-tri/doi-soat-cod/phieu/<int:pk>/da-tra/", views.mark_paid, name="mark-paid"),
]
