"""Cash on delivery from the post office to the marketplace.

The postman collects a COD parcel's cash (marketplace.fulfilment.services.collect_cod);
the sale then enters the producer's settlement ledger (marketplace.finance.settlements),
and the marketplace pays the producer in its payout batches. Between the two, the post
office hands the cash it collected over to the marketplace:

- ``create_handover``: post-office staff hand over, at once, every collected parcel of
  their province that is in no handover yet (rows locked: two counters at once never put
  a parcel in two handovers); the handover's amount is the sum of their cash;
- ``confirm_receipt``: the operator records that the money arrived, once, with the bank
  (or receipt) reference.

So COD is traced from the buyer (the parcel's ``cod_collected``) to the post office (its
handover) to the marketplace (the receipt) to the producer (the settlement ledger and its
payout). verify_ledger checks that each handover's amount is the cash of its parcels.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from marketplace.core.scope import scope_of
from marketplace.fulfilment.services import post_office_parcels
from marketplace.models import CodHandover, Parcel

ZERO = Decimal(0)


class HandoverError(Exception):
    """A handover that must not be made or confirmed; the message is for people."""


# The cash a post office holds: delivered parcels whose cash was collected and is in no
# handover yet (nor remitted to its producer under the earlier COD ledger). Also the post
# office's home counts it (marketplace.fulfilment.selectors).
TO_HAND_OVER = Q(
    status=Parcel.Status.DELIVERED,
    cod_collected__isnull=False,
    cod_collected__gt=0,
    cod_handover__isnull=True,
    remittance__isnull=True,
)


def cash_to_hand_over(user, *, scope=None):
    """The parcels whose cash the user's post office holds (the operator: every post
    office's), in the parcels it handles (fulfilment.services.post_office_parcels)."""
    parcels = post_office_parcels(user, scope=scope).filter(TO_HAND_OVER)
    return parcels.order_by("cod_collected_at", "pk")


def handovers_of(user, *, scope=None):
    """The handovers the user may see (a post office: its province's; the operator: all),
    newest first, with their parcel counts."""
    scope = scope or scope_of(user)
    rows = CodHandover.objects.annotate(parcel_count=Count("parcels"))
    if not (scope.everything or scope.is_post_office):
        return rows.none()
    return (
        scope.filter(rows, province_field="province_code")
        .select_related("created_by", "received_by")
        .order_by("-created", "-pk")
    )


def create_handover(*, by) -> CodHandover:
    """Hand over all the cash collected in the post office's province not handed over
    yet. Only post-office staff hand over cash (the operator confirms it)."""
    scope = scope_of(by)
    if not scope.is_post_office:
        raise PermissionDenied(_("Only post-office staff hand over cash on delivery."))
    with transaction.atomic():
        ids = list(cash_to_hand_over(by, scope=scope).values_list("pk", flat=True))
        parcels = list(
            Parcel.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, cod_handover__isnull=True)
            .order_by("pk")
        )
        if not parcels:
            raise HandoverError(_("There is no collected cash to hand over."))
        office = scope.organisation
        handover = CodHandover.objects.create(
            province_code=scope.province_code,
            office_name=getattr(office, "name", "")[:200],
            amount=sum((parcel.cod_collected for parcel in parcels), ZERO),
            created_by=by,
        )
        Parcel.objects.filter(pk__in=[parcel.pk for parcel in parcels]).update(
            cod_handover=handover
        )
    return handover


def receipt_refusal(handover) -> str | None:
    if handover.received_at is not None:
        return _("This cash was already recorded as received on %(date)s.") % {
            "date": date_format(timezone.localtime(handover.received_at), "SHORT_DATETIME_FORMAT")
        }
    return None


def confirm_receipt(*, handover, by, reference) -> CodHandover:
    """The operator has the money: recorded once, with who, when and the reference."""
    if not (by and by.is_authenticated and by.is_superuser):
        raise PermissionDenied(_("Only the marketplace operator confirms cash received."))
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise HandoverError(_("Enter the bank or receipt reference of the money received."))
    max_length = CodHandover._meta.get_field("reference").max_length
    if len(reference) > max_length:
        raise HandoverError(
            _("The reference has at most %(max)s characters.") % {"max": max_length}
        )
    with transaction.atomic():
        locked = CodHandover.objects.select_for_update().get(pk=handover.pk)
        if refusal := receipt_refusal(locked):
            raise HandoverError(refusal)
        locked.received_at = timezone.now()
        locked.received_by = by
        locked.reference = reference
        locked.save(update_fields=["received_at", "received_by", "reference"])
    return locked


def totals(queryset) -> dict:
    """{"count": parcels, "amount": their cash} of a parcel queryset (one query)."""
    sums = queryset.order_by().aggregate(count=Count("pk"), amount=Sum("cod_collected"))
    return {"count": sums["count"], "amount": sums["amount"] or ZERO}


def check_handovers() -> list[str]:
    """verify_ledger: each handover's amount is the cash collected on its parcels, every
    one of them delivered with its cash collected; a received handover has its reference."""
    problems = []
    sums = {
        row["cod_handover_id"]: row
        for row in Parcel.objects.filter(cod_handover__isnull=False)
        .order_by()
        .values("cod_handover_id")
        .annotate(total=Sum("cod_collected"), n=Count("pk"))
    }
    for handover in CodHandover.objects.order_by("pk"):
        row = sums.get(handover.pk) or {"total": None, "n": 0}
        if (row["total"] or ZERO) != handover.amount:
            problems.append(
                f"cash handover {handover.pk}: {handover.amount} handed over, its "
                f"{row['n']} parcels collected {row['total'] or ZERO}"
            )
        if handover.received_at is not None and not handover.reference.strip():
            problems.append(f"cash handover {handover.pk}: received without a reference")
    wrong = Parcel.objects.filter(cod_handover__isnull=False).exclude(
        status=Parcel.Status.DELIVERED, cod_collected__isnull=False
    )
    for parcel_id, handover_id in wrong.order_by("pk").values_list("pk", "cod_handover_id"):
        problems.append(
            f"parcel {parcel_id}: in cash handover {handover_id} without cash collected"
        )
    return problems
