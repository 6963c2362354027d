"""Cancellation, failed-delivery and return pages. Thin: the rules are in
marketplace.fulfilment.cancellations and marketplace.fulfilment.services.

- the buyer cancels an order or one parcel from the order page: signed in (another
  buyer's order → 404), or as a guest through the signed order-status link (a wrong
  signature → 404);
- the producer cancels a line it cannot supply from its parcel page (another producer's
  parcel → 404);
- the operator cancels any open parcel from the order's refund page;
- the post office marks a delivery failed, then the parcel returned to the sender.

All are POST only (CSRF-protected); a refused step goes back to the page with the reason.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.accounts import guest_orders
from marketplace.core.access import operator_required, post_office_required, producer_required
from marketplace.core.money import format_dong
from marketplace.fulfilment import cancellations
from marketplace.fulfilment import services as fulfilment
from marketplace.fulfilment.forms import (
    BuyerCancelForm,
    FailedDeliveryForm,
    LineCancelForm,
    ReturnForm,
)
from marketplace.models import Parcel, Refund

Order = get_model("order", "Order")
Line = get_model("order", "Line")
Role = Parcel.Role


def _id(value) -> int | None:
    """A database id typed in a form, or None."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return _("Check the form.")


def _cancelled_message(request, order) -> None:
    refund = Refund.objects.filter(order=order).order_by("-pk").first()
    text = _("Cancelled.")
    if refund is not None and refund.status == Refund.Status.SUCCEEDED:
        text += " " + _("%(amount)s is refunded to your card.") % {
            "amount": format_dong(refund.amount)
        }
    elif refund is not None and refund.status == Refund.Status.PENDING:
        text += " " + _(
            "The marketplace will transfer %(amount)s back to you; it shows here once made."
        ) % {"amount": format_dong(refund.amount)}
    messages.success(request, text)


def _cancel(request, order, *, role, by, form, back):
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(back)
    reason = form.reason_text()
    parcel_id = request.POST.get("parcel")
    try:
        if parcel_id:
            parcel = Parcel.objects.filter(order=order, pk=_id(parcel_id)).first()
            if parcel is None:
                raise Http404
            cancellations.cancel_parcel(parcel=parcel, role=role, reason=reason, by=by)
        else:
            cancellations.cancel_order(order=order, role=role, reason=reason, by=by)
    except PermissionDenied:
        raise Http404 from None
    except cancellations.CancellationError as exc:
        messages.error(request, exc.message)
    else:
        _cancelled_message(request, order)
    return redirect(back)


@require_POST
def buyer_cancel(request, number):
    if not request.user.is_authenticated:
        raise Http404
    order = get_object_or_404(Order, number=number, user=request.user)
    back = reverse("customer:order", kwargs={"order_number": order.number})
    return _cancel(
        request,
        order,
        role=Role.BUYER,
        by=request.user,
        form=BuyerCancelForm(request.POST),
        back=back,
    )


@require_POST
def guest_cancel(request, number, hash):
    order = get_object_or_404(Order, number=number, user__isnull=True)
    # As the guest's order-status page: the signed link, in the browser that showed it
    # knows the order (marketplace.accounts.guest_orders).
    if not order.check_verification_hash(hash) or not guest_orders.is_known(request.session, order):
        raise Http404
    back = reverse("customer:anon-order", kwargs={"order_number": order.number, "hash": hash})
    return _cancel(
        request, order, role=Role.BUYER, by=None, form=BuyerCancelForm(request.POST), back=back
    )


@operator_required
@require_POST
def operator_cancel(request, number):
    order = get_object_or_404(Order, number=number)
    back = reverse("payments:refund", kwargs={"number": order.number})
    return _cancel(
        request,
        order,
        role=Role.OPERATOR,
        by=request.user,
        form=BuyerCancelForm(request.POST),
        back=back,
    )


@producer_required
@require_POST
def producer_cancel_line(request, producer, pk, line_id):
    parcel = get_object_or_404(fulfilment.producer_parcels(producer.partner), pk=pk)
    line = get_object_or_404(fulfilment.parcel_lines(parcel), pk=line_id)
    back = reverse("fulfilment:producer-parcel", kwargs={"pk": parcel.pk})
    form = LineCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(back)
    try:
        cancellations.cancel_line(line=line, reason=form.reason_text(), by=request.user)
    except PermissionDenied:
        raise Http404 from None
    except cancellations.CancellationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(product)s is cancelled; the buyer is told and refunded for it.")
            % {"product": line.title},
        )
    return redirect(back)


def _post_step(request, scope, pk, form, act, success):
    parcel = get_object_or_404(fulfilment.post_office_parcels(request.user, scope=scope), pk=pk)
    back = reverse("fulfilment:post-parcel", kwargs={"pk": parcel.pk})
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(back)
    try:
        act(parcel, form)
    except PermissionDenied:
        raise Http404 from None
    except fulfilment.FulfilmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success % {"order": parcel.order.number})
    return redirect(back)


@post_office_required
@require_POST
def post_fail(request, scope, pk):
    return _post_step(
        request,
        scope,
        pk,
        FailedDeliveryForm(request.POST),
        lambda parcel, form: fulfilment.fail_delivery(
            parcel=parcel, by=request.user, reason=form.reason_text()
        ),
        _("Order %(order)s: the failed delivery is recorded. Return the parcel to the producer."),
    )


@post_office_required
@require_POST
def post_return(request, scope, pk):
    return _post_step(
        request,
        scope,
        pk,
        ReturnForm(request.POST),
        lambda parcel, form: fulfilment.return_to_sender(
            parcel=parcel, by=request.user, fee=form.cleaned_data["fee"]
        ),
        _("Order %(order)s: the parcel is returned to the producer; its goods are back in stock."),
    )
