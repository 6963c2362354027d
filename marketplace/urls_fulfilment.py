"""(slot: filled by its feature)"""

app_name = "fulfilment"
urlpatterns = []
