"""The payment step of Oscar's checkout: cash on delivery (the default), a VietQR bank
transfer, or a card through Stripe when its keys are configured.

One page confirms the order: the payment-details page shows where it goes, what is in it,
its totals and the methods, and its "Place order" posts the chosen method with the order
(Oscar's separate preview step only repeated that page: the preview address shows the same
page). The choice is kept in the checkout session (it is not sensitive) and checked
against the order total computed on the server before ``handle_payment`` records it:

- cash on delivery: a payment source "Cash on delivery" for the order total, nothing
  debited yet (the post office collects it);
- VietQR: a payment source "VietQR bank transfer" for the total, with the order number
  as its reference (the buyer types nothing: the QR code carries amount and reference);
  the thank-you page shows the code and the account in text;
- card: a Stripe PaymentIntent for the total is created server-side (idempotent per order
  number) before the order is written; if Stripe refuses or cannot be reached the buyer
  stays on the preview page with a clear message and no order is placed. The order then has
  a payment source "Card" whose reference is the PaymentIntent id, nothing debited: the
  buyer pays on the card page (``card_payment`` below) and only Stripe's signed webhook
  marks it paid (``webhooks``).
"""

from csp.decorators import csp_update
from django import forms
from django.conf import settings as django_settings
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from oscar.apps.checkout.views import PaymentDetailsView as OscarPaymentDetailsView
from oscar.apps.checkout.views import ThankYouView as OscarThankYouView
from oscar.core.loading import get_class, get_model

from marketplace.core.money import format_dong
from marketplace.core.prepared import as_prefetched
from marketplace.core.transactions import own_transactions, reads_on_get
from marketplace.models import MarketplaceSettings
from marketplace.payments import selectors, stripe_gateway
from marketplace.payments.labels import CARD, COD, METHOD_LABELS, VIETQR
from marketplace.payments.stripe_gateway import card_ready

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
PaymentError = get_class("payment.exceptions", "PaymentError")

METHODS = (COD, VIETQR, CARD)
LABELS = METHOD_LABELS  # how each method is named (marketplace.payments.labels)
HELP = {
    COD: _("Pay the post office in cash when the parcels arrive."),
    VIETQR: _(
        "Scan the QR code with your bank's app after placing the order: amount and "
        "order number are filled in for you."
    ),
    CARD: _(
        "After placing the order you pay on a secure Stripe form; the order is confirmed "
        "once Stripe confirms the payment."
    ),
}
SOURCE_CODES = {COD: "cod", VIETQR: "vietqr", CARD: "stripe"}
SESSION_KEY = "method"


def unavailable(code, total, settings_row=None) -> str:
    """Why `code` cannot pay `total` ("" when it can)."""
    settings_row = settings_row or MarketplaceSettings.load()
    if code == COD:
        limit = settings_row.cod_max_amount
        if limit is not None and total is not None and total > limit:
            return gettext(
                "Cash on delivery is available for orders up to %(limit)s; "
                "please pay by bank transfer."
            ) % {"limit": format_dong(limit)}
        return ""
    if code == VIETQR:
        return "" if settings_row.vietqr_ready else gettext("Bank transfer is not available.")
    if code == CARD:
        return "" if card_ready() else gettext("Card payment is not available.")
    return gettext("Unknown payment method.")


def offered(settings_row) -> list[str]:
    """The methods shown on the payment step (COD is always shown; its limit is checked
    when chosen)."""
    ready = {COD: True, VIETQR: settings_row.vietqr_ready, CARD: card_ready()}
    return [code for code in METHODS if ready[code]]


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(label=_("How will you pay?"), widget=forms.RadioSelect)

    def __init__(self, *args, total=None, settings_row=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = total
        self.settings_row = settings_row or MarketplaceSettings.load()
        # Every known method validates (so one not offered gets its reason from
        # clean_method); only those offered are shown.
        self.fields["method"].choices = [(code, LABELS[code]) for code in METHODS]
        self.fields["method"].widget.choices = [
            (code, LABELS[code]) for code in offered(self.settings_row)
        ]
        self.help = HELP

    def clean_method(self):
        code = self.cleaned_data["method"]
        reason = unavailable(code, self.total, self.settings_row)
        if reason:
            raise forms.ValidationError(reason)
        return code


def payment_source(code: str, total, reference: str = ""):
    """An unsaved payment source of method `code` for the whole `total` (its source type
    created with its label the first time)."""
    source_type, _created = SourceType.objects.get_or_create(
        code=SOURCE_CODES[code], defaults={"name": str(LABELS[code])}
    )
    return Source(
        source_type=source_type,
        currency=total.currency,
        amount_allocated=total.incl_tax,
        reference=reference,
    )


# Its own transactions: the page and the checks before placing only read, and the card
# payment is asked of Stripe before anything is written, outside any transaction (on
# SQLite one holds every writer of the site); the order is written in one transaction
# (handle_order_placement), the basket frozen and thawed by Oscar in their own.
@own_transactions
class PaymentDetailsView(OscarPaymentDetailsView):
    template_name = "marketplace/checkout/payment_details.html"
    # One confirmation page: what Oscar's preview showed is on the payment page.
    template_name_preview = template_name

    def settings_row(self):
        """The operator's payment settings (from the cache until the row is saved, as the
        delivery quote's free-delivery threshold)."""
        return MarketplaceSettings.load()

    def get_shipping_address(self, basket):
        from marketplace.fulfilment.shipping import with_country

        return with_country(super().get_shipping_address(basket))

    def _total(self, submission=None):
        """What the order comes to (incl. tax), as Oscar's submission works it out (None
        while no delivery method applies); `submission` when it is built already."""
        total = (submission or self.build_submission())["order_total"]
        return None if total is None else total.incl_tax

    def chosen_method(self):
        return self.checkout_session._get("payment", SESSION_KEY)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "payment_form" not in kwargs:
            context["payment_form"] = PaymentMethodForm(
                total=self._total(context),
                initial={"method": self.chosen_method() or COD},
                settings_row=self.settings_row(),
            )
        return context

    def handle_payment_details_submission(self, request):
        form = PaymentMethodForm(
            request.POST, total=self._total(), settings_row=self.settings_row()
        )
        if not form.is_valid():
            return self.render_payment_details(request, payment_form=form)
        self.checkout_session._set("payment", SESSION_KEY, form.cleaned_data["method"])
        return self.render_preview(request, payment_form=form)

    def handle_place_order_submission(self, request):
        # The method comes with the order from the confirmation page; a form posted before
        # it (a page kept open across a release) placed it with the method chosen earlier.
        posted = "method" in request.POST
        submission = self.build_submission()
        form = PaymentMethodForm(
            request.POST if posted else {"method": self.chosen_method() or ""},
            total=self._total(submission),
            settings_row=self.settings_row(),
        )
        if not form.is_valid():
            # Not offered, over the cash limit, or the basket, the address or the operator's
            # limits changed since: the buyer chooses again, nothing is placed.
            return self.render_payment_details(request, payment_form=form)
        if posted:
            self.checkout_session._set("payment", SESSION_KEY, form.cleaned_data["method"])
        return self.submit(**submission)

    # Oscar shows its own generic text when handle_payment raises PaymentError; a card
    # refused by Stripe gets a message saying what happened and what to do instead.
    _payment_error_message = ""

    def render_preview(self, request, **kwargs):
        if self._payment_error_message and kwargs.get("error"):
            kwargs["error"] = self._payment_error_message
        return super().render_preview(request, **kwargs)

    def handle_payment(self, order_number, total, **kwargs):
        chosen = self.chosen_method() or COD
        reference = order_number if chosen == VIETQR else ""
        if chosen == CARD:
            reference = self.create_payment_intent(order_number, total)
        source = payment_source(chosen, total, reference)
        # Nothing is paid yet: the post office collects the cash, the transfer arrives
        # later (staff mark it received), or Stripe confirms the card by webhook; those are
        # recorded as payment events then.
        self.add_payment_source(source)

    def create_payment_intent(self, order_number, total) -> str:
        """The id of a new PaymentIntent for the order total, or PaymentError (the order is
        not placed and the basket is restored by Oscar)."""
        unable = gettext(
            "Card payment is not available right now, so your order was not placed and "
            "nothing was charged. Please try again in a few minutes, or choose cash on "
            "delivery or bank transfer."
        )
        if not card_ready() or (total.currency or "").upper() != "VND":
            self._payment_error_message = unable
            raise PaymentError("card payment not configured or not in VND")
        try:
            intent = stripe_gateway.create_payment_intent(
                order_number=order_number, amount=total.incl_tax
            )
        except (stripe_gateway.GatewayError, ValueError) as exc:
            self._payment_error_message = unable
            raise PaymentError(str(exc)) from exc
        self._card_order_number = order_number
        return intent["id"]

    def get_success_url(self):
        number = getattr(self, "_card_order_number", None)
        if number:
            # The buyer pays on the card page right away.
            return reverse("payments:card", kwargs={"number": number})
        return super().get_success_url()

    def handle_order_placement(
        self,
        order_number,
        user,
        basket,
        shipping_address,
        shipping_method,
        shipping_charge,
        billing_address,
        order_total,
        surcharges=None,
        **kwargs,
    ):
        """Oscar's (the order written, the basket submitted, then what follows a successful
        order), with the order's stock reserved last (orders.reserve_stock_of): its stock
        records, which every buyer of those products waits for, stay locked only from there
        to the commit of this transaction (the view runs outside a request transaction:
        what follows a successful order comes after it). A product short undoes the order
        with its payment details and the basket's submission (UnableToPlaceOrder: Oscar
        shows the message on the confirmation page with the basket intact)."""
        from marketplace.payments.orders import reserve_stock_of

        status, date_submitted = basket.status, basket.date_submitted
        try:
            with transaction.atomic():
                order = self.place_order(
                    order_number=order_number,
                    user=user,
                    basket=basket,
                    shipping_address=shipping_address,
                    shipping_method=shipping_method,
                    shipping_charge=shipping_charge,
                    order_total=order_total,
                    billing_address=billing_address,
                    surcharges=surcharges,
                    reserve_stock=False,
                    # Its parcels written collecting what they carry when paid on delivery.
                    cash_on_delivery=(self.chosen_method() or COD) == COD,
                    **kwargs,
                )
                basket.submit()
                reserve_stock_of(order)
                # What the after-commit work (run as this block ends) reads of the order,
                # its lines, is what was written.
                as_prefetched(order, "lines", order.placed_lines)
        except Exception:
            # Undone with the transaction: the basket as it was (Oscar then restores it).
            basket.status, basket.date_submitted = status, date_submitted
            raise
        return self.handle_successful_order(order)

    def handle_successful_order(self, order):
        response = super().handle_successful_order(order)
        if order.user_id is None:
            # The guest who placed it may open its order-status page (the thank-you page
            # links it); remembered with the order in this request's session.
            from marketplace.accounts import guest_orders

            guest_orders.remember(self.request.session, order)
        if not self.request.user.is_authenticated:
            # The browser's basket went with the order: its cookie goes now (Oscar's
            # basket middleware would look the submitted basket up on the next page to
            # learn that), and a new basket starts empty.
            self.request.cookies_to_delete.append(django_settings.OSCAR_BASKET_COOKIE_OPEN)
            self.request.basket = get_model("basket", "Basket")()
        return response

    def send_order_placed_email(self, order):
        # E-mail and SMS go through Celery once the order is committed.
        from marketplace.fulfilment import notifications

        notifications.order_placed(order)


def vietqr_for(order, settings_row=None) -> dict | None:
    """What the buyer needs to pay `order` by transfer: the payload, the QR code as inline
    SVG, and the account in text. None unless the order is paid by VietQR."""
    from marketplace.payments import vietqr

    source = next(
        (s for s in order.sources.all() if s.source_type.code == SOURCE_CODES[VIETQR]), None
    )
    settings_row = settings_row or MarketplaceSettings.load()
    if source is None or not settings_row.vietqr_ready:
        return None
    # What is still owed (a converted pre-order's deposit may have paid part of it).
    from marketplace.payments.state import due_of

    amount = int(due_of(source))
    if amount <= 0:
        return None
    text = vietqr.payload(
        vietqr.Account(bank_bin=settings_row.bank_bin, number=settings_row.bank_account_number),
        amount=amount,
        purpose=order.number,
    )
    return {
        "payload": text,
        "svg": vietqr.qr_svg(text),
        "amount": amount,
        "reference": vietqr.clean_purpose(order.number),
        "bank_name": settings_row.bank_name,
        "account_number": settings_row.bank_account_number,
        "account_name": settings_row.bank_account_name,
    }


@reads_on_get
class ThankYouView(OscarThankYouView):
    # The payment state, the parcels, the VietQR code or the card link: the same partial as
    # the buyer's order page (marketplace.templatetags.order_tags).
    template_name = "marketplace/checkout/thank_you.html"

    def get_context_data(self, **kwargs):
        # DetailView's: Oscar's marks the order tracked (an UPDATE of the order at every
        # first view) for the analytics event its own template sends, which ours does not.
        context = super(OscarThankYouView, self).get_context_data(**kwargs)
        context["send_analytics_event"] = False
        order = context.get("order")
        if order is not None:
            context["order_discounts"] = selectors.order_discounts(order)
            if order.user_id is None:
                # The guest who just placed it may open its order-status page from here
                # (remembered when it was placed: the session is written only if not).
                from marketplace.accounts import guest_orders

                if not guest_orders.is_known(self.request.session, order):
                    guest_orders.remember(self.request.session, order)
        return context

    def get_object(self, queryset=None):
        """Oscar's (a superuser may ask for any order), read with what the page shows of
        it (selectors.placed_order)."""
        order = None
        if self.request.user.is_superuser:
            filters = {}
            if "order_number" in self.request.GET:
                filters["number"] = self.request.GET["order_number"]
            elif "order_id" in self.request.GET:
                filters["id"] = self.request.GET["order_id"]
            if filters:
                order = selectors.placed_order(**filters)
        if not order and "checkout_order_id" in self.request.session:
            order = selectors.placed_order(pk=self.request.session["checkout_order_id"])
        return order


# --- The card payment page -------------------------------------------------------------------


def card_source(order):
    return next((s for s in order.sources.all() if s.source_type.code == CARD), None)


def buyer_order_or_404(request, number):
    """The order, if it is the caller's: their account's, or (a guest checkout) the one
    this browser session just placed. Anyone else gets 404."""
    Order = get_model("order", "Order")
    order = get_object_or_404(Order.objects.prefetch_related("sources__source_type"), number=number)
    if order.user_id is not None:
        mine = request.user.is_authenticated and request.user.pk == order.user_id
    else:
        mine = request.session.get("checkout_order_id") == order.pk
    if not mine:
        raise Http404
    return order


def last_attempt_failed(pi_id: str, intent: dict, redirect_status: str) -> bool:
    """Whether the buyer's last attempt failed: Stripe's answer when they come back from
    their bank, the PaymentIntent's last error, or the latest webhook recorded."""
    from marketplace.models import StripeEvent

    if redirect_status in ("failed", "requires_payment_method") or intent.get("last_payment_error"):
        return True
    latest = (
        StripeEvent.objects.filter(
            payment_intent=pi_id,
            type__in=["payment_intent.succeeded", "payment_intent.payment_failed"],
        )
        .order_by("-created", "-pk")
        .values_list("type", flat=True)
        .first()
    )
    return latest == "payment_intent.payment_failed"


# The card page loads Stripe.js, which talks to Stripe's API and shows its card form and
# 3-D Secure in frames: exactly these origins are added to the site's CSP on this page.
STRIPE_CSP = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


@never_cache
@csp_update(STRIPE_CSP)
def card_payment(request, number):
    """Where the buyer pays a card order: Stripe's Payment Element (Stripe.js, loaded on
    this page only) mounted with the PaymentIntent's client secret. The order stays
    awaiting payment until Stripe's webhook confirms it."""
    from marketplace.payments.state import due_of, payment_state

    order = buyer_order_or_404(request, number)
    source = card_source(order)
    if source is None:
        raise Http404
    state = payment_state(order)
    # The amount shown and charged is what is still due (a deposit order: the deposit; a
    # converted pre-order: the rest after its deposit), never simply the order total.
    due = due_of(source)
    context = {
        "order": order,
        "state": state,
        "status": "pay",
        "failed": False,
        "amount": due if due > 0 else source.amount_allocated,
    }
    if state.code == "nothing_due":  # the whole order was cancelled before it was paid
        context["status"] = "order_cancelled"
    elif state.paid >= state.allocated:
        context["status"] = "paid"
    elif not card_ready():
        context["status"] = "unavailable"
    else:
        try:
            intent = stripe_gateway.retrieve_payment_intent(source.reference)
        except stripe_gateway.GatewayError:
            context["status"] = "unreachable"
        else:
            status = intent.get("status")
            if status in stripe_gateway.AMENDABLE and intent.get("amount") != int(due):
                # Part of the order was cancelled (or the deposit counted) after the
                # PaymentIntent was made: it is brought to what is due before it is paid.
                try:
                    intent = stripe_gateway.set_payment_intent_amount(source.reference, due)
                except stripe_gateway.GatewayError:
                    intent = {"status": "unreachable"}
                status = intent.get("status")
            if status == "unreachable":
                context["status"] = "unreachable"
            elif status in ("succeeded", "processing"):
                context["status"] = "confirming"
            elif status == "canceled" or not intent.get("client_secret"):
                context["status"] = "canceled"
            else:
                context["failed"] = last_attempt_failed(
                    source.reference, intent, request.GET.get("redirect_status", "")
                )
                context["stripe"] = {
                    "publishable_key": stripe_gateway.publishable_key(),
                    "client_secret": intent["client_secret"],
                    "return_url": request.build_absolute_uri(
                        reverse("payments:card", kwargs={"number": order.number})
                    ),
                }
    return render(request, "marketplace/payments/card.html", context)
