"""Oscar's dashboard index with a farmer's revenue from the farmer's own lines (Oscar sums
whole orders: other farms' lines and the delivery charge). Replaces Oscar's IndexView
through marketplace.core.loading; staff and the operator see Oscar's figures."""

from datetime import timedelta
from decimal import ROUND_UP
from decimal import Decimal as D

from django.utils.timezone import now
from oscar.apps.dashboard.views import IndexView as OscarIndexView

from marketplace.finance import revenue


def _partner_ids(user):
    return list(user.partners.values_list("id", flat=True))


class IndexView(OscarIndexView):
    def get_stats(self):
        stats = super().get_stats()
        user = self.request.user
        if not user.is_staff:
            stats.update(revenue.dashboard_figures(_partner_ids(user)))
        return stats

    def get_hourly_report(self, orders, hours=24, segments=10):
        user = self.request.user
        if user.is_staff:
            return super().get_hourly_report(orders, hours=hours, segments=segments)
        start = now().replace(minute=0, second=0) - timedelta(hours=hours - 1)
        hourly = revenue.hourly_totals(_partner_ids(user), start, hours=hours)
        max_value = max([item["total_incl_tax"] for item in hourly] or [D(0)])
        divisor = 1
        while divisor < max_value / 50:
            divisor *= 10
        max_value = (max_value / divisor).quantize(D("1"), rounding=ROUND_UP) * divisor
        y_range = []
        if max_value:
            segment_size = max_value / D("100.0")
            for item in hourly:
                item["percentage"] = int(item["total_incl_tax"] / segment_size)
            steps = max_value / D(str(segments))
            y_range = [idx * steps for idx in reversed(range(segments + 1))]
        else:
            for item in hourly:
                item["percentage"] = 0
        return {"order_total_hourly": hourly, "max_revenue": max_value, "y_range": y_range}
