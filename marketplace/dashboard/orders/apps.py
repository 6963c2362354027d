import oscar.apps.dashboard.orders.apps as apps


class OrdersDashboardConfig(apps.OrdersDashboardConfig):
    """Oscar's orders dashboard, with a partner user shown only its own order lines.

    Oscar's get_class resolves "dashboard.orders.views" through the app labelled
    "dashboard" (still Oscar's own), so it would never look in this fork: ready() takes
    the two changed views from marketplace.dashboard.orders.views explicitly.
    """

    name = "marketplace.dashboard.orders"

    def ready(self):
        super().ready()
        from marketplace.dashboard.orders.views import LineDetailView, OrderDetailView

        self.order_detail_view = OrderDetailView
        self.line_detail_view = LineDetailView
