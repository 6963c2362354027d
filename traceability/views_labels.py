"""QR codes and label sheets of a lot, for its farmer and staff in scope.

Every view looks the lot up through `lots_for(request.user)`: a lot outside the caller's
scope is a 404, its sheets and files too (the PDF is served from here, never from a public
media URL).
"""

import re

from django import forms
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from marketplace.core.storage import serve_private

from . import labels, qr
from .access import lot_manager_required, lots_for
from .models import LabelSheet


class LabelSheetForm(forms.Form):
    size = forms.ChoiceField(
        label=gettext_lazy("Label size"),
        choices=labels.LAYOUT_CHOICES,
        initial=labels.DEFAULT_LAYOUT,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose a label size."),
            "invalid_choice": gettext_lazy("Choose one of the label sizes listed."),
        },
    )
    count = forms.IntegerField(
        label=gettext_lazy("Number of labels"),
        min_value=1,
        max_value=labels.MAX_LABELS,
        initial=65,
        error_messages={
            "required": gettext_lazy("Enter how many labels to print."),
            "invalid": gettext_lazy("Enter the number of labels as a whole number, e.g. 65."),
            "min_value": gettext_lazy("Print at least 1 label."),
            "max_value": gettext_lazy("Print at most %(limit_value)s labels at a time."),
        },
    )
    serialised = forms.BooleanField(
        label=gettext_lazy("One serial number per label"),
        required=False,
        help_text=gettext_lazy(
            "Each label gets its own code, so buyers are warned when a code is scanned "
            "many times (a sign of copied labels)."
        ),
    )


def _lot(request, pk):
    return get_object_or_404(
        lots_for(request.user).select_related("product", "producer__partner"), pk=pk
    )


def _sheet(request, pk, sheet_pk):
    lot = _lot(request, pk)
    sheet = get_object_or_404(LabelSheet.objects.filter(lot=lot), pk=sheet_pk)
    return lot, labels.expire_stale(sheet)


def _file_stem(lot) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", lot.code).strip("-.") or "lo"


@lot_manager_required
@require_safe
def lot_qr(request, pk, fmt):
    lot = _lot(request, pk)
    url = qr.label_url(lot, qr.base_url())
    if fmt == "png":
        response = HttpResponse(qr.png(url), content_type="image/png")
    else:
        response = HttpResponse(qr.svg(url), content_type="image/svg+xml")
    disposition = "attachment" if request.GET.get("tai") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="qr-{_file_stem(lot)}.{fmt}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@lot_manager_required
def sheets(request, pk):
    """GET: the labels page (form and sheets). POST: ask for a sheet."""
    lot = _lot(request, pk)
    form = LabelSheetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sheet = labels.request_sheet(
            lot=lot,
            size=form.cleaned_data["size"],
            count=form.cleaned_data["count"],
            serialised=form.cleaned_data["serialised"],
            by=request.user,
            base_url=qr.base_url(),
            language=get_language() or "vi",
        )
        return redirect("traceability:label-sheet", pk=lot.pk, sheet_pk=sheet.pk)
    return render(
        request,
        "traceability/label_sheets.html",
        {
            "lot": lot,
            "form": form,
            "sheets": lot.label_sheets.all()[:50],
            "qr_url": qr.label_url(lot, qr.base_url()),
        },
    )


def _status(lot, sheet) -> dict:
    done = sheet.status == LabelSheet.Status.DONE and bool(sheet.file)
    return {
        "status": sheet.status,
        "status_label": str(sheet.get_status_display()),
        "progress": sheet.progress,
        "count": sheet.count,
        "progress_label": _("%(done)s of %(count)s labels")
        % {"done": sheet.progress, "count": sheet.count},
        "percent": min(100, round(100 * sheet.progress / sheet.count)) if sheet.count else 0,
        "finished": sheet.status in (LabelSheet.Status.DONE, LabelSheet.Status.FAILED),
        "download_url": (
            reverse("traceability:label-sheet-pdf", kwargs={"pk": lot.pk, "sheet_pk": sheet.pk})
            if done
            else None
        ),
        "error": sheet.error if sheet.status == LabelSheet.Status.FAILED else "",
        "retry_url": (
            reverse("traceability:label-sheet-retry", kwargs={"pk": lot.pk, "sheet_pk": sheet.pk})
            if sheet.status == LabelSheet.Status.FAILED
            else None
        ),
    }


@lot_manager_required
@require_POST
def sheet_retry(request, pk, sheet_pk):
    """Make a failed sheet again (its worker died, or it failed): same labels, same serials."""
    lot, sheet = _sheet(request, pk, sheet_pk)
    labels.retry_sheet(sheet=sheet, base_url=qr.base_url(), language=get_language() or "vi")
    return redirect("traceability:label-sheet", pk=lot.pk, sheet_pk=sheet.pk)


@lot_manager_required
@require_safe
def sheet_status(request, pk, sheet_pk):
    lot, sheet = _sheet(request, pk, sheet_pk)
    layout = labels.LAYOUTS.get(sheet.size)
    return render(
        request,
        "traceability/label_sheet.html",
        {
            "lot": lot,
            "sheet": sheet,
            "layout": layout,
            "state": _status(lot, sheet),
            "json_url": reverse(
                "traceability:label-sheet-json", kwargs={"pk": lot.pk, "sheet_pk": sheet.pk}
            ),
        },
    )


@lot_manager_required
@require_safe
def sheet_status_json(request, pk, sheet_pk):
    lot, sheet = _sheet(request, pk, sheet_pk)
    response = JsonResponse(_status(lot, sheet))
    response["Cache-Control"] = "no-store"
    return response


@lot_manager_required
@require_safe
def sheet_pdf(request, pk, sheet_pk):
    lot, sheet = _sheet(request, pk, sheet_pk)
    if sheet.status != LabelSheet.Status.DONE or not sheet.file:
        raise Http404
    filename = _("labels-%(code)s-%(number)s.pdf") % {"code": _file_stem(lot), "number": sheet.pk}
    return serve_private(sheet.file, filename=filename, as_attachment=True)
