"""Reads for the fulfilment pages, each with a query budget in the tests."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from marketplace.finance.handovers import TO_HAND_OVER
from marketplace.fulfilment import services
from marketplace.models import Parcel, ProducerProfile

COD_TO_HAND_OVER = TO_HAND_OVER  # the one rule: marketplace.finance.handovers


@dataclass(frozen=True)
class PostOfficeTodo:
    to_pick_up: int
    in_delivery: int
    cod_to_hand_over: int
    cod_amount: Decimal
    producers: int


def post_office_todo(user, scope) -> PostOfficeTodo:
    """A post office's work now, in its scope (the operator: everywhere): parcels packed and
    waiting for pickup, parcels out for delivery, cash collected on delivery not yet handed
    over (count and amount), and the producers it may see. Two queries."""
    totals = (
        services.post_office_parcels(user, scope=scope)
        .order_by()
        .aggregate(
            to_pick_up=Count("pk", filter=Q(status=Parcel.Status.PACKED)),
            in_delivery=Count("pk", filter=Q(status=Parcel.Status.PICKED_UP)),
            cod_to_hand_over=Count("pk", filter=COD_TO_HAND_OVER),
            cod_amount=Sum("cod_collected", filter=COD_TO_HAND_OVER),
        )
    )
    return PostOfficeTodo(
        to_pick_up=totals["to_pick_up"],
        in_delivery=totals["in_delivery"],
        cod_to_hand_over=totals["cod_to_hand_over"],
        cod_amount=totals["cod_amount"] or Decimal(0),
        producers=scope.producers(ProducerProfile.objects.all()).count(),
    )
