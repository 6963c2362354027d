"""Settlement pages (included at the site root, inside i18n_patterns)."""

from django.urls import path

from marketplace.finance import settlement_views as views

app_name = "settlements"
urlpatterns = [
    path("quan-tri/quyet-toan/", views.ledger, name="ledger"),
    path("quan-tri/quyet-toan/cap-nhat/", views.post_deliveries, name="post"),
    path("quan-tri/quyet-toan/chi-tra/", views.create_batch, name="create-batch"),
    path("quan-tri/quyet-toan/dot-chi-tra/<int:pk>/", views.batch, name="batch"),
    path("quan-tri/quyet-toan/dot-chi-tra/<int:pk>/csv/", views.batch_csv, name="batch-csv"),
    path("quan-tri/quyet-toan/chi-tra/<int:pk>/da-tra/", views.mark_paid, name="mark-paid"),
    path("quan-tri/quyet-toan/nha-san-xuat/<int:pk>/", views.statement, name="statement"),
    path("quan-tri/quyet-toan/khau-tru-thue/", views.withholding, name="withholding"),
    path("quan-tri/quyet-toan/khau-tru-thue/csv/", views.withholding_csv, name="withholding-csv"),
    # The farmer's own statement.
    path("cua-hang/quyet-toan/", views.my_statement, name="mine"),
]
