"""Cash on delivery handed over by the post office (marketplace.finance.handovers): the post
office's page (what it holds, hand it over, the handovers so far and a printable slip of
each) and the operator's page (handovers to confirm, with the reference of the money
received)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.core.access import operator_required, post_office_required
from marketplace.core.money import format_dong
from marketplace.finance import handovers
from marketplace.models import CodHandover

PER_PAGE = 20


def _page(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


@post_office_required
def post_office(request, scope):
    """What the post office holds and its handovers (the operator sees every one)."""
    waiting = handovers.cash_to_hand_over(request.user, scope=scope)
    return render(
        request,
        "marketplace/handovers/post_office.html",
        {
            "office": scope.organisation,
            "may_hand_over": scope.is_post_office,
            "waiting": waiting.select_related("order", "partner")[:200],
            "waiting_totals": handovers.totals(waiting),
            "page": _page(request, handovers.handovers_of(request.user, scope=scope)),
        },
    )


@require_POST
@post_office_required
def create(request, scope):
    try:
        handover = handovers.create_handover(by=request.user)
    except handovers.HandoverError as exc:
        messages.error(request, str(exc))
        return redirect("handovers:post-office")
    messages.success(
        request,
        _("Handover %(number)s of %(amount)s recorded: print the slip and hand over the cash.")
        % {"number": handover.pk, "amount": format_dong(handover.amount)},
    )
    return redirect("handovers:slip", pk=handover.pk)


@post_office_required
def slip(request, scope, pk):
    """A printable slip of one handover: its parcels and their cash."""
    handover = get_object_or_404(handovers.handovers_of(request.user, scope=scope), pk=pk)
    parcels = handover.parcels.select_related("order", "partner").order_by("pk")
    return render(
        request, "marketplace/handovers/slip.html", {"handover": handover, "parcels": parcels}
    )


@operator_required
def to_confirm(request):
    """The operator's list: handovers not confirmed first, then the rest."""
    rows = handovers.handovers_of(request.user).order_by("received_at", "-created", "-pk")
    return render(request, "marketplace/handovers/operator.html", {"page": _page(request, rows)})


@require_POST
@operator_required
def confirm(request, pk):
    handover = get_object_or_404(CodHandover, pk=pk)
    try:
        handovers.confirm_receipt(
            handover=handover, by=request.user, reference=request.POST.get("reference", "")
        )
    except handovers.HandoverError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(amount)s from the post office recorded as received.")
            % {"amount": format_dong(handover.amount)},
        )
    return redirect("handovers:operator")
