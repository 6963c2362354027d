from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import DongField
from marketplace.core.numbers import parse_int
from marketplace.models import BusinessBuyer
from marketplace.wholesale.services import MAX_QUANTITY
from marketplace.wholesale.tax_codes import clean_tax_code


class BusinessForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type of business"), choices=BusinessBuyer.Kind.choices)
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    tax_code = forms.CharField(
        label=_("Tax code (MST)"),
        max_length=20,
        help_text=_("10 digits, or 10 digits and the branch number: 0312687878-001."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    address = forms.CharField(label=_("Address on the invoice"), max_length=255)
    invoice_email = forms.EmailField(label=_("E-mail for invoices"))

    def clean_tax_code(self):
        return clean_tax_code(self.cleaned_data["tax_code"])


class PriceBreakForm(forms.Form):
    min_quantity = forms.CharField(
        label=_("From quantity"),
        max_length=8,
        help_text=_("In the product's unit, e.g. 50 for 50 kg."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    price = DongField(label=_("Unit price from that quantity"))

    def clean_min_quantity(self):
        value = parse_int(self.cleaned_data["min_quantity"], minimum=2, maximum=MAX_QUANTITY)
        if value is None:
            raise ValidationError(_("A wholesale price starts from 2 units or more."))
        return value


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        max_length=255,
        help_text=_("The buyer reads it and can correct the details."),
    )
