"""Forms of the pre-order pages: thin, the rules live in marketplace.preorders.services."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.core.money import DongField
from marketplace.core.numbers import parse_int
from marketplace.models import Preorder

Product = get_model("catalogue", "Product")
UserAddress = get_model("address", "UserAddress")

BIG = {"class": "form-control"}


class WindowForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    harvest_from = forms.DateField(
        label=_("Harvest expected from"),
        widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
    )
    harvest_to = forms.DateField(
        label=_("Harvest expected until"),
        widget=forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"}),
    )
    cap = forms.IntegerField(
        label=_("Quantity that may be pre-ordered"), min_value=1, max_value=1_000_000
    )
    price = DongField(label=_("Price (đồng)"), min_value=1)
    deposit_percent = forms.IntegerField(
        label=_("Deposit paid in advance (%)"),
        min_value=0,
        max_value=100,
        initial=30,
        help_text=_("0: the buyer pays everything on delivery."),
    )

    def __init__(self, *args, partner_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_ids = list(partner_ids)
        self.fields["product"].queryset = (
            Product.objects.filter(stockrecords__partner_id__in=self.partner_ids)
            .distinct()
            .order_by("title")
        )
        for field in self.fields.values():
            field.widget.attrs.update(BIG)

    def partner_of(self, product):
        """The producer (of the caller's) that sells `product`."""
        record = product.stockrecords.filter(partner_id__in=self.partner_ids).order_by("pk")
        return record.select_related("partner").first().partner

    def clean(self):
        data = super().clean()
        start, end = data.get("harvest_from"), data.get("harvest_to")
        if start and end and end < start:
            self.add_error("harvest_to", _("The harvest cannot end before it starts."))
        return data


class PreorderForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000, initial=1)
    address = forms.ModelChoiceField(
        label=_("Deliver to"), queryset=UserAddress.objects.none(), empty_label=None
    )
    method = forms.ChoiceField(label=_("Pay the deposit by"), widget=forms.RadioSelect)

    def __init__(self, *args, user, window, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = UserAddress.objects.filter(user=user).order_by(
            "-is_default_for_shipping", "pk"
        )
        labels = dict(Preorder.Method.choices)
        if window.takes_deposit:
            self.fields["method"].choices = [(m, labels[m]) for m in methods]
            if methods:
                self.fields["method"].initial = methods[0]
        else:
            del self.fields["method"]
        self.fields["quantity"].widget.attrs.update(BIG | {"inputmode": "numeric"})
        self.fields["address"].widget.attrs.update(BIG)


class ConvertForm(forms.Form):
    lot = forms.TypedChoiceField(label=_("Harvested lot"), coerce=int, required=False)
    quantity = forms.IntegerField(
        label=_("Quantity harvested for these pre-orders"), min_value=0, max_value=1_000_000
    )

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = [("", "—")] + [(lot.pk, f"{lot.code}") for lot in lots]
        for field in self.fields.values():
            field.widget.attrs.update(BIG)

    def clean_lot(self):
        value = self.cleaned_data.get("lot")
        return parse_int(value) if value not in (None, "") else None
