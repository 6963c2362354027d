"""The operator's home (included at the site root, inside i18n_patterns)."""

from django.urls import path

from marketplace.site_settings import views

app_name = "operator"
urlpatterns = [
    path("quan-tri/", views.operator_home, name="home"),
]
