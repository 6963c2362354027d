from django.urls import include, path

from . import views

app_name = "farmers"
urlpatterns = [
    path("", views.staff_home, name="staff-home"),
    path("", include("farmers.urls_certificates")),
    path("", include("farmers.urls_listings")),
    path("", include("farmers.urls_members")),
    path("", include("farmers.urls_imports")),
    path("", include("farmers.urls_reports")),
]
