"""Onboarding reports (under /can-bo/): the page and one CSV per table."""

from django.urls import path

from . import report_views as views

urlpatterns = [
    path("bao-cao/", views.report_page, name="reports"),
    path("bao-cao/<slug:kind>.csv", views.report_csv, name="report-csv"),
]
