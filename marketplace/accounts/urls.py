"""The sign-in page (included at the site root, inside i18n_patterns, before Oscar's
customer URLs so that it answers at Oscar's address, `customer:login`)."""

from django.urls import path

from marketplace.accounts import views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="sign-in"),
]
