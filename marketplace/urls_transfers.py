"""(slot: filled by its feature)"""

app_name = "transfers"
urlpatterns = []
