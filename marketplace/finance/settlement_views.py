"""Settlement pages: the operator's ledger of what each producer is owed (every payment
method), payout batches (the payout file, a VietQR per payout, marking each paid), the
monthly withholding report (CSV), and a printable statement per producer and month for the
operator and for the farmer. Thin: rules live in marketplace.finance.settlements.

Anonymous visitors are sent to sign in; anyone but the operator gets 403 on the operator
pages; a farmer sees only their own statement.
"""

from django.contrib import messages
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.core.access import operator_required, producer_required
from marketplace.core.banks import short_name
from marketplace.core.csv_export import csv_response, safe_cell
from marketplace.core.money import format_dong
from marketplace.finance import settlements as services
from marketplace.finance.settlement_forms import (
    MarkPayoutPaidForm,
    PayoutBatchForm,
    month_of,
    month_text,
    next_month,
    previous_month,
)
from marketplace.models import MarketplaceSettings, Payout, PayoutBatch, ProducerBalance
from marketplace.payments import vietqr

Partner = get_model("partner", "Partner")


def _safe_cell(value):
    return safe_cell(str(value))


@operator_required
def ledger(request):
    balances = list(
        ProducerBalance.objects.select_related("partner").order_by("partner__name", "partner_id")
    )
    payable = services.payable()
    return render(
        request,
        "marketplace/settlements/ledger.html",
        {
            "balances": balances,
            "total": sum((row.balance for row in balances), services.ZERO),
            "payable": payable,
            "unposted": services.unposted_parcels().count(),
            "form": PayoutBatchForm(payable=payable),
            "batches": PayoutBatch.objects.annotate(
                count=Count("payouts"), total=Sum("payouts__amount")
            ).order_by("-created", "-pk")[:20],
            "settings_row": MarketplaceSettings.load(),
            "month": timezone.localdate().strftime("%Y-%m"),
        },
    )


@require_POST
@operator_required
def post_deliveries(request):
    entries = services.post_deliveries(by=request.user)
    messages.success(
        request,
        _("%(count)s delivered parcels added to the settlement ledger.") % {"count": len(entries)},
    )
    return redirect("settlements:ledger")


@require_POST
@operator_required
def create_batch(request):
    form = PayoutBatchForm(request.POST, payable=services.payable())
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("settlements:ledger")
    try:
        batch = services.create_payout_batch(
            partner_ids=form.cleaned_data["producers"], by=request.user
        )
    except services.SettlementError as exc:
        messages.error(request, str(exc))
        return redirect("settlements:ledger")
    messages.success(request, _("Payout batch created: make the transfers, then mark each paid."))
    return redirect("settlements:batch", pk=batch.pk)


def _qr(payout):
    """The VietQR code to pay `payout` from a banking app (None if its account cannot be
    encoded)."""
    code = vietqr.transfer_code(
        bank_bin=payout.bank_bin,
        number=payout.bank_account,
        amount=payout.amount,
        purpose=f"NONGSAN CHI TRA {payout.pk}",
    )
    return code["svg"] if code else None


@operator_required
def batch(request, pk):
    payout_batch = get_object_or_404(PayoutBatch.objects.select_related("created_by"), pk=pk)
    payouts = list(payout_batch.payouts.select_related("partner", "paid_by").order_by("pk"))
    for payout in payouts:
        payout.qr = None if payout.paid_at else _qr(payout)
    return render(
        request,
        "marketplace/settlements/batch.html",
        {
            "batch": payout_batch,
            "payouts": payouts,
            "total": sum((p.amount for p in payouts), services.ZERO),
            "form": MarkPayoutPaidForm(),
        },
    )


@operator_required
def batch_csv(request, pk):
    payout_batch = get_object_or_404(PayoutBatch, pk=pk)
    response, writer = csv_response(f"chi-tra-{payout_batch.pk}.csv")
    writer.writerow(
        [
            _("Payout"),
            _("Producer"),
            _("Bank"),
            _("Bank (BIN)"),
            _("Account number"),
            _("Account holder"),
            _("Amount"),
            _("Transfer description"),
            _("Bank reference"),
        ]
    )
    for payout in payout_batch.payouts.select_related("partner").order_by("pk"):
        writer.writerow(
            [
                payout.pk,
                _safe_cell(payout.partner.name),
                short_name(payout.bank_bin),
                payout.bank_bin,
                payout.bank_account,
                _safe_cell(payout.bank_holder),
                int(payout.amount),
                f"NONGSAN CHI TRA {payout.pk}",
                _safe_cell(payout.reference),
            ]
        )
    return response


@require_POST
@operator_required
def mark_paid(request, pk):
    payout = get_object_or_404(Payout.objects.select_related("partner"), pk=pk)
    back = reverse("settlements:batch", args=[payout.batch_id])
    form = MarkPayoutPaidForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.mark_payout_paid(
            payout=payout, reference=form.cleaned_data["reference"], by=request.user
        )
    except services.SettlementError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Payout of %(amount)s to %(producer)s marked paid.")
            % {"amount": format_dong(payout.amount), "producer": payout.partner.name},
        )
    return redirect(back)


def _statement_page(request, partner, *, farmer_view):
    year, month = month_of(request.GET)
    start, end = services.month_bounds(year, month)
    result = services.statement(partner=partner, start=start, end=end)
    profile = getattr(partner, "producer_profile", None)
    return render(
        request,
        "marketplace/settlements/statement.html",
        {
            "partner": partner,
            "profile": profile,
            "statement": result,
            "month": month_text(year, month),
            "previous": month_text(*previous_month(year, month)),
            "next": month_text(*next_month(year, month)),
            "farmer_view": farmer_view,
            "printed": timezone.localtime(),
        },
    )


@operator_required
def statement(request, pk):
    partner = get_object_or_404(Partner.objects.select_related("producer_profile"), pk=pk)
    return _statement_page(request, partner, farmer_view=False)


@producer_required
def my_statement(request, producer):
    """The farmer's own settlement statement (read only)."""
    return _statement_page(request, producer.partner, farmer_view=True)


@operator_required
def withholding(request):
    year, month = month_of(request.GET)
    return render(
        request,
        "marketplace/settlements/withholding.html",
        {
            "rows": services.withholding_report(year=year, month=month),
            "month": month_text(year, month),
            "previous": month_text(*previous_month(year, month)),
            "next": month_text(*next_month(year, month)),
        },
    )


@operator_required
def withholding_csv(request):
    year, month = month_of(request.GET)
    rows = services.withholding_report(year=year, month=month)
    response, writer = csv_response(f"khau-tru-thue-{year:04d}-{month:02d}.csv")
    writer.writerow(
        [
            _("Month"),
            _("Seller"),
            _("Type"),
            _("Revenue"),
            _("VAT withheld"),
            _("Personal income tax withheld"),
            _("Total withheld"),
        ]
    )
    labels = dict(services.ProducerProfile.Kind.choices)
    for row in rows:
        writer.writerow(
            [
                f"{month:02d}/{year:04d}",
                _safe_cell(row.name),
                labels.get(row.kind, row.kind),
                int(row.revenue),
                int(row.vat),
                int(row.pit),
                int(row.tax),
            ]
        )
    writer.writerow(
        [
            f"{month:02d}/{year:04d}",
            _("Total"),
            "",
            int(sum((r.revenue for r in rows), services.ZERO)),
            int(sum((r.vat for r in rows), services.ZERO)),
            int(sum((r.pit for r in rows), services.ZERO)),
            int(sum((r.tax for r in rows), services.ZERO)),
        ]
    )
    return response
