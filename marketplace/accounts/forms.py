from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from oscar.apps.customer.forms import EmailAuthenticationForm

from marketplace.core import phones


def login_name(value: str) -> str:
    """What a person typed to sign in, as the account is found: an e-mail as typed (the
    e-mail backend matches it), a phone number as E.164 (farmers' usernames)."""
    value = (value or "").strip()
    if "@" in value:
        return value
    try:
        return phones.to_e164(value)
    except ValidationError:
        raise ValidationError(
            _("Enter your e-mail address or your Vietnamese phone number, e.g. 0912 345 678."),
            code="login_name",
        ) from None


class EmailOrPhoneAuthenticationForm(EmailAuthenticationForm):
    """Oscar's sign-in form, taking an e-mail or a phone number in one field."""

    username = forms.CharField(
        label=_("E-mail or phone number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    error_messages = {
        **EmailAuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail, phone number or password is wrong. Check them and try again."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            try:
                self.cleaned_data["username"] = login_name(username)
            except ValidationError as exc:
                self.add_error("username", exc)
                return self.cleaned_data
        return super().clean()
