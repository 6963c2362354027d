"""Operator pages for cash on delivery paid out to producers: the ledger (and its CSV),
a producer's remittances with their parcels, creating a remittance and marking it paid.
Thin: rules live in marketplace.finance.remittances.

Anonymous visitors are sent to sign in; anyone but the operator gets 403.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.core.access import operator_required, producer_required
from marketplace.core.csv_export import csv_response, safe_cell
from marketplace.core.money import format_dong
from marketplace.finance import remittances as services
from marketplace.models import MarketplaceSettings, Parcel, Remittance

Partner = get_model("partner", "Partner")

PAGE_SIZE = 20


class MarkPaidForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Transfer reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The bank's reference of the payment to the producer."),
    )


@operator_required
def ledger(request):
    settings_row = MarketplaceSettings.load()
    rows, totals = services.ledger(percent=settings_row.commission_percent)
    return render(
        request,
        "marketplace/remittances/ledger.html",
        {"rows": rows, "totals": totals, "percent": settings_row.commission_percent},
    )


def _safe_cell(value):
    return safe_cell(str(value))


@operator_required
def ledger_csv(request):
    rows, totals = services.ledger()
    response, writer = csv_response(f"doi-soat-cod-{timezone.localdate():%Y%m%d}.csv")
    writer.writerow(
        [
            _("Producer"),
            _("Collected on delivery"),
            _("Commission"),
            _("Amount owed"),
            _("Remitted"),
            _("Outstanding"),
            _("In unpaid remittances"),
            _("Collected, not yet in a remittance"),
        ]
    )
    for row in [*rows, None]:
        item = totals if row is None else row
        writer.writerow(
            [
                _("Total") if row is None else _safe_cell(row.name),
                *(
                    int(getattr(item, name))
                    for name in (
                        "collected",
                        "commission",
                        "owed",
                        "remitted",
                        "outstanding",
                        "in_unpaid",
                        "pending_collected",
                    )
                ),
            ]
        )
    return response


@operator_required
def producer(request, pk):
    partner = get_object_or_404(Partner, pk=pk)
    return _producer_page(request, partner, farmer_view=False)


@producer_required
def my_remittances(request, producer):
    """The farmer's own cash on delivery: collected, commission, remitted, what is owed
    (read only: the operator creates and pays remittances)."""
    return _producer_page(request, producer.partner, farmer_view=True)


def _producer_page(request, partner, *, farmer_view: bool):
    settings_row = MarketplaceSettings.load()
    rows, _totals = services.ledger(
        partner_ids=[partner.pk], percent=settings_row.commission_percent
    )
    pending = list(
        services.collected_parcels()
        .filter(partner=partner, remittance__isnull=True)
        .select_related("order")
        .order_by("cod_collected_at", "pk")
    )
    remittances = (
        Remittance.objects.filter(partner=partner)
        .select_related("created_by", "paid_by")
        .prefetch_related(
            Prefetch(
                "parcels",
                queryset=Parcel.objects.select_related("order").order_by("cod_collected_at", "pk"),
            )
        )
        .order_by("-created", "-pk")
    )
    page = Paginator(remittances, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/remittances/producer.html",
        {
            "partner": partner,
            "row": rows[0] if rows else None,
            "pending": pending,
            "pending_total": sum((p.cod_collected for p in pending), services.ZERO),
            "pending_commission": services.commission_on(
                sum((p.cod_collected for p in pending), services.ZERO),
                settings_row.commission_percent,
            ),
            "percent": settings_row.commission_percent,
            "remittances": page.object_list,
            "page_obj": page,
            "paid_form": MarkPaidForm(),
            "farmer_view": farmer_view,
        },
    )


@require_POST
@operator_required
def create(request, pk):
    partner = get_object_or_404(Partner, pk=pk)
    try:
        remittance = services.create_remittance(partner, request.user)
    except services.RemittanceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Remittance created for %(producer)s: %(amount)s to pay (%(count)s parcels).")
            % {
                "producer": partner.name,
                "amount": format_dong(remittance.amount),
                "count": remittance.parcels.count(),
            },
        )
    return redirect(reverse("remittances:producer", args=[partner.pk]))


@require_POST
@operator_required
def mark_paid(request, pk):
    remittance = get_object_or_404(Remittance.objects.select_related("partner"), pk=pk)
    back = reverse("remittances:producer", args=[remittance.partner_id])
    form = MarkPaidForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.mark_paid(remittance, request.user, form.cleaned_data["reference"])
    except services.RemittanceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Remittance of %(amount)s to %(producer)s marked paid.")
            % {
                "amount": format_dong(remittance.amount),
                "producer": remittance.partner.name,
            },
        )
    return redirect(back)
