"""The payment step of Oscar's checkout: cash on delivery (the default) or a VietQR bank
transfer. Card payment through Stripe is added when its keys are configured (not yet).

Oscar's flow is kept: the payment-details page posts the choice to the preview page, the
choice is kept in the checkout session (it is not sensitive), and "Place order" re-checks
it against the order total computed on the server before ``handle_payment`` records it:

- cash on delivery: a payment source "Cash on delivery" for the order total, nothing
  debited yet (the post office collects it);
- VietQR: a payment source "VietQR bank transfer" for the total, with the order number
  as its reference (the buyer types nothing: the QR code carries amount and reference);
  the thank-you page shows the code and the account in text.
"""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout.views import PaymentDetailsView as OscarPaymentDetailsView
from oscar.apps.checkout.views import ThankYouView as OscarThankYouView
from oscar.core.loading import get_model

from marketplace.models import MarketplaceSettings

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

COD, VIETQR = "cod", "vietqr"
LABELS = {COD: _("Cash on delivery"), VIETQR: _("VietQR bank transfer")}
HELP = {
    COD: _("Pay the post office in cash when the parcels arrive."),
    VIETQR: _(
        "Scan the QR code with your bank's app after placing the order: amount and "
        "order number are filled in for you."
    ),
}
SOURCE_CODES = {COD: "cod", VIETQR: "vietqr"}
SESSION_KEY = "method"


def unavailable(code, total, settings_row=None) -> str:
    """Why `code` cannot pay `total` ("" when it can)."""
    settings_row = settings_row or MarketplaceSettings.load()
    if code == COD:
        limit = settings_row.cod_max_amount
        if limit is not None and total is not None and total > limit:
            return gettext(
                "Cash on delivery is available for orders up to %(limit)s ₫; "
                "please pay by bank transfer."
            ) % {"limit": f"{limit:,}".replace(",", ".")}
        return ""
    if code == VIETQR:
        return "" if settings_row.vietqr_ready else gettext("Bank transfer is not available.")
    return gettext("Unknown payment method.")


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(label=_("How will you pay?"), widget=forms.RadioSelect)

    def __init__(self, *args, total=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = total
        self.settings_row = MarketplaceSettings.load()
        self.fields["method"].choices = [
            (code, LABELS[code])
            for code in (COD, VIETQR)
            if code != VIETQR or self.settings_row.vietqr_ready
        ]
        self.help = HELP

    def clean_method(self):
        code = self.cleaned_data["method"]
        reason = unavailable(code, self.total, self.settings_row)
        if reason:
            raise forms.ValidationError(reason)
        return code


class PaymentDetailsView(OscarPaymentDetailsView):
    template_name = "marketplace/checkout/payment_details.html"
    template_name_preview = "marketplace/checkout/preview.html"

    def _total(self):
        basket = self.request.basket
        shipping_address = self.get_shipping_address(basket)
        method = self.get_shipping_method(basket, shipping_address)
        if method is None:
            return None
        charge = method.calculate(basket)
        total = self.get_order_totals(basket, shipping_charge=charge)
        return total.incl_tax

    def chosen_method(self):
        return self.checkout_session._get("payment", SESSION_KEY)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "payment_form" not in kwargs:
            context["payment_form"] = PaymentMethodForm(
                total=self._total(), initial={"method": self.chosen_method() or COD}
            )
        chosen = self.chosen_method()
        context["payment_method_label"] = LABELS.get(chosen, "")
        context["payment_method_help"] = HELP.get(chosen, "")
        return context

    def handle_payment_details_submission(self, request):
        form = PaymentMethodForm(request.POST, total=self._total())
        if not form.is_valid():
            return self.render_payment_details(request, payment_form=form)
        self.checkout_session._set("payment", SESSION_KEY, form.cleaned_data["method"])
        return self.render_preview(request, payment_form=form)

    def handle_place_order_submission(self, request):
        chosen = self.chosen_method()
        form = PaymentMethodForm({"method": chosen or ""}, total=self._total())
        if not form.is_valid():
            # The basket, the address or the operator's limits changed since: choose again.
            return self.render_payment_details(request, payment_form=form)
        return super().handle_place_order_submission(request)

    def handle_payment(self, order_number, total, **kwargs):
        chosen = self.chosen_method() or COD
        source_type, _created = SourceType.objects.get_or_create(
            code=SOURCE_CODES[chosen], defaults={"name": str(LABELS[chosen])}
        )
        source = Source(
            source_type=source_type,
            currency=total.currency,
            amount_allocated=total.incl_tax,
            reference=order_number if chosen == VIETQR else "",
        )
        # Nothing is paid yet: the post office collects the cash, or the transfer arrives
        # later (staff mark it received); those are recorded as payment events then.
        self.add_payment_source(source)

    def save_payment_details(self, order):
        super().save_payment_details(order)
        if (self.chosen_method() or COD) == COD:
            from marketplace.parcels import set_cash_on_delivery

            set_cash_on_delivery(order)

    def send_order_placed_email(self, order):
        # E-mail and SMS go through Celery once the order is committed.
        from marketplace import notifications

        notifications.order_placed(order)


def vietqr_for(order, settings_row=None) -> dict | None:
    """What the buyer needs to pay `order` by transfer: the payload, the QR code as inline
    SVG, and the account in text. None unless the order is paid by VietQR."""
    from . import vietqr

    source = next(
        (s for s in order.sources.all() if s.source_type.code == SOURCE_CODES[VIETQR]), None
    )
    settings_row = settings_row or MarketplaceSettings.load()
    if source is None or not settings_row.vietqr_ready:
        return None
    amount = int(source.amount_allocated)
    text = vietqr.payload(
        vietqr.Account(bank_bin=settings_row.bank_bin, number=settings_row.bank_account_number),
        amount=amount,
        purpose=order.number,
    )
    return {
        "payload": text,
        "svg": qr_svg(text),
        "amount": amount,
        "reference": vietqr.clean_purpose(order.number),
        "bank_name": settings_row.bank_name,
        "account_number": settings_row.bank_account_number,
        "account_name": settings_row.bank_account_name,
    }


def qr_svg(text: str) -> str:
    """A QR code (error correction M, 4-module quiet zone) as one SVG path."""
    import qrcode
    import qrcode.image.svg

    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        box_size=10,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(text)
    return qr.make_image().to_string(encoding="unicode")


class ThankYouView(OscarThankYouView):
    template_name = "marketplace/checkout/thank_you.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order = context.get("order")
        context["vietqr"] = vietqr_for(order) if order is not None else None
        return context
