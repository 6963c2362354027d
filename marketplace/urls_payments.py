"""(slot: filled by its feature)"""

app_name = "payments"
urlpatterns = []
