"""Oscar's checkout gateway form ("who are you?"): one box for an e-mail or a Vietnamese
phone number (marketplace.accounts.guest_orders.guest_contact). A guest may continue with
either; a returning customer signs in with either (marketplace.accounts.forms.login_name);
creating an account needs an e-mail. (Apart from the views: Oscar's checkout views load
this form while they are imported.)"""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from oscar.apps.checkout.forms import GatewayForm as OscarGatewayForm

from marketplace.accounts import guest_orders
from marketplace.accounts.forms import login_name


class GatewayForm(OscarGatewayForm):
    username = forms.CharField(
        label=_("My e-mail address or phone number is"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    contact_kind = guest_orders.EMAIL

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip()

    def clean(self):
        value = self.cleaned_data.get("username")
        if not value:
            return self.cleaned_data
        if self.cleaned_data.get("options") == self.EXISTING:
            try:
                self.cleaned_data["username"] = login_name(value)
            except ValidationError as exc:
                self.add_error("username", exc)
                return self.cleaned_data
            return AuthenticationForm.clean(self)
        self.errors.pop("password", None)  # a guest or a new customer gives no password
        try:
            kind, contact = guest_orders.guest_contact(value)
        except ValidationError as exc:
            self.add_error("username", exc)
            return self.cleaned_data
        self.contact_kind = kind
        self.cleaned_data["username"] = contact
        if kind == guest_orders.EMAIL:
            return super().clean()  # Oscar's checks of an e-mail that has an account
        if self.is_new_account_checkout():
            self.add_error(
                "username",
                _(
                    "To create an account, enter your e-mail address; or continue as a guest "
                    "with your phone number."
                ),
            )
        elif not settings.OSCAR_ALLOW_GUEST_CHECKOUT_WITH_ACCOUNT and (
            get_user_model()._default_manager.filter(username=contact).exists()
        ):
            self.add_error(
                "username", _("An account uses this phone number: sign in with its password.")
            )
            self.data = self.data.copy()
            self.data[self.add_prefix("options")] = self.EXISTING
        return self.cleaned_data
