"""The operator's refund page: never more than was paid. The rules are the services of
marketplace.payments.refunds (``refund_card`` locks the order's payment source while it
asks Stripe, so two refunds at once cannot together exceed what was paid, and the
``charge.refunded`` webhook, which waits for the lock, adds nothing).

The page (operator only: anonymous → sign in, anyone else → 403, an unknown order → 404)
shows paid, refunded and refundable amounts, the refunds so far and the form.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.core.access import operator_required
from marketplace.core.money import format_dong, parse_dong
from marketplace.models import Refund
from marketplace.payments.refunds import (
    RefundFailed,
    RefundRefused,
    pending_total,
    refund_card,
    refundable_of,
)
from marketplace.payments.state import CARD, payment_state

__all__ = ["RefundFailed", "RefundRefused", "refund_card", "refund_page"]

Order = get_model("order", "Order")
Source = get_model("payment", "Source")


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
