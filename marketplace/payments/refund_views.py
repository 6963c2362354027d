"""The operator's refund page: never more than was paid. The rules are the services of
marketplace.payments.refunds (``refund_card`` locks the order's payment source while it
asks Stripe, so two refunds at once cannot together exceed what was paid, and the
``charge.refunded`` webhook, which waits for the lock, adds nothing).

The page (operator only: anonymous → sign in, anyone else → 403, an unknown order → 404)
shows paid, refunded and refundable amounts, the refunds so far and the form: a card order
is refunded through Stripe; any other (VietQR, collected cash on delivery) gets a pending
refund the operator transfers from a banking app (a VietQR code for the buyer's account
is shown on request) and records with the bank reference. The order's parcels are listed
with a form to cancel those still at the producer.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.core.access import operator_required
from marketplace.core.banks import BANKS
from marketplace.core.money import format_dong, parse_dong
from marketplace.fulfilment.cancellations import cancel_refusal
from marketplace.fulfilment.forms import BuyerCancelForm
from marketplace.models import Parcel, Refund
from marketplace.payments import refunds
from marketplace.payments.refunds import (
    RefundFailed,
    RefundRefused,
    pending_total,
    refund_card,
    refundable_of,
)
from marketplace.payments.state import CARD, payment_state

__all__ = ["RefundFailed", "RefundRefused", "refund_card", "refund_page", "transfer_back"]

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
    goods_of = forms.TypedChoiceField(
        label=_("Whose goods are refunded?"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "Goods a producer delivered (damaged, missing, not as described) are charged to "
            "that producer's sale, its commission and tax too. Anything else (delivery, a "
            "goodwill gesture) is borne by the marketplace."
        ),
    )

    def __init__(self, *args, refundable=Decimal(0), delivered=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.refundable = refundable
        self.delivered = {parcel.pk: parcel for parcel in delivered}
        if self.delivered:
            self.fields["goods_of"].choices = [
                ("", gettext("Not a producer's goods: the marketplace bears it"))
            ] + [
                (
                    parcel.pk,
                    gettext("Goods of %(producer)s (delivered): charged to the producer")
                    % {"producer": parcel.partner.name},
                )
                for parcel in delivered
            ]
        else:
            del self.fields["goods_of"]

    def clean_goods_of(self):
        value = self.cleaned_data.get("goods_of")
        return self.delivered.get(value) if value is not None else None

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


class TransferBackForm(forms.Form):
    """The transfer the operator made to the buyer's account for a pending refund."""

    bank_bin = forms.ChoiceField(label=_("Buyer's bank"))
    account_number = forms.CharField(label=_("Account number"), max_length=30)
    account_name = forms.CharField(label=_("Account holder"), max_length=70)
    bank_reference = forms.CharField(
        label=_("Bank reference of the transfer"),
        max_length=100,
        required=False,
        help_text=_("As the banking app shows it once the transfer is made."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_bin"].choices = [("", "—")] + [
            (code, f"{short} — {name}") for code, short, name in BANKS
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["bank_bin"], cleaned["account_number"], cleaned["account_name"] = (
                refunds.clean_account(
                    bank_bin=cleaned.get("bank_bin"),
                    account_number=cleaned.get("account_number"),
                    account_name=cleaned.get("account_name"),
                )
            )
        except RefundRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@dataclass
class Summary:
    method: str
    card: bool
    paid: Decimal
    refunded: Decimal
    pending: Decimal
    refundable: Decimal


def summary_of(order) -> Summary:
    source = order.sources.select_related("source_type").first()
    if source is None:
        zero = Decimal(0)
        return Summary("", False, zero, zero, zero, zero)
    method = source.source_type.code
    return Summary(
        method,
        method == CARD,
        source.amount_debited,
        source.amount_refunded,
        pending_total(source),
        refundable_of(source),
    )


def refund_qr(order, refund, data) -> dict | None:
    """A VietQR code to pay `refund` into the account typed in the form (None if the
    account is not valid)."""
    from marketplace.payments import vietqr

    if "bank_bin" not in data or "account_number" not in data:
        return None
    code = vietqr.transfer_code(
        bank_bin=data["bank_bin"],
        number=data["account_number"],
        amount=refund.amount,
        purpose=f"HOAN TIEN {order.number}",
    )
    return {**code, "amount": refund.amount} if code else None


def delivered_parcels(order) -> list:
    return list(
        Parcel.objects.filter(order=order, status=Parcel.Status.DELIVERED)
        .select_related("partner")
        .order_by("pk")
    )


def _render(request, order, *, form=None, stripe_error="", transfer_forms=None, qr=None):
    summary = summary_of(order)
    if form is None:
        form = RefundForm(refundable=summary.refundable, delivered=delivered_parcels(order))
    all_refunds = list(
        Refund.objects.filter(order=order).select_related(
            "created_by", "executed_by", "parcel__partner"
        )
    )
    transfer_forms = transfer_forms or {}
    for refund in all_refunds:
        if refunds.transfer_refusal(refund) is None:
            refund.transfer_form = transfer_forms.get(refund.pk) or TransferBackForm(
                prefix=f"r{refund.pk}"
            )
            refund.qr = qr if qr and qr.get("refund") == refund.pk else None
    parcels = list(Parcel.objects.filter(order=order).select_related("partner").order_by("pk"))
    for parcel in parcels:
        parcel.operator_may_cancel = cancel_refusal(parcel, Parcel.Role.OPERATOR) is None
    return render(
        request,
        "marketplace/payments/refund.html",
        {
            "order": order,
            "summary": summary,
            "state": payment_state(order),
            "form": form,
            "refunds": all_refunds,
            "parcels": parcels,
            "cancel_form": BuyerCancelForm(),
            "stripe_error": stripe_error,
        },
        status=200,
    )


@operator_required
def refund_page(request, number):
    order = get_object_or_404(Order, number=number)
    summary = summary_of(order)
    form = RefundForm(
        request.POST or None, refundable=summary.refundable, delivered=delivered_parcels(order)
    )
    stripe_error = ""
    if request.method == "POST" and summary.method and form.is_valid():
        parcel = form.cleaned_data.get("goods_of")
        try:
            refund = refunds.refund(
                order=order,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                parcel=parcel,
                charges_producer=parcel is not None,
            )
        except RefundRefused as exc:
            form.add_error("amount", str(exc))
        except RefundFailed as exc:
            stripe_error = str(exc)
        else:
            amount = {"amount": format_dong(refund.amount)}
            if refund.method == Refund.Method.TRANSFER:
                messages.info(
                    request,
                    gettext(
                        "%(amount)s is to be transferred back to the buyer: make the transfer, "
                        "then record it below."
                    )
                    % amount,
                )
            elif refund.status == Refund.Status.SUCCEEDED:
                messages.success(
                    request, gettext("%(amount)s refunded to the buyer's card.") % amount
                )
            else:
                messages.info(
                    request,
                    gettext(
                        "Stripe is processing the refund of %(amount)s; the order shows it "
                        "once Stripe confirms."
                    )
                    % amount,
                )
            return redirect("payments:refund", number=order.number)
    return _render(request, order, form=form, stripe_error=stripe_error)


@operator_required
@require_POST
def cancel_transfer(request, number, pk):
    """Withdraw a transfer back not made yet (with the reason)."""
    order = get_object_or_404(Order, number=number)
    refund = get_object_or_404(Refund, order=order, pk=pk)
    try:
        refunds.cancel_transfer_refund(
            refund=refund, by=request.user, reason=request.POST.get("reason", "")
        )
    except RefundRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            gettext("The refund of %(amount)s is cancelled: nothing is to be transferred.")
            % {"amount": format_dong(refund.amount)},
        )
    return redirect("payments:refund", number=order.number)


@operator_required
@require_POST
def transfer_back(request, number, pk):
    order = get_object_or_404(Order, number=number)
    refund = get_object_or_404(Refund, order=order, pk=pk)
    form = TransferBackForm(request.POST, prefix=f"r{refund.pk}")
    if form.is_valid():
        if "show_qr" in request.POST:
            qr = refund_qr(order, refund, form.cleaned_data)
            if qr is not None:
                qr["refund"] = refund.pk
            return _render(request, order, transfer_forms={refund.pk: form}, qr=qr)
        if not form.cleaned_data["bank_reference"].strip():
            form.add_error("bank_reference", gettext("Enter the bank reference of the transfer."))
        else:
            try:
                refunds.record_transfer_back(refund=refund, by=request.user, **form.cleaned_data)
            except RefundRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("The transfer of %(amount)s to the buyer is recorded.")
                    % {"amount": format_dong(refund.amount)},
                )
                return redirect("payments:refund", number=order.number)
    return _render(request, order, transfer_forms={refund.pk: form})
