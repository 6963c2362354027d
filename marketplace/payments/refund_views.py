"""Card refunds by the operator, through Stripe: never more than was paid.

``refund_card`` is the service: it locks the order's payment source, checks the amount
against what is still refundable (paid − refunded − refunds Stripe is still processing),
writes a pending Refund, asks Stripe (idempotent per Refund row) and records the refund on
the order when Stripe says it succeeded — all while the source stays locked, so two
refunds at once cannot together exceed what was paid, and the ``charge.refunded`` webhook
(which waits for the lock) finds the refund already recorded and adds nothing.

The page (operator only: anonymous → sign in, anyone else → 403, an unknown order → 404)
shows paid, refunded and refundable amounts, the refunds so far and the form.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.core.access import operator_required
from marketplace.core.money import format_dong, parse_dong
from marketplace.models import Refund
from marketplace.payments import stripe_gateway
from marketplace.payments.state import CARD, payment_state, record_refund

Order = get_model("order", "Order")
Source = get_model("payment", "Source")


class RefundRefused(Exception):
    """A refund that must not be asked of Stripe; the message is for the operator."""


class RefundFailed(Exception):
    """Stripe refused or could not be reached; the Refund row is kept as failed."""

    def __init__(self, message, refund):
        super().__init__(message)
        self.refund = refund


def pending_total(source) -> Decimal:
    return Refund.objects.filter(source=source, status=Refund.Status.PENDING).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)


def refundable_of(source) -> Decimal:
    """What may still be refunded: paid, less refunded, less refunds Stripe is processing."""
    left = source.amount_debited - source.amount_refunded - pending_total(source)
    return max(left, Decimal(0))


def refund_card(*, order, amount, reason: str = "", by=None) -> Refund:
    """Refund `amount` đồng of the order's card payment through Stripe. Raises
    RefundRefused (nothing asked of Stripe) or RefundFailed (Stripe said no)."""
    amount = Decimal(amount)
    failure = None
    with transaction.atomic():
        source = (
            Source.objects.select_for_update()
            .select_related("source_type")
            .filter(order=order)
            .first()
        )
        if source is None or source.source_type.code != CARD or not source.reference:
            raise RefundRefused(gettext("This order was not paid by card."))
        if amount <= 0 or amount != amount.to_integral_value():
            raise RefundRefused(gettext("Enter a whole number of đồng greater than zero."))
        refundable = refundable_of(source)
        if amount > refundable:
            raise RefundRefused(
                gettext("At most %(amount)s can be refunded on this order.")
                % {"amount": format_dong(refundable)}
            )
        refund = Refund.objects.create(
            order=order, source=source, amount=amount, reason=reason[:255], created_by=by
        )
        try:
            answer = stripe_gateway.create_refund(
                payment_intent_id=source.reference, amount=amount, refund_pk=refund.pk
            )
        except stripe_gateway.GatewayError as exc:
            refund.status = Refund.Status.FAILED
            refund.save(update_fields=["status"])
            failure = exc.message
        else:
            refund.stripe_refund_id = answer.get("id") or None
            status = answer.get("status")
            if status == "succeeded":
                refund.status = Refund.Status.SUCCEEDED
                record_refund(order, amount=amount, reference=refund.stripe_refund_id or "")
            elif status in ("failed", "canceled"):
                refund.status = Refund.Status.FAILED
                failure = answer.get("failure_reason") or status
            refund.save(update_fields=["stripe_refund_id", "status"])
    if failure is not None:
        raise RefundFailed(failure, refund)
    return refund


# --- The page ------------------------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount to refund (đồng)"),
        max_length=20,
        help_text=_("Whole đồng, for example 50000 or 50.000."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args, refundable=Decimal(0), **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable = refundable

    def clean_amount(self):
        try:
            amount = Decimal(parse_dong(self.cleaned_data["amount"]))
        except forms.ValidationError as exc:
            if exc.code == "too_large":  # more than anyone paid: say what may be refunded
                amount = self.refundable + 1
            else:
                raise forms.ValidationError(
                    gettext("Enter a whole number of đồng, for example 50000.")
                ) from None
        if amount <= 0:
            raise forms.ValidationError(gettext("The amount must be greater than zero."))
        if amount > self.refundable:
            raise forms.ValidationError(
                gettext("At most %(amount)s can be refunded on this order.")
                % {"amount": format_dong(self.refundable)}
            )
        return amount


@dataclass
class Summary:
    card: bool
    paid: Decimal
    refunded: Decimal
    pending: Decimal
    refundable: Decimal


def summary_of(order) -> Summary:
    source = order.sources.select_related("source_type").first()
    if source is None or source.source_type.code != CARD:
        zero = Decimal(0)
        paid = source.amount_debited if source else zero
        refunded = source.amount_refunded if source else zero
        return Summary(False, paid, refunded, zero, zero)
    return Summary(
        True,
        source.amount_debited,
        source.amount_refunded,
        pending_total(source),
        refundable_of(source),
    )


@operator_required
def refund_page(request, number):
    order = get_object_or_404(Order, number=number)
    summary = summary_of(order)
    form = RefundForm(request.POST or None, refundable=summary.refundable)
    stripe_error = ""
    if request.method == "POST" and summary.card and form.is_valid():
        try:
            refund = refund_card(
                order=order,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except RefundRefused as exc:
            form.add_error("amount", str(exc))
        except RefundFailed as exc:
            stripe_error = str(exc)
        else:
            if refund.status == Refund.Status.SUCCEEDED:
                messages.success(
                    request,
                    gettext("%(amount)s refunded to the buyer's card.")
                    % {"amount": format_dong(refund.amount)},
                )
            else:
                messages.info(
                    request,
                    gettext(
                        "Stripe is processing the refund of %(amount)s; the order shows it "
                        "once Stripe confirms."
                    )
                    % {"amount": format_dong(refund.amount)},
                )
            return redirect("payments:refund", number=order.number)
        summary = summary_of(order)
    refunds = Refund.objects.filter(order=order).select_related("created_by")
    return render(
        request,
        "marketplace/payments/refund.html",
        {
            "order": order,
            "summary": summary,
            "state": payment_state(order),
            "form": form,
            "refunds": refunds,
            "stripe_error": stripe_error,
        },
        status=200,
    )
