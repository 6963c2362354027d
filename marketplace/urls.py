from django.urls import path

from marketplace import views

app_name = "marketplace"
urlpatterns = [
    path("tinh/<slug:slug>/", views.ProvinceView.as_view(), name="province"),
    path("nha-san-xuat/<slug:slug>/", views.ProducerView.as_view(), name="producer"),
]
