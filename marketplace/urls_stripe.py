"""(slot: filled by its feature)"""

app_name = "stripe"
urlpatterns = []
