"""A farmer's revenue: the farmer's own order lines only, never other farms' lines of the
same order nor the delivery charge (which the marketplace passes to Vietnam Post). Lines
of a cancelled parcel are not revenue. Read by the farmer's dashboard (revenue_views)."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Avg, Exists, OuterRef, Sum
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.models import Parcel

Line = get_model("order", "Line")
ZERO = Decimal(0)


def own_lines(partner_ids):
    """Order lines of these producers, without those of a cancelled parcel."""
    cancelled = Parcel.objects.filter(
        order_id=OuterRef("order_id"),
        partner_id=OuterRef("partner_id"),
        status=Parcel.Status.CANCELLED,
    )
    return Line.objects.filter(partner_id__in=list(partner_ids)).exclude(Exists(cancelled))


def _sum(lines) -> Decimal:
    return lines.aggregate(total=Sum("line_price_incl_tax"))["total"] or ZERO


def revenue(partner_ids, *, since=None) -> Decimal:
    lines = own_lines(partner_ids)
    if since is not None:
        lines = lines.filter(order__date_placed__gt=since)
    return _sum(lines)


def delivered_revenue(partner_ids) -> Decimal:
    """Own lines of delivered parcels: what the settlement ledger counts as sales."""
    delivered = Parcel.objects.filter(
        order_id=OuterRef("order_id"),
        partner_id=OuterRef("partner_id"),
        status=Parcel.Status.DELIVERED,
    )
    return _sum(own_lines(partner_ids).filter(Exists(delivered)))


def dashboard_figures(partner_ids) -> dict:
    """The revenue figures of Oscar's dashboard index, from the producers' own lines."""
    day_ago = timezone.now() - timedelta(hours=24)
    last_day = own_lines(partner_ids).filter(order__date_placed__gt=day_ago)
    per_order = (
        last_day.order_by()
        .values("order_id")
        .annotate(total=Sum("line_price_incl_tax"))
        .aggregate(average=Avg("total"))["average"]
    )
    return {
        "total_revenue": revenue(partner_ids),
        "total_revenue_last_day": _sum(last_day),
        "average_order_costs": per_order or ZERO,
        "delivered_revenue": delivered_revenue(partner_ids),
    }


def hourly_totals(partner_ids, start, hours=24, step=2) -> list[dict]:
    """Own-line revenue per `step` hours from `start` (Oscar's hourly report shape)."""
    totals = []
    lines = own_lines(partner_ids)
    for _ in range(0, hours, step):
        end = start + timedelta(hours=step)
        window = lines.filter(order__date_placed__gte=start, order__date_placed__lt=end)
        totals.append({"end_time": end, "total_incl_tax": _sum(window)})
        start = end
    return totals
