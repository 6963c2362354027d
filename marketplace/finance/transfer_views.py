"""Operator pages for VietQR bank transfers: orders awaiting a transfer (mark one received)
and the bank statement import with its report. Thin: rules live in marketplace.finance.transfers.

Anonymous visitors are sent to sign in; anyone but the operator gets 403.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from oscar.core.loading import get_model

from marketplace.core import jobs
from marketplace.core.access import operator_required
from marketplace.core.money import DongField, format_dong
from marketplace.core.redirects import safe_next
from marketplace.finance import transfers
from marketplace.models import BankTransfer, StatementImport
from marketplace.payments.state import VIETQR, payment_state

Order = get_model("order", "Order")
Source = get_model("payment", "Source")

PAGE_SIZE = 20
QUERY_MAX = 40


class AmountField(DongField):
    """Whole đồng, more than zero, typed as a bank writes it: "1.250.000", "1,250,000" or
    "1250000" (read by marketplace.core.money.parse_dong)."""

    default_error_messages = {
        code: gettext_lazy("Enter the amount in whole đồng, e.g. 1.250.000.")
        for code in ("invalid", "negative", "decimal", "words", "too_large")
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def to_python(self, value):
        amount = super().to_python(value)
        if amount is None:
            return None
        if amount <= 0:
            raise forms.ValidationError(gettext_lazy("The amount must be more than 0 đồng."))
        return Decimal(amount)


class MarkReceivedForm(forms.Form):
    amount = AmountField(label=gettext_lazy("Amount received (đồng)"))
    received_on = forms.DateField(
        label=gettext_lazy("Received on"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        ),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def clean_received_on(self):
        value = self.cleaned_data.get("received_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(gettext_lazy("The date cannot be in the future."))
        return value


class StatementForm(forms.Form):
    statement = forms.FileField(
        label=gettext_lazy("Bank statement (CSV)"),
        help_text=gettext_lazy(
            "The CSV file exported from the bank's website (UTF-8; at most 2 MB and 5.000 lines)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def awaiting_sources(query: str = ""):
    """Payment sources of VietQR orders not paid in full, newest order first."""
    sources = (
        Source.objects.filter(source_type__code=VIETQR, amount_debited__lt=F("amount_allocated"))
        .select_related("order", "order__user", "order__shipping_address")
        .annotate(outstanding=F("amount_allocated") - F("amount_debited"))
        .order_by("-order__date_placed", "-order__pk")
    )
    query = (query or "").strip()[:QUERY_MAX]
    if query:
        sources = sources.filter(order__number__icontains=query)
    return sources


@operator_required
def awaiting(request):
    query = (request.GET.get("q") or "").strip()[:QUERY_MAX]
    page = Paginator(awaiting_sources(query), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        {
            "source": source,
            "order": source.order,
            "form": MarkReceivedForm(
                initial={"amount": int(source.outstanding), "received_on": today},
                auto_id=f"id_{source.order.pk}_%s",
            ),
        }
        for source in page.object_list
    ]
    recent = BankTransfer.objects.select_related("order", "recorded_by").order_by(
        "-recorded_at", "-pk"
    )[:10]
    return render(
        request,
        "marketplace/transfers/awaiting.html",
        {
            "rows": rows,
            "page_obj": page,
            "query": query,
            "page_query": f"q={query}" if query else "",
            "recent": recent,
        },
    )


@require_POST
@operator_required
def mark_received(request, pk):
    order = get_object_or_404(Order, pk=pk)
    back = safe_next(request, reverse("transfers:awaiting"))
    form = MarkReceivedForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{order.number}: {error}")
        return redirect(back)
    try:
        transfer = transfers.mark_received(
            order,
            request.user,
            form.cleaned_data["amount"],
            received_on=form.cleaned_data["received_on"],
            note=form.cleaned_data["note"],
        )
    except transfers.TransferError as exc:
        messages.error(request, str(exc))
    else:
        state = payment_state(Order.objects.get(pk=order.pk))
        messages.success(
            request,
            _("Recorded %(amount)s received for order %(number)s (%(state)s).")
            % {
                "amount": format_dong(transfer.amount),
                "number": order.number,
                "state": state.label,
            },
        )
    return redirect(back)


@transaction.non_atomic_requests
@require_http_methods(["GET", "POST"])
@operator_required
def import_statement(request):
    """Upload a statement: checked at once (a file that cannot be read is a form error),
    then applied by a background worker (transfers.run_statement_import) while the
    operator watches its progress. Each applied line is its own transaction, so a line
    applied stays applied even if a later one fails, and two imports at once apply a line
    once."""
    if request.method == "POST":
        form = StatementForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = transfers.start_statement_import(
                    file=form.cleaned_data["statement"], user=request.user
                )
            except transfers.StatementError as exc:
                form.add_error("statement", str(exc))
            else:
                return redirect("transfers:statement", pk=job.pk)
    else:
        form = StatementForm()
    recent = StatementImport.objects.select_related("created_by")[:10]
    return render(
        request,
        "marketplace/transfers/import.html",
        {"form": form, "report": None, "recent": recent},
        status=200,
    )


@require_http_methods(["GET"])
@operator_required
def statement_import(request, pk):
    """One import: its progress while a worker applies it (the page refreshes itself, no
    script), then its report; a worker that died is noticed (jobs.fail_stalled) and the
    import can be run again."""
    job = get_object_or_404(StatementImport.objects.select_related("created_by"), pk=pk)
    job = jobs.fail_stalled(StatementImport, job)
    finished = job.status in (StatementImport.Status.DONE, StatementImport.Status.FAILED)
    report = None
    if job.status == StatementImport.Status.DONE:
        report = transfers.report_from_data(job.report)
    response = render(
        request,
        "marketplace/transfers/statement_import.html",
        {
            "job": job,
            "report": report,
            "finished": finished,
            "percent": (
                min(100, round(100 * job.lines_done / job.lines_total)) if job.lines_total else 0
            ),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@operator_required
def statement_import_retry(request, pk):
    job = get_object_or_404(StatementImport, pk=pk)
    transfers.retry_statement_import(job=job)
    return redirect("transfers:statement", pk=job.pk)
