"""A guest's order pages: Oscar's order-status page (the signed link of our messages) and
its form, and the order-status form without a link (order number and the e-mail or phone
the guest gave), each asking the guest's e-mail or phone number
(marketplace.accounts.guest_orders)."""

from django import forms
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic
from oscar.apps.customer.views import AnonymousOrderDetailView as OscarAnonymousOrderDetailView
from oscar.apps.customer.views import AnonymousOrderFormView as OscarAnonymousOrderFormView
from oscar.core.loading import get_model

from marketplace.accounts import guest_orders
from marketplace.core.ratelimit import throttle

NOT_FOUND = _(
    "No order matches this number and e-mail or phone number. Check them against the "
    "message we sent you."
)


class GuestContactForm(forms.Form):
    contact = forms.CharField(
        label=_("E-mail or phone number you gave with the order"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )

    def clean_contact(self):
        self.kind, contact = guest_orders.guest_contact(self.cleaned_data["contact"])
        return contact


class GuestOrderLookupForm(GuestContactForm):
    number = forms.CharField(
        label=_("Order number"),
        max_length=128,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    field_order = ["number", "contact"]


def _status_url(order):
    return reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )


class AnonymousOrderFormView(OscarAnonymousOrderFormView):
    """The form behind the signed link: the e-mail or phone number of the order."""

    form_class = GuestContactForm
    template_name = "marketplace/orders/guest_order_form.html"

    def post(self, request, *args, **kwargs):
        refused = throttle(request, scope="guest-order")
        return refused or super().post(request, *args, **kwargs)

    def form_valid(self, form):
        order = guest_orders.find(self.order_number, form.kind, form.cleaned_data["contact"])
        if order is None or not order.check_verification_hash(self.hash):
            form.add_error(None, NOT_FOUND)
            return self.form_invalid(form)
        guest_orders.remember(self.request.session, order)
        return redirect(_status_url(order))


class AnonymousOrderDetailView(OscarAnonymousOrderDetailView):
    """The guest's order page, for the browser that showed it knows the order."""

    def get_object(self, queryset=None):
        Order = get_model("order", "Order")
        order = Order.objects.filter(user=None, number=self.order_number).first()
        if order is None or not order.check_verification_hash(self.hash):
            return None
        return order if guest_orders.is_known(self.request.session, order) else None


class GuestOrderLookupView(generic.FormView):
    """Find a guest's order with its number and the e-mail or phone number given."""

    form_class = GuestOrderLookupForm
    template_name = "marketplace/orders/guest_order_form.html"

    def post(self, request, *args, **kwargs):
        refused = throttle(request, scope="guest-order")
        return refused or super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(lookup=True, **kwargs)

    def form_valid(self, form):
        order = guest_orders.find(
            form.cleaned_data["number"], form.kind, form.cleaned_data["contact"]
        )
        if order is None:
            form.add_error(None, NOT_FOUND)
            return self.form_invalid(form)
        guest_orders.remember(self.request.session, order)
        return redirect(_status_url(order))
