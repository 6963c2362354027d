"""The producer settlement ledger: what the marketplace owes each producer, for every
payment method (cash on delivery, VietQR transfer, card), and paying it out in batches.

Rows (``SettlementEntry``) are appended, never changed, each with its source:

- a **sale**: one delivered parcel (``post_deliveries``): its goods (the producer's own
  lines, never the delivery charge or other farms' lines), less the marketplace's
  commission (``MarketplaceSettings.commission_percent``) and, for household businesses and
  individuals only (``ProducerProfile.Kind.HOUSEHOLD``), the tax withheld under Decree
  117/2025/NĐ-CP (``withholding_vat_percent``, ``withholding_pit_percent``). Cooperatives and
  enterprises declare their own tax: nothing is withheld from them. A parcel paid in
  advance is posted once delivered; one paid on delivery once its cash is recorded. A
  parcel already in a COD remittance (the older cash-only ledger) is not posted again.
  Parcels are posted as they are delivered (marketplace.fulfilment.services: ``deliver``
  for a parcel paid in advance, ``collect_cod`` once the cash is in); ``post_deliveries``
  without arguments posts any that were missed (the operator's button, every payout batch).
- a **refund of delivered goods** (``charge_refund``): a refund the operator made of a
  producer's delivered goods (``Refund.charges_producer``) reverses that part of the sale,
  its commission and tax too (``refund_figures``: the sale's rates applied to what is left
  sold, so refunding a sale in parts or at once comes to the same đồng).
- an **adjustment** (``record_adjustment``): a return's shipping fee (posted when the post
  office returns the parcel), a shipping correction; ``amount`` is what the producer is
  charged (negative: credited).
- a **payout** (``create_payout_batch``): the producer's whole positive balance, to its
  bank account, marked paid later with the bank's reference (``mark_payout_paid``).

Commission and each tax are computed on the parcel's goods and rounded to whole đồng half
up by ``marketplace.core.money.round_dong`` (the same figures appear in the statement and
the CSVs, read from the rows). Per producer, always:

    sales − commission − tax − adjustments − payouts = balance

``ProducerBalance`` holds the balance on one row that every write locks first, so a payout
batch racing another batch, or a late refund, is serialised: a payout is never more than
the balance and nothing is paid twice.
"""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.core.money import percent_of, round_dong
from marketplace.core.payees import bank_accounts
from marketplace.models import (
    MarketplaceSettings,
    Parcel,
    Payout,
    PayoutBatch,
    ProducerBalance,
    ProducerProfile,
    SettlementEntry,
)

Partner = get_model("partner", "Partner")
Kind = SettlementEntry.Kind
ZERO = Decimal(0)

ADJUSTMENT_KINDS = (Kind.REFUND, Kind.RETURN, Kind.SHIPPING, Kind.CORRECTION)


class SettlementError(Exception):
    """A ledger write that must not happen; the message is for the operator."""


# --- The rule for one sale ---------------------------------------------------------------


@dataclass(frozen=True)
class SaleFigures:
    sales: Decimal
    commission_percent: Decimal
    commission: Decimal
    vat_percent: Decimal
    vat: Decimal
    pit_percent: Decimal
    pit: Decimal

    @property
    def tax(self) -> Decimal:
        return self.vat + self.pit

    @property
    def net(self) -> Decimal:
        return self.sales - self.commission - self.vat - self.pit


def withholds_tax(kind: str) -> bool:
    """Decree 117/2025/NĐ-CP: tax is withheld from household businesses and individuals."""
    return kind == ProducerProfile.Kind.HOUSEHOLD


def sale_figures(*, sales, household: bool, settings_row) -> SaleFigures:
    """THE sale rule: commission on the goods for everyone, VAT and PIT on the goods for
    households only; each rounded by round_dong."""
    sales = round_dong(sales)
    commission_percent = settings_row.commission_percent
    vat_percent = settings_row.withholding_vat_percent if household else ZERO
    pit_percent = settings_row.withholding_pit_percent if household else ZERO
    return SaleFigures(
        sales=sales,
        commission_percent=commission_percent,
        commission=percent_of(sales, commission_percent),
        vat_percent=vat_percent,
        vat=percent_of(sales, vat_percent),
        pit_percent=pit_percent,
        pit=percent_of(sales, pit_percent),
    )


# --- Writing the ledger ------------------------------------------------------------------


def _partner_id(producer) -> int:
    """A Partner, a ProducerProfile or a partner id."""
    if isinstance(producer, int):
        return producer
    if isinstance(producer, ProducerProfile):
        return producer.partner_id
    return producer.pk


def _lock_balances(partner_ids) -> dict:
    """{partner id: ProducerBalance}, each row created if missing and locked (in key order,
    so two writers never wait on each other in a circle)."""
    partner_ids = sorted(set(partner_ids))
    ProducerBalance.objects.bulk_create(
        [ProducerBalance(partner_id=pk) for pk in partner_ids], ignore_conflicts=True
    )
    rows = ProducerBalance.objects.select_for_update().filter(partner_id__in=partner_ids)
    return {row.partner_id: row for row in rows.order_by("partner_id")}


def _post(balance: ProducerBalance, entry: SettlementEntry) -> SettlementEntry:
    entry.save()
    balance.balance += entry.amount
    balance.save(update_fields=["balance", "updated"])
    return entry


def settled_parcel_ids(parcel_ids) -> set:
    return set(
        SettlementEntry.objects.filter(parcel_id__in=list(parcel_ids)).values_list(
            "parcel_id", flat=True
        )
    )


def unposted_parcels():
    """Delivered parcels whose money the marketplace holds and that are in no settlement
    entry and no COD remittance: paid in advance (nothing to collect), or cash recorded."""
    return Parcel.objects.filter(
        Q(cod_amount__lte=0) | Q(cod_collected__isnull=False),
        status=Parcel.Status.DELIVERED,
        remittance__isnull=True,
    ).exclude(pk__in=SettlementEntry.objects.filter(parcel__isnull=False).values("parcel_id"))


def post_deliveries(*, by=None, partner_ids=None, parcel_ids=None) -> list[SettlementEntry]:
    """A sale entry for each delivered parcel not in the ledger yet (rows locked: two
    operators at once, or a COD remittance being made, never post a parcel twice), then
    the refunds of their goods already made (charge_refund)."""
    with transaction.atomic():
        candidates = unposted_parcels()
        if partner_ids is not None:
            candidates = candidates.filter(partner_id__in=list(partner_ids))
        if parcel_ids is not None:
            candidates = candidates.filter(pk__in=list(parcel_ids))
        parcels = list(
            Parcel.objects.select_for_update()
            .filter(pk__in=list(candidates.values_list("pk", flat=True)))
            .filter(status=Parcel.Status.DELIVERED, remittance__isnull=True)
            .order_by("pk")
        )
        # Read again after the lock: another transaction may have posted them meanwhile.
        done = settled_parcel_ids(p.pk for p in parcels)
        parcels = [p for p in parcels if p.pk not in done]
        if not parcels:
            return []
        settings_row = MarketplaceSettings.load()
        kinds = dict(
            ProducerProfile.objects.filter(
                partner_id__in={p.partner_id for p in parcels}
            ).values_list("partner_id", "kind")
        )
        balances = _lock_balances(p.partner_id for p in parcels)
        entries = []
        for parcel in parcels:
            figures = sale_figures(
                sales=parcel.goods_total,
                household=withholds_tax(kinds.get(parcel.partner_id, "")),
                settings_row=settings_row,
            )
            when = parcel.delivered_at or timezone.now()
            entries.append(
                _post(
                    balances[parcel.partner_id],
                    SettlementEntry(
                        partner_id=parcel.partner_id,
                        kind=Kind.SALE,
                        booked_on=timezone.localdate(when),
                        parcel=parcel,
                        sales=figures.sales,
                        commission_percent=figures.commission_percent,
                        commission=figures.commission,
                        vat_percent=figures.vat_percent,
                        vat=figures.vat,
                        pit_percent=figures.pit_percent,
                        pit=figures.pit,
                        amount=figures.net,
                        reference=str(parcel),
                        created_by=by,
                    ),
                )
            )
        for refund in uncharged_refunds().filter(parcel__in=parcels):
            charge_refund(refund=refund, by=by)
        return entries


# --- Refunds of delivered goods -------------------------------------------------------------


def refund_figures(*, sale, refunded_before, refund_amount) -> SaleFigures:
    """THE rule for a refund of delivered goods: what is reversed of the `sale` entry when
    `refund_amount` more is refunded after `refunded_before` (goods already reversed). At
    most the goods left; commission and each tax are the sale's rates applied to what stays
    sold, and the reversal is the difference, so parts add up to the whole exactly."""

    def figures(sold):
        return (
            percent_of(sold, sale.commission_percent),
            percent_of(sold, sale.vat_percent),
            percent_of(sold, sale.pit_percent),
        )

    left_before = max(sale.sales - refunded_before, ZERO)
    goods = min(round_dong(refund_amount), left_before)
    before, after = figures(left_before), figures(left_before - goods)
    return SaleFigures(
        sales=goods,
        commission_percent=sale.commission_percent,
        commission=before[0] - after[0],
        vat_percent=sale.vat_percent,
        vat=before[1] - after[1],
        pit_percent=sale.pit_percent,
        pit=before[2] - after[2],
    )


def uncharged_refunds():
    """Refunds of delivered goods that are made and not in the ledger yet."""
    from marketplace.models import Refund

    return Refund.objects.filter(
        charges_producer=True,
        status=Refund.Status.SUCCEEDED,
        parcel__isnull=False,
        settlement_entry__isnull=True,
    ).order_by("pk")


def charge_refund(*, refund, by=None) -> SettlementEntry | None:
    """Reverse in the producer's ledger the part of its sale that `refund` gave back (see
    refund_figures). Once per refund (the entry links it); nothing while the refund is not
    made, while the parcel's sale is not in the ledger (posting it charges the refund
    then), or when nothing of the goods is left to reverse. Locked by the balance row."""
    from marketplace.models import Refund

    if not refund.charges_producer or refund.parcel_id is None:
        return None
    with transaction.atomic():
        sale = (
            SettlementEntry.objects.filter(parcel_id=refund.parcel_id, kind=Kind.SALE)
            .select_related("parcel")
            .first()
        )
        if sale is None:
            return None
        balance = _lock_balances([sale.partner_id])[sale.partner_id]
        locked = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        if (
            locked.status != Refund.Status.SUCCEEDED
            or SettlementEntry.objects.filter(refund_id=locked.pk).exists()
        ):
            return None
        refunded_before = -(
            SettlementEntry.objects.filter(
                kind=Kind.REFUND, refund__parcel_id=refund.parcel_id
            ).aggregate(total=Sum("sales"))["total"]
            or ZERO
        )
        figures = refund_figures(
            sale=sale, refunded_before=refunded_before, refund_amount=locked.amount
        )
        if figures.sales <= 0:
            return None
        return _post(
            balance,
            SettlementEntry(
                partner_id=sale.partner_id,
                kind=Kind.REFUND,
                booked_on=timezone.localdate(locked.executed_at or None),
                refund=locked,
                sales=-figures.sales,
                commission_percent=figures.commission_percent,
                commission=-figures.commission,
                vat_percent=figures.vat_percent,
                vat=-figures.vat,
                pit_percent=figures.pit_percent,
                pit=-figures.pit,
                amount=-figures.net,
                reference=_("Refund of %(parcel)s") % {"parcel": sale.parcel},
                created_by=by,
            ),
        )


def record_adjustment(*, producer, amount, kind, reference, by, booked_on=None):
    """Charge the producer `amount` đồng (a refund of its goods, a return's shipping fee, a
    correction; negative: credit it). `kind` is one of ADJUSTMENT_KINDS. Posted under the
    producer's balance lock, so it is serialised with payouts."""
    if kind not in ADJUSTMENT_KINDS:
        raise SettlementError(_("Unknown kind of adjustment."))
    amount = Decimal(amount)
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise SettlementError(_("Amounts are in whole đồng."))
    if amount == 0:
        raise SettlementError(_("The amount cannot be zero."))
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise SettlementError(_("Give a reference (order, refund or transfer)."))
    max_length = SettlementEntry._meta.get_field("reference").max_length
    reference = reference[:max_length]
    partner_id = _partner_id(producer)
    with transaction.atomic():
        balance = _lock_balances([partner_id])[partner_id]
        return _post(
            balance,
            SettlementEntry(
                partner_id=partner_id,
                kind=kind,
                booked_on=booked_on or timezone.localdate(),
                adjustment=amount,
                amount=-amount,
                reference=reference,
                created_by=by,
            ),
        )


# --- Payouts -----------------------------------------------------------------------------


@dataclass
class Payable:
    partner: object
    balance: Decimal
    account: object  # marketplace.core.payees.BankAccount or None

    @property
    def pk(self):
        return self.partner.pk


def balances(partner_ids=None) -> dict:
    """{partner id: balance} from the balance rows (one query)."""
    rows = ProducerBalance.objects.all()
    if partner_ids is not None:
        rows = rows.filter(partner_id__in=list(partner_ids))
    return dict(rows.values_list("partner_id", "balance"))


def payable() -> list[Payable]:
    """Producers the marketplace owes something (positive balance), by name, with the bank
    account they are paid into (None: they cannot be paid yet). Three queries."""
    rows = list(
        ProducerBalance.objects.filter(balance__gt=0)
        .select_related("partner")
        .order_by("partner__name", "partner_id")
    )
    accounts = bank_accounts([row.partner_id for row in rows])
    return [Payable(row.partner, row.balance, accounts.get(row.partner_id)) for row in rows]


def create_payout_batch(*, partner_ids, by) -> PayoutBatch:
    """A payout of its whole balance to each chosen producer that has a positive balance and
    a bank account. The balances are locked, the payout taken from them at once: a second
    batch made meanwhile finds nothing left to pay, a late refund makes the balance
    negative (carried to the next payout), never a payout above what is owed."""
    partner_ids = sorted({int(pk) for pk in partner_ids})
    if not partner_ids:
        raise SettlementError(_("Choose at least one producer to pay."))
    post_deliveries(by=by, partner_ids=partner_ids)
    accounts = bank_accounts(partner_ids)
    with transaction.atomic():
        locked = _lock_balances(partner_ids)
        batch = None
        for partner_id in partner_ids:
            balance = locked[partner_id]
            account = accounts.get(partner_id)
            if balance.balance <= 0 or account is None:
                continue
            if batch is None:
                batch = PayoutBatch.objects.create(created_by=by)
            payout = Payout.objects.create(
                batch=batch,
                partner_id=partner_id,
                amount=balance.balance,
                bank_bin=account.bank_bin,
                bank_account=account.number,
                bank_holder=account.holder,
            )
            _post(
                balance,
                SettlementEntry(
                    partner_id=partner_id,
                    kind=Kind.PAYOUT,
                    booked_on=timezone.localdate(),
                    payout=payout,
                    paid_out=payout.amount,
                    amount=-payout.amount,
                    reference=_("Payout batch %(batch)s") % {"batch": batch.pk},
                    created_by=by,
                ),
            )
        if batch is None:
            raise SettlementError(
                _(
                    "Nothing to pay: none of these producers has a positive balance "
                    "and a bank account."
                )
            )
    return batch


def mark_payout_paid(*, payout, reference, by) -> Payout:
    """Record that the transfer was made: once, with the bank's reference (required)."""
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise SettlementError(_("Enter the bank's reference of the transfer."))
    max_length = Payout._meta.get_field("reference").max_length
    if len(reference) > max_length:
        raise SettlementError(
            _("The bank reference has at most %(max)s characters.") % {"max": max_length}
        )
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.paid_at is not None:
            raise SettlementError(
                _("This payout was already marked paid on %(date)s.")
                % {"date": date_format(timezone.localtime(locked.paid_at), "SHORT_DATETIME_FORMAT")}
            )
        locked.paid_at = timezone.now()
        locked.paid_by = by
        locked.reference = reference
        locked.save(update_fields=["paid_at", "paid_by", "reference"])
    return locked


# --- Reading the ledger: statements and the withholding report ---------------------------


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, 1), datetime.date(year, month, last)


TOTAL_FIELDS = ("sales", "commission", "vat", "pit", "adjustment", "paid_out", "amount")


@dataclass
class Totals:
    sales: Decimal = ZERO
    commission: Decimal = ZERO
    vat: Decimal = ZERO
    pit: Decimal = ZERO
    adjustment: Decimal = ZERO
    paid_out: Decimal = ZERO
    amount: Decimal = ZERO

    @property
    def tax(self) -> Decimal:
        return self.vat + self.pit


def _totals(entries) -> Totals:
    sums = entries.aggregate(**{name: Sum(name) for name in TOTAL_FIELDS})
    return Totals(**{name: sums[name] or ZERO for name in TOTAL_FIELDS})


@dataclass
class Statement:
    partner: object
    start: datetime.date
    end: datetime.date
    opening: Decimal
    entries: list = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.totals.amount


def statement(*, partner, start, end) -> Statement:
    """A producer's settlement statement for the days start..end: the balance brought
    forward, each entry, the totals and the balance carried forward (four queries)."""
    entries = SettlementEntry.objects.filter(partner=partner)
    opening = entries.filter(booked_on__lt=start).aggregate(total=Sum("amount"))["total"] or ZERO
    period = entries.filter(booked_on__gte=start, booked_on__lte=end)
    rows = list(period.select_related("parcel__order", "payout").order_by("booked_on", "pk"))
    return Statement(partner, start, end, opening, rows, _totals(period))


@dataclass
class WithholdingRow:
    partner_id: int
    name: str
    kind: str
    revenue: Decimal
    vat: Decimal
    pit: Decimal

    @property
    def tax(self) -> Decimal:
        return self.vat + self.pit


def withholding_report(*, year: int, month: int) -> list[WithholdingRow]:
    """Per seller from whom tax was withheld in the month: revenue (goods delivered, less
    goods refunded), VAT and PIT withheld (less what those refunds gave back), read from the
    sale entries and the refunds of delivered goods (one query)."""
    start, end = month_bounds(year, month)
    rows = (
        SettlementEntry.objects.filter(
            kind__in=(Kind.SALE, Kind.REFUND), booked_on__gte=start, booked_on__lte=end
        )
        .filter(Q(vat_percent__gt=0) | Q(pit_percent__gt=0))
        .values("partner_id", "partner__name", "partner__producer_profile__kind")
        .annotate(revenue=Sum("sales"), vat=Sum("vat"), pit=Sum("pit"))
        .order_by("partner__name", "partner_id")
    )
    return [
        WithholdingRow(
            row["partner_id"],
            row["partner__name"],
            row["partner__producer_profile__kind"] or "",
            row["revenue"],
            row["vat"],
            row["pit"],
        )
        for row in rows
    ]
