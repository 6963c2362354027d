"""Reads of the pre-order pages, each a fixed number of queries."""

from django.db.models import Case, IntegerField, Q, Sum, When
from django.utils import timezone

from marketplace.models import Preorder, PreorderWindow

# What is pre-ordered of a window: open pre-orders' quantities, and what converted ones
# received (the one expression; services.taken reads it for one window).
TAKEN = Sum(
    Case(
        When(preorders__status=Preorder.Status.PLACED, then="preorders__quantity"),
        When(preorders__status=Preorder.Status.CONVERTED, then="preorders__converted"),
        default=0,
        output_field=IntegerField(),
    )
)


def _open():
    return (
        PreorderWindow.objects.filter(
            status=PreorderWindow.Status.OPEN, harvest_to__gte=timezone.localdate()
        )
        .select_related("product", "partner", "partner__producer_profile")
        .annotate(taken_total=TAKEN)
        .order_by("harvest_from", "pk")
    )


def open_windows(*, product_id=None, province_code=None, limit=12) -> list:
    """Windows buyers may pre-order from ("Sắp thu hoạch"): of a product, or of the
    producers of a province. One query."""
    windows = _open()
    if product_id is not None:
        windows = windows.filter(product_id=product_id)
    if province_code is not None:
        windows = windows.filter(partner__producer_profile__province_code=province_code)
    return list(windows[:limit])


def windows_of(partner_ids):
    return (
        PreorderWindow.objects.filter(partner_id__in=list(partner_ids))
        .select_related("product", "partner")
        .annotate(taken_total=TAKEN)
        .order_by("-opened_at", "-pk")
    )


def preorders_of(user):
    return (
        Preorder.objects.filter(user=user)
        .select_related("window__product", "window__partner", "order", "deposit_order")
        .prefetch_related("deposit_order__sources__source_type")
        .order_by("-placed_at", "-pk")
    )


def window_preorders(window):
    return (
        Preorder.objects.filter(window=window)
        .select_related("user", "order", "deposit_order")
        .prefetch_related("deposit_order__sources")
        .order_by("placed_at", "pk")
    )


def public_window(pk):
    """A window buyers may look at (open or closed, not a draft of nothing)."""
    return (
        PreorderWindow.objects.filter(pk=pk)
        .filter(~Q(status=""))
        .select_related("product", "partner", "partner__producer_profile")
        .annotate(taken_total=TAKEN)
        .first()
    )


def open_preorders_between(partner_ids, start, end) -> list[dict]:
    """What buyers have pre-ordered and not yet received, per window of the producers
    `partner_ids` (a list or a subquery) whose expected harvest reaches [start, end):
    product, partner, harvest_from, quantity (open pre-orders of windows not converted).
    One query."""
    return list(
        PreorderWindow.objects.filter(
            partner_id__in=partner_ids,
            status__in=(PreorderWindow.Status.OPEN, PreorderWindow.Status.CLOSED),
            harvest_to__gte=start,
            harvest_from__lt=end,
            preorders__status=Preorder.Status.PLACED,
        )
        .values("pk", "product_id", "partner_id", "harvest_from")
        .annotate(quantity=Sum("preorders__quantity"))
        .order_by("harvest_from", "pk")
    )
