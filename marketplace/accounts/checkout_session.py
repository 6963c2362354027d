"""Oscar's checkout session mixin (every checkout step), letting a guest continue with a
phone number instead of an e-mail (marketplace.accounts.guest_orders): the order is then
placed without a guest e-mail, and the buyer is reached on the delivery phone.

Oscar asks for the unsaved shipping address up to five times a request (skip conditions,
shipping method, totals, the page): it is built once a request for the address the session
holds (a phone number parsed each time otherwise)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout import exceptions
from oscar.apps.checkout.session import CheckoutSessionMixin as OscarCheckoutSessionMixin

from marketplace.accounts import guest_orders


class CheckoutSessionMixin(OscarCheckoutSessionMixin):
    def check_user_email_is_captured(self, request):
        if request.user.is_authenticated or self.checkout_session.get_guest_email():
            return
        if guest_orders.guest_phone(self.checkout_session):
            return
        raise exceptions.FailedPreCondition(
            url=reverse("checkout:index"),
            message=_("Sign in, or give your e-mail address or phone number, to check out."),
        )

    def build_submission(self, **kwargs):
        submission = super().build_submission(**kwargs)
        order_kwargs = submission["order_kwargs"]
        if not submission["user"].is_authenticated and not order_kwargs.get("guest_email"):
            order_kwargs["guest_email"] = ""  # a guest who gave only a phone number
        return submission

    def get_shipping_address(self, basket):
        key = (
            basket.pk,
            repr(self.checkout_session.new_shipping_address_fields()),
            self.checkout_session.shipping_user_address_id(),
        )
        memo = self.__dict__.get("_shipping_address_memo")
        # A new one after the order saved it (placing an order saves the unsaved address).
        if memo is None or memo[0] != key or getattr(memo[1], "pk", None):
            memo = self._shipping_address_memo = (key, super().get_shipping_address(basket))
        return memo[1]
