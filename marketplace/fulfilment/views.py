"""Fulfilment pages: producers pack their parcels, the post office ships them. Thin: the
rules live in marketplace.fulfilment.services.

Who gets what:
- producer pages (/cua-hang/don-hang/…): anonymous → sign-in; a user who runs no producer
  shop → 403; another producer's parcel → 404. A producer sees only its own lines of an
  order, never another producer's lines or the order total.
- post-office pages (/buu-dien/buu-gui/…): anonymous → sign-in; a user who is neither
  post-office staff nor the operator → 403; a parcel of a producer outside the post
  office's province → 404. Actions are POST only (CSRF-protected like every form).
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.access import post_office_required, producer_required
from marketplace.core.redirects import safe_next
from marketplace.fulfilment import selectors
from marketplace.fulfilment import services as fulfilment
from marketplace.fulfilment.cancellations import cancel_refusal
from marketplace.fulfilment.forms import (
    CodForm,
    FailedDeliveryForm,
    LineCancelForm,
    PackForm,
    ReturnForm,
    TrackingForm,
)
from marketplace.models import Parcel
from marketplace.wholesale.selectors import invoice_of

PAGE_SIZE = 20
STATUS_PARAM = "trang-thai"
SEARCH_PARAM = "q"
PAPER_PARAM = "kho"


# --- Shared -------------------------------------------------------------------------------------


def _list_context(request, base, parcels) -> dict:
    """Status filter, search, counts by status (one query) and the page (two queries)."""
    status = request.GET.get(STATUS_PARAM, "")
    if status not in Parcel.Status.values:
        status = ""
    q = fulfilment.search_term(request.GET.get(SEARCH_PARAM, ""))
    counts = dict(base.order_by().values_list("status").annotate(n=Count("pk")))
    filters = [
        {"code": "", "label": _("All"), "count": sum(counts.values()), "active": not status}
    ] + [
        {"code": code, "label": label, "count": counts.get(code, 0), "active": status == code}
        for code, label in Parcel.Status.choices
        if code != Parcel.Status.CANCELLED or counts.get(code)
    ]
    parcels = fulfilment.search_parcels(parcels, status=status, q=q)
    paginator = Paginator(parcels, PAGE_SIZE)
    if not q:  # the counts by status already say how many there are
        paginator.count = counts.get(status, 0) if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    query = {k: v for k, v in ((STATUS_PARAM, status), (SEARCH_PARAM, q)) if v}
    return {
        "page_obj": page,
        "parcels": _weigh(*page.object_list),
        "status": status,
        "q": q,
        "filters": filters,
        "page_query": urlencode(query),
        "filtered": bool(query),
        "status_param": STATUS_PARAM,
    }


def _weigh(*parcels):
    """Give each parcel `weight_kg`, for display."""
    for parcel in parcels:
        parcel.weight_kg = Decimal(parcel.weight_grams) / 1000
    return list(parcels)


def _lines_with_lots(parcel):
    """The parcel's own lines, each with `lot` (the lot it was packed from, or None)."""
    return fulfilment.parcel_lines_with_lots(parcel)


# --- Producer -----------------------------------------------------------------------------------


def _producer_parcel(producer, pk):
    return get_object_or_404(
        fulfilment.producer_parcels(producer.partner).select_related(
            "order", "order__shipping_address", "packed_by"
        ),
        pk=pk,
    )


@producer_required
def producer_parcels(request, producer):
    base = fulfilment.producer_parcels(producer.partner)
    parcels = base.select_related("order", "order__shipping_address").annotate(
        items=Sum("order__lines__quantity", filter=Q(order__lines__partner_id=F("partner_id")))
    )
    return render(
        request,
        "marketplace/fulfilment/producer_parcels.html",
        {"producer": producer, **_list_context(request, base, parcels)},
    )


def _render_producer_parcel(request, producer, parcel, form=None, status=200):
    _weigh(parcel)
    lines = _lines_with_lots(parcel)
    if form is None and fulfilment.pack_refusal(parcel) is None:
        form = _pack_form(parcel, lines)
    if form is not None:
        for line in lines:
            line.lot_field = form.bound_field_for(line)
    return render(
        request,
        "marketplace/fulfilment/producer_parcel.html",
        {
            "producer": producer,
            "parcel": parcel,
            "order": parcel.order,
            "address": parcel.order.shipping_address,
            "lines": lines,
            "form": form,
            "cancelled_lines": fulfilment.cancelled_lines(parcel),
            "may_cancel_lines": cancel_refusal(parcel, Parcel.Role.PRODUCER) is None,
            "line_cancel_form": LineCancelForm(),
            "invoice": invoice_of(parcel.order),
        },
        status=status,
    )


def _pack_form(parcel, lines, data=None):
    linked = {line.pk for line in lines if line.lot is not None}
    choices = fulfilment.lot_choices(parcel, [line for line in lines if line.pk not in linked])
    return PackForm(data, lines=lines, choices=choices, linked=linked)


@producer_required
def producer_parcel(request, producer, pk):
    return _render_producer_parcel(request, producer, _producer_parcel(producer, pk))


@producer_required
@require_POST
def producer_pack(request, producer, pk):
    parcel = _producer_parcel(producer, pk)
    if refusal := fulfilment.pack_refusal(parcel):
        messages.error(request, refusal)
        return redirect("fulfilment:producer-parcel", pk=parcel.pk)
    lines = _lines_with_lots(parcel)
    form = _pack_form(parcel, lines, request.POST)
    if form.is_valid():
        try:
            fulfilment.pack(parcel, request.user, lots=form.lots())
        except PermissionDenied:
            raise Http404 from None
        except fulfilment.FulfilmentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Order %(number)s: your parcel is marked packed. Print the packing slip and "
                    "hand the parcel to the post office."
                )
                % {"number": parcel.order.number},
            )
            return redirect("fulfilment:producer-parcel", pk=parcel.pk)
    return _render_producer_parcel(request, producer, parcel, form=form, status=400)


@producer_required
def packing_slip(request, producer, pk):
    parcel = _producer_parcel(producer, pk)
    _weigh(parcel)
    paper = "a4" if request.GET.get(PAPER_PARAM) == "a4" else "a5"
    return render(
        request,
        "marketplace/fulfilment/packing_slip.html",
        {
            "producer": producer,
            "parcel": parcel,
            "order": parcel.order,
            "address": parcel.order.shipping_address,
            "lines": _lines_with_lots(parcel),
            "invoice": invoice_of(parcel.order),
            "paper": paper,
            "paper_param": PAPER_PARAM,
        },
    )


# --- Post office --------------------------------------------------------------------------------


def _post_parcels(request, scope):
    return fulfilment.post_office_parcels(request.user, scope=scope)


def _post_parcel(request, scope, pk):
    return get_object_or_404(
        _post_parcels(request, scope).select_related(
            "order",
            "order__shipping_address",
            "partner",
            "partner__producer_profile",
            "packed_by",
            "picked_up_by",
            "delivered_by",
            "cod_collected_by",
        ),
        pk=pk,
    )


@post_office_required
def post_parcels(request, scope):
    base = _post_parcels(request, scope)
    parcels = base.select_related(
        "order", "order__shipping_address", "partner", "partner__producer_profile"
    )
    return render(
        request,
        "marketplace/fulfilment/post_parcels.html",
        {"office": scope.organisation, **_list_context(request, base, parcels)},
    )


def _refused(request, parcel, message):
    """A refusal the page has no form for (the parcel moved on): a message on the page."""
    messages.error(request, message)
    return redirect("fulfilment:post-parcel", pk=parcel.pk)


def _render_post_parcel(request, scope, parcel, *, tracking_form=None, cod_form=None, status=200):
    _weigh(parcel)
    if tracking_form is None:
        tracking_form = TrackingForm(initial={"tracking_number": parcel.tracking_number})
    if cod_form is None:
        cod_form = CodForm()
    return render(
        request,
        "marketplace/fulfilment/post_parcel.html",
        {
            "office": scope.organisation,
            "parcel": parcel,
            "order": parcel.order,
            "address": parcel.order.shipping_address,
            "producer": getattr(parcel.partner, "producer_profile", None),
            "tracking_form": tracking_form,
            "cod_form": cod_form,
            "can_set_tracking": fulfilment.tracking_refusal(parcel) is None,
            "can_collect": fulfilment.cod_refusal(parcel) is None,
            "can_fail": fulfilment.fail_refusal(parcel) is None,
            "can_return": fulfilment.return_refusal(parcel) is None,
            "fail_form": FailedDeliveryForm(),
            "return_form": ReturnForm(),
        },
        status=status,
    )


@post_office_required
def post_parcel(request, scope, pk):
    return _render_post_parcel(request, scope, _post_parcel(request, scope, pk))


def _form_step(request, scope, pk, *, refusal, form_class, field, act, success, form_name):
    """A post-office step with a form (tracking number, COD amount): a refused step goes
    back to the parcel with the reason; a bad value re-renders the form with status 400."""
    parcel = _post_parcel(request, scope, pk)
    if reason := refusal(parcel):
        return _refused(request, parcel, reason)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(parcel, request.user, form.cleaned_data[field])
        except PermissionDenied:
            raise Http404 from None
        except fulfilment.FulfilmentError as exc:
            if refusal(parcel):  # moved on meanwhile
                return _refused(request, parcel, exc.message)
            form.add_error(field, exc.message)
        else:
            messages.success(request, success(parcel))
            return redirect("fulfilment:post-parcel", pk=parcel.pk)
    return _render_post_parcel(request, scope, parcel, status=400, **{form_name: form})


@post_office_required
@require_POST
def post_set_tracking(request, scope, pk):
    return _form_step(
        request,
        scope,
        pk,
        refusal=fulfilment.tracking_refusal,
        form_class=TrackingForm,
        field="tracking_number",
        act=fulfilment.set_tracking,
        success=lambda parcel: (
            _("Tracking number %(number)s saved for order %(order)s.")
            % {"number": parcel.tracking_number, "order": parcel.order.number}
        ),
        form_name="tracking_form",
    )


def _transition(request, scope, pk, action, success):
    parcel = _post_parcel(request, scope, pk)
    try:
        action(parcel, request.user)
    except PermissionDenied:
        raise Http404 from None
    except fulfilment.FulfilmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success % {"order": parcel.order.number})
    default = reverse("fulfilment:post-parcel", kwargs={"pk": parcel.pk})
    return redirect(safe_next(request, default))


@post_office_required
@require_POST
def post_pick_up(request, scope, pk):
    return _transition(
        request,
        scope,
        pk,
        fulfilment.pick_up,
        _("Order %(order)s: the parcel is picked up. The buyer is told it is on its way."),
    )


@post_office_required
@require_POST
def post_deliver(request, scope, pk):
    return _transition(
        request,
        scope,
        pk,
        fulfilment.deliver,
        _("Order %(order)s: the parcel is delivered."),
    )


@post_office_required
@require_POST
def post_collect_cod(request, scope, pk):
    return _form_step(
        request,
        scope,
        pk,
        refusal=fulfilment.cod_refusal,
        form_class=CodForm,
        field="amount",
        act=fulfilment.collect_cod,
        success=lambda parcel: (
            _("Order %(order)s: %(amount)s collected on delivery is recorded.")
            % {
                "order": parcel.order.number,
                "amount": fulfilment.money(parcel.payment.collected, parcel.order),
            }
        ),
        form_name="cod_form",
    )


# --- The post office's home ---------------------------------------------------------------------


@post_office_required
def post_home(request, scope):
    """Parcels to pick up, in delivery, cash on delivery to hand over; the members and
    producers of its province it may see (farmers' pages, by URL name)."""
    todo = selectors.post_office_todo(request.user, scope)
    parcels = reverse("fulfilment:post-parcels")
    tasks = [
        {
            "count": todo.to_pick_up,
            "label": _("Parcels to pick up"),
            "url": f"{parcels}?{urlencode({STATUS_PARAM: Parcel.Status.PACKED})}",
        },
        {
            "count": todo.in_delivery,
            "label": _("In delivery"),
            "url": f"{parcels}?{urlencode({STATUS_PARAM: Parcel.Status.PICKED_UP})}",
        },
        {
            "count": todo.cod_to_hand_over,
            "label": _("Cash on delivery to hand over"),
            "hint": fulfilment.money(todo.cod_amount),
            "url": reverse("handovers:post-office"),
        },
    ]
    pages = [
        {"label": _("Parcels"), "url": parcels},
        {"label": _("Members in your province"), "url": reverse("farmers:members")},
        # No "register a member": the post office registers nobody (farmers.scope).
        {
            "label": _("Products of producers in your province"),
            "url": reverse("farmers:listings"),
            "hint": _("%(count)s producers") % {"count": todo.producers},
        },
    ]
    return render(
        request,
        "marketplace/fulfilment/post_home.html",
        {"office": scope.organisation, "todo": todo, "tasks": tasks, "pages": pages},
    )
