"""URLs of the epcis pages, included by traceability/urls.py (namespace traceability)."""

urlpatterns = []
