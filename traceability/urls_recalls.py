"""URLs of the recalls pages, included by traceability/urls.py (namespace traceability)."""

urlpatterns = []
