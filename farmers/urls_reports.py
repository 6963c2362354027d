"""(slot: filled by its feature)"""

urlpatterns = []
