"""Oscar's order dashboard views, with an order's lines limited to the partner user's own.

Oscar lets a partner user open any order that has at least one line of their partner,
then shows every line of it, other producers' included. Here a user who is neither
staff nor the operator sees, acts on and opens only the lines of the partners they
belong to. Every other view is Oscar's, re-exported from here unchanged (the app config
takes the two changed views from this module, see apps.py).
"""

from django.http import Http404
from oscar.apps.dashboard.orders.views import *  # noqa: F403
from oscar.apps.dashboard.orders.views import LineDetailView as OscarLineDetailView
from oscar.apps.dashboard.orders.views import OrderDetailView as OscarOrderDetailView
from oscar.apps.dashboard.orders.views import get_order_for_user_or_404


def lines_for_user(order, user):
    lines = order.lines.all()
    if user.is_staff or user.is_superuser:
        return lines
    return lines.filter(partner__users=user)


class OrderDetailView(OscarOrderDetailView):
    def get_order_lines(self):
        return lines_for_user(self.object, self.request.user)


class LineDetailView(OscarLineDetailView):
    def get_object(self, queryset=None):
        order = get_order_for_user_or_404(self.request.user, self.kwargs["number"])
        try:
            return lines_for_user(order, self.request.user).get(pk=self.kwargs["line_id"])
        except self.model.DoesNotExist as exc:
            raise Http404 from exc
