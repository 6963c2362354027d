"""A Vietnamese delivery address for Oscar's checkout: full name, phone (required, a
Vietnamese number, stored E.164), province → commune on the 2025 map, street or hamlet.

Oscar's ShippingAddress keeps it in its own columns, so orders, e-mails and the dashboard
show it unchanged: the full name in `first_name`, the street/hamlet in `line1`, the
commune in `line4`, the province in `state`, country Việt Nam (the only shipping country,
so Oscar hides the field). The commune is typed (a select of 3,321 communes would be too
heavy on 3G) and matched without diacritics inside the chosen province; a close miss gets
suggestions.
"""

import difflib

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oscar.apps.address.forms import UserAddressForm as OscarUserAddressForm
from oscar.apps.checkout.forms import ShippingAddressForm as OscarShippingAddressForm

from marketplace.core import geo, phones
from marketplace.core.text import fold


def communes_of(province_code: int) -> list[tuple[int, str]]:
    return [
        (code, name)
        for code, (name, province) in geo._communes().items()
        if province == province_code
    ]


def _bare(name: str) -> str:
    folded = fold(name)
    for prefix in ("xa ", "phuong ", "dac khu "):
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def match_commune(province_code: int, typed: str) -> tuple[int | None, list[str]]:
    """(code, []) for a commune of the province typed with or without diacritics and
    with or without "Xã"/"Phường"; else (None, up to 3 close names)."""
    wanted = _bare(typed)  # "Xã" or "Phường" typed, or not, or the wrong one: all fine
    communes = communes_of(province_code)
    for code, name in communes:
        if wanted == _bare(name):
            return code, []
    names = {_bare(name): name for _code, name in communes}
    close = difflib.get_close_matches(_bare(typed), list(names), n=3, cutoff=0.6)
    return None, [names[n] for n in close]


def vietnamese_phone_only(form, cleaned) -> None:
    """An address's phone is a Vietnamese number (marketplace.core.phones): one message for
    every other number, Oscar's parse errors included."""
    number = cleaned.get("phone_number")
    if number and ("phone_number" in form.errors or not phones.is_vietnamese(number)):
        form.errors.pop("phone_number", None)
        cleaned.pop("phone_number", None)
        form.add_error(
            "phone_number", _("Enter a Vietnamese phone number, for example 0912 345 678.")
        )


class UserAddressForm(OscarUserAddressForm):
    """Oscar's address book form (the buyer's saved addresses), Vietnamese phones only."""

    def clean(self):
        cleaned = super().clean()
        vietnamese_phone_only(self, cleaned)
        return cleaned


class ShippingAddressForm(OscarShippingAddressForm):
    province = forms.TypedChoiceField(label=_("Province / city"), coerce=int)
    commune = forms.CharField(
        label=_("Commune / ward"),
        max_length=100,
        help_text=_("For example: Ea Kao, or Phường Buôn Ma Thuột"),
    )

    field_order = ["first_name", "phone_number", "province", "commune", "line1", "notes"]

    class Meta(OscarShippingAddressForm.Meta):
        fields = ["first_name", "line1", "country", "phone_number", "notes"]
        labels = {
            "first_name": _("Full name"),
            "line1": _("House number, street, hamlet"),
            "notes": _("Notes for the delivery"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = [("", gettext("Choose a province"))] + list(
            geo.province_choices()
        )
        self.fields["phone_number"].required = True
        self.fields["phone_number"].label = _("Phone number")
        self.fields["phone_number"].help_text = _("The post office calls this number.")
        self.fields["first_name"].required = True
        self.fields["line1"].required = True
        self.fields["phone_number"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        # Filled in from the instance when editing an address already in the session.
        if self.instance and self.instance.state and not self.is_bound:
            for code, name in geo.province_choices():
                if name == self.instance.state:
                    self.initial["province"] = code
            self.initial["commune"] = self.instance.line4
        self.order_fields(self.field_order)

    def adjust_country_field(self):
        """Oscar's (one shipping country: the field hidden, the address in that country),
        with the countries read from the cache, not on every visit of the address step."""
        from marketplace.fulfilment.shipping import shipping_countries

        countries = shipping_countries()
        if len(countries) != 1:
            return super().adjust_country_field()
        self.fields.pop("country", None)
        self.instance.country = countries[0]

    def clean(self):
        cleaned = super().clean()  # Oscar's mixin parses the phone with the VN hint
        vietnamese_phone_only(self, cleaned)
        province, typed = cleaned.get("province"), cleaned.get("commune")
        if province and typed:
            code, close = match_commune(province, typed)
            if code is None:
                message = gettext("There is no commune or ward “%(name)s” in %(province)s.") % {
                    "name": typed,
                    "province": geo.province_name(province),
                }
                if close:
                    message += " " + gettext("Did you mean: %(names)s?") % {
                        "names": ", ".join(close)
                    }
                self.add_error("commune", message)
            else:
                self.instance.line4 = geo.commune_name(code)
                self.instance.state = geo.province_name(province)
                self.instance.postcode = ""
        return cleaned
