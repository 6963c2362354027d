"""Pre-order pages. Thin: rules in marketplace.preorders.services, reads in selectors.

- the producer (seller channel), or association staff and the operator for the producers
  in their scope (marketplace.core.scope): windows, opening one, a window's pre-orders,
  closing it early, converting it; a window of a producer out of reach → 404; anyone else
  (a buyer, the post office) → 403.
- the buyer: a window's page (pre-order there), their pre-orders (cancel until
  conversion); another buyer's pre-order → 404.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.access import producer_of
from marketplace.core.money import format_dong
from marketplace.core.numbers import parse_id
from marketplace.core.scope import scope_of
from marketplace.models import Preorder, PreorderWindow, ProducerProfile
from marketplace.preorders import selectors, services
from marketplace.preorders.forms import ConvertForm, PreorderForm, WindowForm


def producers_required(view):
    """The caller's producers: their own shop, or (association staff, the operator) the
    producers in their scope, as partner ids; the view receives them."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        producer = producer_of(request.user)
        if producer is not None:
            partner_ids = [producer.partner_id]
        else:
            scope = scope_of(request.user)
            if not (scope.everything or scope.is_association):
                raise PermissionDenied
            partner_ids = list(
                scope.producers(ProducerProfile.objects.all()).values_list("partner_id", flat=True)
            )
        return view(request, partner_ids, *args, **kwargs)

    return wrapped


def _own_window(partner_ids, pk) -> PreorderWindow:
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    return get_object_or_404(
        PreorderWindow.objects.select_related("product", "partner"),
        pk=pk,
        partner_id__in=partner_ids,
    )


@producers_required
def producer_windows(request, partner_ids):
    return render(
        request,
        "marketplace/preorders/producer_windows.html",
        {"windows": list(selectors.windows_of(partner_ids)), "several": len(partner_ids) != 1},
    )


@producers_required
def open_window(request, partner_ids):
    form = WindowForm(request.POST or None, partner_ids=partner_ids)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        partner = form.partner_of(data["product"])
        try:
            window = services.open_window(partner=partner, by=request.user, **data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("Pre-orders are open for %(title)s.") % {"title": window.product.get_title()},
            )
            return redirect("preorders:producer-window", pk=window.pk)
    return render(request, "marketplace/preorders/open_window.html", {"form": form})


@producers_required
def producer_window(request, partner_ids, pk):
    window = _own_window(partner_ids, pk)
    lots = services.lot_choices(window)
    return render(
        request,
        "marketplace/preorders/producer_window.html",
        {
            "window": window,
            "preorders": list(selectors.window_preorders(window)),
            "taken": services.taken(window),
            "convert_form": ConvertForm(lots=lots, initial={"quantity": services.taken(window)}),
            "lots": lots,
        },
    )


@require_POST
@producers_required
def close_window(request, partner_ids, pk):
    window = _own_window(partner_ids, pk)
    try:
        services.close_window(window=window, by=request.user)
    except services.PreorderRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Pre-orders are closed; those placed wait for the harvest."))
    return redirect("preorders:producer-window", pk=window.pk)


@require_POST
@producers_required
def convert_window(request, partner_ids, pk):
    window = _own_window(partner_ids, pk)
    form = ConvertForm(request.POST, lots=services.lot_choices(window))
    if not form.is_valid():
        messages.error(request, _("Choose the lot and enter the quantity harvested."))
        return redirect("preorders:producer-window", pk=window.pk)
    try:
        result = services.convert(
            window=window,
            lot_id=form.cleaned_data["lot"],
            quantity=form.cleaned_data["quantity"],
            by=request.user,
        )
    except services.PreorderRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(orders)s orders to pack; %(cancelled)s pre-orders cancelled and refunded.")
            % {"orders": len(result.filled), "cancelled": len(result.unfilled)},
        )
    return redirect("preorders:producer-window", pk=window.pk)


# --- Buyers ---------------------------------------------------------------------------------


def window_page(request, pk):
    pk = parse_id(pk)
    window = selectors.public_window(pk) if pk is not None else None
    if window is None:
        raise Http404
    methods = services.deposit_methods() if window.takes_deposit else []
    form = None
    if request.user.is_authenticated and window.status == PreorderWindow.Status.OPEN:
        form = PreorderForm(request.POST or None, user=request.user, window=window, methods=methods)
        if request.method == "POST" and form.is_valid():
            try:
                preorder = services.place_preorder(
                    window=window,
                    user=request.user,
                    quantity=form.cleaned_data["quantity"],
                    method=form.cleaned_data.get("method", ""),
                    address=form.cleaned_data["address"],
                )
            except services.PreorderRefused as exc:
                form.add_error(None, str(exc))
            else:
                if preorder.deposit_order_id:
                    messages.success(
                        request,
                        _("Pre-order placed. Pay the deposit of %(amount)s to keep it.")
                        % {"amount": format_dong(preorder.deposit)},
                    )
                    return redirect(_deposit_url(preorder))
                messages.success(request, _("Pre-order placed: you pay on delivery."))
                return redirect("preorders:mine")
    elif request.method == "POST":
        raise Http404
    return render(
        request,
        "marketplace/preorders/window.html",
        {
            "window": window,
            "form": form,
            "left": max(window.cap - (window.taken_total or 0), 0),
            "deposit_per_unit": services.deposit_for(
                price=window.price, quantity=1, percent=window.deposit_percent
            ),
            "has_address": form is not None and form.fields["address"].queryset.exists(),
        },
    )


def _deposit_url(preorder) -> str:
    order = preorder.deposit_order
    if preorder.method == Preorder.Method.CARD:
        return reverse("payments:card", kwargs={"number": order.number})
    return reverse("customer:order", kwargs={"order_number": order.number})


@login_required
def my_preorders(request):
    rows = list(selectors.preorders_of(request.user))
    for row in rows:
        row.deposit_url = _deposit_url(row) if row.deposit_order_id else ""
    return render(request, "marketplace/preorders/mine.html", {"preorders": rows})


@require_POST
@login_required
def cancel(request, pk):
    pk = parse_id(pk)
    preorder = get_object_or_404(Preorder, pk=pk, user=request.user) if pk else None
    if preorder is None:
        raise Http404
    try:
        services.cancel_preorder(preorder=preorder, by=request.user)
    except services.PreorderRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Pre-order cancelled. A deposit paid is refunded."))
    return redirect("preorders:mine")
