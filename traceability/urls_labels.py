"""URLs of the labels pages, included by traceability/urls.py (namespace traceability)."""

urlpatterns = []
