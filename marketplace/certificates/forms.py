"""Forms for certificates. Thin: the rules live in marketplace.certificates.services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.models import Certificate

Product = get_model("catalogue", "Product")

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class DateInput(forms.DateInput):
    """The phone's own date picker: <input type="date"> wants ISO dates."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CertificateForm(forms.Form):
    """What a farmer types in from the paper certificate (usable at 360 px)."""

    kind = forms.ChoiceField(
        label=_("Type of certificate"),
        choices=[("", "—")] + list(Certificate.Kind.choices),
    )
    ocop_stars = forms.TypedChoiceField(
        label=_("OCOP stars"),
        choices=[("", "—"), (3, "3★"), (4, "4★"), (5, "5★")],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Only for OCOP certificates."),
    )
    number = forms.CharField(
        label=_("Certificate number"),
        max_length=64,
        help_text=_("For GlobalGAP, the 13-digit GGN."),
    )
    issuer = forms.CharField(
        label=_("Issued by"),
        max_length=200,
        help_text=_("For example: UBND tỉnh Đắk Lắk, or the certification body."),
    )
    scope = forms.CharField(label=_("Scope"), max_length=255, required=False)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=DateInput(), input_formats=DATE_INPUT_FORMATS
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=DateInput(), input_formats=DATE_INPUT_FORMATS
    )
    products = forms.ModelMultipleChoiceField(
        label=_("Products covered"),
        queryset=Product.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Leave empty if the certificate covers all of your products."),
    )
    scan = forms.FileField(
        label=_("Scanned certificate"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}
        ),
        help_text=_("A PDF or a photo of the certificate, at most 10 MB."),
    )

    def __init__(self, *args, producer, **kwargs):
        super().__init__(*args, **kwargs)
        self.producer = producer
        self.fields["products"].queryset = (
            Product.objects.filter(stockrecords__partner_id=producer.partner_id)
            .distinct()
            .order_by("title")
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "producer": self.producer,
            "kind": data["kind"],
            "ocop_stars": data.get("ocop_stars"),
            "number": data["number"],
            "issuer": data["issuer"],
            "scope": data.get("scope", ""),
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
            "products": list(data.get("products") or ()),
            "scan": data.get("scan") or None,
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Show the service's messages beside the fields they are about."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Please tell the producer why the certificate is rejected.")},
        help_text=_("The producer sees this reason."),
    )
