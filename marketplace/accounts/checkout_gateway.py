"""Oscar's checkout gateway ("who are you?") and its address step.

The gateway takes an e-mail or a Vietnamese phone number in one box
(marketplace.accounts.guest_orders.guest_contact): a guest may continue with either; a
returning customer signs in with either (marketplace.accounts.forms.login_name), and the
request goes to the sign-in form so that wrong passwords there count toward the lock too
(marketplace.accounts.lockout); creating an account needs an e-mail. A guest's phone fills
in the delivery address's phone.

The address step goes straight on to payment when the basket and address have one delivery
method (Vietnam Post's, whenever its rates are complete): Oscar's delivery-method and
payment-method steps would only record that method and redirect twice, two more round
trips on a phone's connection.
"""

from django.shortcuts import redirect
from django.urls import reverse
from oscar.apps.checkout import signals
from oscar.apps.checkout.views import IndexView as OscarIndexView
from oscar.apps.checkout.views import ShippingAddressView as OscarShippingAddressView
from oscar.core.loading import get_class

from marketplace.accounts import guest_orders
from marketplace.accounts.gateway_forms import GatewayForm
from marketplace.core import phones
from marketplace.core.transactions import own_transactions

Repository = get_class("shipping.repository", "Repository")


# Outside a request transaction (marketplace.core.transactions): what the buyer gives here
# goes into the session, which its middleware saves after the view; signing in writes its
# rows one statement each. On SQLite a request transaction held every writer meanwhile.
@own_transactions
class IndexView(OscarIndexView):
    form_class = GatewayForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        phone = guest_orders.guest_phone(self.checkout_session)
        if phone and not self.checkout_session.get_guest_email():
            kwargs["initial"] = {"username": phones.national(phone)}
        return kwargs

    def form_valid(self, form):
        if form.is_guest_checkout() and form.contact_kind == guest_orders.PHONE:
            phone = form.cleaned_data["username"]
            guest_orders.set_guest_contact(self.checkout_session, guest_orders.PHONE, phone)
            signals.start_checkout.send_robust(sender=self, request=self.request)
            return redirect(self.get_success_url())
        if form.is_guest_checkout() or form.is_new_account_checkout():
            guest_orders.set_guest_contact(
                self.checkout_session, guest_orders.EMAIL, form.cleaned_data["username"]
            )
        return super().form_valid(form)


# The address and the delivery method go into the session (saved by its middleware after
# the view): no request transaction for the form or its POST (as the gateway above).
@own_transactions
class ShippingAddressView(OscarShippingAddressView):
    def get_initial(self):
        initial = super().get_initial() or {}
        phone = guest_orders.guest_phone(self.checkout_session)
        if phone and not initial.get("phone_number") and not self.request.user.is_authenticated:
            initial = {**initial, "phone_number": phones.national(phone)}
        return initial

    def get_success_url(self):
        """Where the address (a new one or one of the address book) leads: payment, with the
        delivery method recorded, when there is exactly one; else Oscar's method step, which
        lets the buyer choose or says that none delivers there."""
        basket = self.request.basket
        methods = Repository().get_shipping_methods(
            basket=basket,
            user=self.request.user,
            shipping_addr=self.get_shipping_address(basket),
            request=self.request,
        )
        if len(methods) != 1:
            return super().get_success_url()
        self.checkout_session.use_shipping_method(methods[0].code)
        return reverse("checkout:payment-details")
