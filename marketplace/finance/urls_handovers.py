"""Cash on delivery handed over by the post office to the marketplace (included at the site
root, inside i18n_patterns)."""

from django.urls import path

from marketplace.finance import handover_views as views

app_name = "handovers"
urlpatterns = [
    path("buu-dien/nop-tien/", views.post_office, name="post-office"),
    path("buu-dien/nop-tien/lap-phieu/", views.create, name="create"),
    path("buu-dien/nop-tien/phieu/<int:pk>/", views.slip, name="slip"),
    path("quan-tri/tien-buu-dien-nop/", views.to_confirm, name="operator"),
    path("quan-tri/tien-buu-dien-nop/<int:pk>/da-nhan/", views.confirm, name="confirm"),
]
