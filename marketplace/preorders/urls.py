from django.urls import path

from marketplace.preorders import views

app_name = "preorders"
urlpatterns = [
    # The producer's pre-order windows (seller channel).
    path("cua-hang/dat-truoc/", views.producer_windows, name="producer-windows"),
    path("cua-hang/dat-truoc/mo/", views.open_window, name="open"),
    path("cua-hang/dat-truoc/<int:pk>/", views.producer_window, name="producer-window"),
    path("cua-hang/dat-truoc/<int:pk>/dong/", views.close_window, name="close"),
    path("cua-hang/dat-truoc/<int:pk>/chuyen-don/", views.convert_window, name="convert"),
    # Buyers.
    path("dat-truoc/cua-toi/", views.my_preorders, name="mine"),
    path("dat-truoc/cua-toi/<int:pk>/huy/", views.cancel, name="cancel"),
    path("dat-truoc/<int:pk>/", views.window_page, name="window"),
]
