"""(slot: filled by its feature)"""

app_name = "remittances"
urlpatterns = []
