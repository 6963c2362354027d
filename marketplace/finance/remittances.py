"""Cash on delivery paid out to producers: the ledger, remittances, and paying them.

Vietnam Post collects the cash of each delivered COD parcel (``Parcel.cod_collected``).
The marketplace keeps a commission (``MarketplaceSettings.commission_percent``, rounded
to whole đồng, half up) and owes the rest to the producer. A ``Remittance`` gathers a
producer's collected parcels that are in no remittance yet, with the percentage of the
day stored on it (a later change of the percentage changes no past remittance); it is
paid once, recorded with who and when.

The ledger per producer:

- collected: cash collected on its delivered parcels;
- commission: what its remittances keep, plus the current percentage of what is not in
  a remittance yet;
- owed: collected − commission;
- remitted: the amounts of its paid remittances;
- outstanding: owed − remitted (unpaid remittances and parcels not remitted yet).

It is one query whatever the number of producers (sub-queries aggregated in the
database), plus the settings row.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.core.money import percent_of
from marketplace.models import MarketplaceSettings, Parcel, Remittance, SettlementEntry

Partner = get_model("partner", "Partner")

ZERO = Decimal(0)
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=0)


class RemittanceError(Exception):
    """A remittance that must not be created or paid; the message is for the operator."""


def commission_on(collected, percent) -> Decimal:
    """`percent` of `collected`, in whole đồng rounded half up (5% of 390.010 → 19.501):
    marketplace.core.money.percent_of."""
    return percent_of(collected, percent)


def collected_parcels():
    """Delivered parcels whose cash has been collected (and that the settlement ledger,
    marketplace.finance.settlements, has not taken already)."""
    return Parcel.objects.filter(
        status=Parcel.Status.DELIVERED, cod_collected__isnull=False, cod_collected__gt=0
    ).exclude(pk__in=SettlementEntry.objects.filter(parcel__isnull=False).values("parcel_id"))


def _sum(queryset, column):
    """A correlated sub-query: the sum of `column` over `queryset` for the outer partner."""
    return Coalesce(
        Subquery(
            queryset.filter(partner=OuterRef("pk"))
            .order_by()
            .values("partner")
            .annotate(total=Sum(column))
            .values("total")[:1],
            output_field=MONEY_FIELD,
        ),
        Value(ZERO),
        output_field=MONEY_FIELD,
    )


@dataclass
class LedgerRow:
    partner: object
    collected: Decimal
    commission: Decimal
    owed: Decimal
    remitted: Decimal
    outstanding: Decimal
    in_unpaid: Decimal  # owed in remittances not paid yet
    pending_collected: Decimal  # collected, in no remittance yet
    pending_owed: Decimal

    @property
    def pk(self):
        return self.partner.pk

    @property
    def name(self):
        return self.partner.name


@dataclass
class Totals:
    collected: Decimal = ZERO
    commission: Decimal = ZERO
    owed: Decimal = ZERO
    remitted: Decimal = ZERO
    outstanding: Decimal = ZERO
    in_unpaid: Decimal = ZERO
    pending_collected: Decimal = ZERO
    pending_owed: Decimal = ZERO


def ledger_queryset(partner_ids=None):
    """Producers with cash collected or a remittance, with their sums (one query)."""
    remittances = Remittance.objects.all()
    queryset = Partner.objects.annotate(
        sum_collected=_sum(collected_parcels(), "cod_collected"),
        sum_pending=_sum(collected_parcels().filter(remittance__isnull=True), "cod_collected"),
        sum_remittance_commission=_sum(remittances, "commission"),
        sum_paid=_sum(remittances.filter(paid_at__isnull=False), "amount"),
        sum_unpaid=_sum(remittances.filter(paid_at__isnull=True), "amount"),
    )
    queryset = queryset.filter(
        Q(pk__in=collected_parcels().values("partner")) | Q(pk__in=remittances.values("partner"))
    )
    if partner_ids is not None:
        queryset = queryset.filter(pk__in=partner_ids)
    return queryset.order_by("name", "pk")


def ledger(partner_ids=None, percent=None) -> tuple[list[LedgerRow], Totals]:
    """The ledger rows (by producer name) and their totals."""
    if percent is None:
        percent = MarketplaceSettings.load().commission_percent
    rows, totals = [], Totals()
    for partner in ledger_queryset(partner_ids):
        pending_commission = commission_on(partner.sum_pending, percent)
        commission = partner.sum_remittance_commission + pending_commission
        owed = partner.sum_collected - commission
        row = LedgerRow(
            partner=partner,
            collected=partner.sum_collected,
            commission=commission,
            owed=owed,
            remitted=partner.sum_paid,
            outstanding=owed - partner.sum_paid,
            in_unpaid=partner.sum_unpaid,
            pending_collected=partner.sum_pending,
            pending_owed=partner.sum_pending - pending_commission,
        )
        rows.append(row)
        for name in vars(totals):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    return rows, totals


def create_remittance(partner, user) -> Remittance:
    """A remittance of the producer's collected parcels in no remittance yet (locked, so
    two operators at once cannot put a parcel in two remittances)."""
    with transaction.atomic():
        parcels = list(
            collected_parcels()
            .select_for_update()
            .filter(partner=partner, remittance__isnull=True)
            .order_by("pk")
        )
        # Read again after the lock: the settlement ledger may have taken some meanwhile.
        settled = set(
            SettlementEntry.objects.filter(parcel__in=[p.pk for p in parcels]).values_list(
                "parcel_id", flat=True
            )
        )
        parcels = [parcel for parcel in parcels if parcel.pk not in settled]
        if not parcels:
            raise RemittanceError(
                _("Nothing to remit to %(producer)s: no collected cash outside a remittance.")
                % {"producer": partner.name}
            )
        percent = MarketplaceSettings.load().commission_percent
        collected = sum((parcel.cod_collected for parcel in parcels), ZERO)
        commission = commission_on(collected, percent)
        remittance = Remittance.objects.create(
            partner=partner,
            collected=collected,
            commission_percent=percent,
            commission=commission,
            amount=collected - commission,
            created_by=user,
        )
        linked = Parcel.objects.filter(
            pk__in=[parcel.pk for parcel in parcels], remittance__isnull=True
        ).update(remittance=remittance)
        if linked != len(parcels):  # pragma: no cover - the rows are locked above
            raise RemittanceError(_("The parcels changed meanwhile; try again."))
    return remittance


def mark_paid(remittance, user, reference="") -> Remittance:
    """Record that the remittance was paid to the producer: once, with who and when."""
    reference = " ".join((reference or "").split())
    max_length = Remittance._meta.get_field("reference").max_length
    if len(reference) > max_length:
        raise RemittanceError(
            _("The transfer reference has at most %(max)s characters.") % {"max": max_length}
        )
    with transaction.atomic():
        locked = Remittance.objects.select_for_update().get(pk=remittance.pk)
        if locked.paid_at is not None:
            raise RemittanceError(
                _("This remittance was already marked paid on %(date)s.")
                % {"date": date_format(timezone.localtime(locked.paid_at), "SHORT_DATETIME_FORMAT")}
            )
        locked.paid_at = timezone.now()
        locked.paid_by = user
        locked.reference = reference
        locked.save(update_fields=["paid_at", "paid_by", "reference"])
    remittance.paid_at, remittance.paid_by, remittance.reference = (
        locked.paid_at,
        locked.paid_by,
        locked.reference,
    )
    return locked
