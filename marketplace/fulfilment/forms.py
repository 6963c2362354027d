"""Forms of the fulfilment pages. Thin: the rules (tracking numbers, amounts, lots) are in
marketplace.fulfilment.services, which the services apply again."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.fulfilment import services as fulfilment


def _service_clean(cleaner, value):
    try:
        return cleaner(value)
    except fulfilment.FulfilmentError as exc:
        raise forms.ValidationError(exc.message) from None


class PackForm(forms.Form):
    """One optional "packed from lot" choice per line that has no lot yet."""

    def __init__(self, *args, lines, choices: dict, linked: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            if line.pk in linked:
                continue
            lots = choices.get(line.pk, [])
            if not lots:
                continue
            self.fields[self.field_name(line)] = forms.TypedChoiceField(
                label=line.title,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("— No lot —"))] + [(lot.pk, self.lot_label(lot)) for lot in lots],
            )

    @staticmethod
    def field_name(line) -> str:
        return f"lot-{line.pk}"

    @staticmethod
    def lot_label(lot) -> str:
        if lot.production_date:
            return f"{lot.code} ({lot.production_date:%d/%m/%Y})"
        return lot.code

    def bound_field_for(self, line):
        name = self.field_name(line)
        return self[name] if name in self.fields else None

    def lots(self) -> dict[int, int]:
        """{line id: lot id} for the lines given a lot."""
        chosen = {}
        for line in self.lines:
            value = self.cleaned_data.get(self.field_name(line))
            if value:
                chosen[line.pk] = value
        return chosen


class TrackingForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        help_text=_("As printed on the Vietnam Post receipt, for example EB123456785VN."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_tracking_number(self):
        return _service_clean(
            fulfilment.clean_tracking_number, self.cleaned_data["tracking_number"]
        )


class CodForm(forms.Form):
    amount = forms.CharField(
        label=_("Cash collected (đồng)"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_amount(self):
        return _service_clean(fulfilment.clean_amount, self.cleaned_data["amount"])


# --- Cancellations, failed deliveries, returns -------------------------------------------------

OTHER = "other"


class _ReasonForm(forms.Form):
    """A reason picked from a short list (one tap on a phone), with an optional note; the
    service receives one sentence."""

    REASONS: tuple = ()

    reason = forms.ChoiceField(label=_("Reason"))
    note = forms.CharField(label=_("Details (optional)"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [*self.REASONS, (OTHER, _("Other reason"))]

    def clean(self):
        cleaned = super().clean()
        code, note = cleaned.get("reason"), " ".join((cleaned.get("note") or "").split())
        if code == OTHER and not note:
            self.add_error("note", _("Say why in a few words."))
        return cleaned

    def reason_text(self) -> str:
        code = self.cleaned_data["reason"]
        note = " ".join((self.cleaned_data.get("note") or "").split())
        label = str(dict(self.fields["reason"].choices)[code])
        if code == OTHER:
            return note
        return f"{label}: {note}" if note else label


class BuyerCancelForm(_ReasonForm):
    REASONS = (
        ("changed_mind", _("I changed my mind")),
        ("mistake", _("I ordered by mistake")),
        ("too_long", _("Delivery takes too long")),
    )


class LineCancelForm(_ReasonForm):
    REASONS = (
        ("out_of_stock", _("Out of stock")),
        ("harvest_failed", _("The harvest failed")),
        ("quality", _("The quality is not good enough to sell")),
    )


class FailedDeliveryForm(_ReasonForm):
    REASONS = (
        ("unreachable", _("The buyer could not be reached")),
        ("refused", _("The buyer refused the parcel")),
        ("address", _("Wrong or incomplete address")),
        ("damaged", _("The parcel was damaged")),
    )


class ReturnForm(forms.Form):
    fee = forms.CharField(
        label=_("Return shipping fee (đồng)"),
        max_length=30,
        required=False,
        help_text=_("What Vietnam Post charges to bring the parcel back, for example 25.000."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_fee(self):
        return _service_clean(fulfilment.clean_fee, self.cleaned_data["fee"])
