"""Pages for scans, recalls and order-line lots. Thin: the rules live in
traceability.recalls and traceability.scans.

- Public: /truy-xuat/{CODE}/chia-se-tinh/ lets a scanner share a province (a small page
  of its own, with a CSRF token, so the public trace page stays cacheable).
- Lot managers (traceability.access): recall a lot (POST only, with a confirmation step),
  and link their order lines to lots ("Gắn lô cho đơn hàng").
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.core.links import absolute_url
from marketplace.core.numbers import parse_int
from marketplace.core.ratelimit import throttled

from . import recalls, safety, scans
from .access import lot_manager_required, lots_for
from .models import SHORT_CODE_RE, Lot, Recall

Line = get_model("order", "Line")
PAGE_SIZE = 20


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


# --- Public: share a province ---------------------------------------------------------------------


@never_cache
@throttled("province-share")
def share_province(request, short_code):
    code = short_code.upper()
    if not SHORT_CODE_RE.match(code):
        raise Http404
    lot = get_object_or_404(Lot.objects.select_related("product"), short_code=code)
    trace_url = reverse("traceability:short", kwargs={"short_code": lot.short_code})
    context = {
        "lot": lot,
        "trace_url": trace_url,
        "province_choices": geo.province_choices(),
        "done": request.GET.get("da-chia-se") == "1",
        "chosen": None,
        "error": "",
    }
    raw = request.POST.get("tinh") if request.method == "POST" else request.GET.get("tinh")
    if raw:
        chosen = parse_int(raw)
        if chosen is None or not geo.is_valid_province(chosen):
            context["error"] = _("Please choose a province from the list.")
        else:
            context["chosen"] = chosen
            context["chosen_name"] = geo.province_name(chosen)
    elif request.method == "POST":
        context["error"] = _("Please choose a province from the list.")
    if request.method == "POST" and not context["error"]:
        stored = scans.share_province(
            lot_id=lot.pk, visitor=scans.visitor_hash(request), province_code=context["chosen"]
        )
        if stored:
            return HttpResponseRedirect(f"{request.path}?da-chia-se=1")
        context["error"] = _(
            "We have no scan of this product from your phone yet: open its trace page by "
            "scanning the QR code first."
        )
    status = 400 if context["error"] and request.method == "POST" else 200
    return render(request, "traceability/scan_province.html", context, status=status)


# --- Recalls --------------------------------------------------------------------------------------


@lot_manager_required
@require_POST
def recall_lot(request, pk):
    """Step 1 (no `confirm`): show what will happen and ask again. Step 2: recall."""
    lot = get_object_or_404(
        lots_for(request.user).select_related("product", "producer__partner"), pk=pk
    )
    if Recall.objects.filter(lot=lot).exists():
        messages.error(request, _("This lot has already been recalled."))
        return redirect("traceability:lot", pk=lot.pk)
    reason = request.POST.get("reason", "")
    errors = []
    try:
        reason = recalls.clean_reason(reason)
    except ValidationError as exc:
        errors = _errors(exc)
    if errors or request.POST.get("confirm") != "1":
        return render(
            request,
            "traceability/recall_confirm.html",
            {
                "lot": lot,
                "reason": reason,
                "errors": errors,
                "orders": recalls.affected_orders(lot).count() if not errors else 0,
            },
            status=400 if errors else 200,
        )
    try:
        recalls.recall_lot(lot=lot, by=request.user, reason=reason, base_url=absolute_url("/"))
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect("traceability:lot", pk=lot.pk)
    messages.success(
        request,
        _("Lot %(code)s is recalled. Its product is withdrawn and its buyers are being notified.")
        % {"code": lot.code},
    )
    return redirect("traceability:lot", pk=lot.pk)


# --- Order lines → lots ---------------------------------------------------------------------------


@lot_manager_required
def order_lines(request):
    lines = (
        recalls.lines_for(request.user)
        .filter(trace_lot__isnull=True, product__isnull=False)
        .select_related("order", "product", "partner")
        .order_by("-order__date_placed", "-pk")
    )
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # The lots to choose from, for every line of the page at once (two queries).
    keys = {(line.product_id, line.partner_id) for line in rows}
    lots_by_key = {}
    if rows:
        candidates = (
            lots_for(request.user)
            .filter(
                product_id__in={k[0] for k in keys},
                producer__partner_id__in={k[1] for k in keys},
                recall__isnull=True,
            )
            .select_related("producer", "recall")
            .order_by("-created_at", "-pk")
        )
        # Only lots that may be sold (not expired, not waiting for a safety review).
        for lot in safety.sellable(candidates):
            lots_by_key.setdefault((lot.product_id, lot.producer.partner_id), []).append(lot)
    for line in rows:
        line.lot_choices = lots_by_key.get((line.product_id, line.partner_id), [])
    return render(
        request,
        "traceability/order_lines.html",
        {"page_obj": page, "lines": rows},
    )


@lot_manager_required
@require_POST
def link_order_line(request, line_pk):
    line = get_object_or_404(
        recalls.lines_for(request.user).select_related("order", "product"), pk=line_pk
    )
    try:
        recalls.link_line(line=line, lot_id=request.POST.get("lot"), by=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect(_lines_url(request))
    messages.success(
        request,
        _("Order %(number)s: %(product)s is linked to its lot.")
        % {"number": line.order.number, "product": line.title},
    )
    return redirect(_lines_url(request))


def _lines_url(request) -> str:
    url = reverse("traceability:order-lines")
    page = request.POST.get("page", "")
    return f"{url}?page={page}" if parse_int(page) is not None else url
