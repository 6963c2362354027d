"""Forms of the member pages: they collect input; farmers.services validates it."""

from decimal import Decimal

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.core import geo

from . import banks
from .models import Consent, Member, MemberDocument


def commune_choices(province_code: int | None) -> list:
    """Communes of one province, or all of them grouped by province (the operator)."""
    communes = geo._communes()  # noqa: SLF001 — the cached map of marketplace.core.geo
    if province_code:
        items = sorted(
            ((code, name) for code, (name, prov) in communes.items() if prov == province_code),
            key=lambda item: item[1],
        )
        return [("", "—")] + items
    grouped = [("", "—")]
    for prov_code, prov_name in geo.province_choices():
        items = sorted(
            ((code, name) for code, (name, prov) in communes.items() if prov == prov_code),
            key=lambda item: item[1],
        )
        grouped.append((prov_name, items))
    return grouped


class MemberForm(forms.Form):
    AREA_UNITS = (("m2", "m²"), ("ha", "ha"))

    full_name = forms.CharField(label=_("Full name"), max_length=120)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Member.Gender.choices)
    cccd = forms.CharField(
        label=_("Citizen ID (CCCD)"),
        max_length=20,
        help_text=_("12 digits, as on the card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    province_code = forms.TypedChoiceField(label=_("Province"), coerce=int, choices=())
    commune_code = forms.TypedChoiceField(label=_("Commune / ward"), coerce=int, choices=())
    street = forms.CharField(label=_("Street, hamlet, village"), max_length=200, required=False)
    branch = forms.ModelChoiceField(label=_("Association branch"), queryset=None)
    farm_area = forms.DecimalField(
        label=_("Farm area"), required=False, min_value=0, max_digits=12, decimal_places=4
    )
    farm_area_unit = forms.ChoiceField(label=_("Unit"), choices=AREA_UNITS, initial="m2")
    main_products = forms.CharField(
        label=_("Main crops or livestock"), max_length=300, required=False
    )
    cooperative = forms.CharField(
        label=_("Cooperative (if a member)"), max_length=200, required=False
    )
    bank_bin = forms.ChoiceField(label=_("Bank"), required=False, choices=())
    bank_account = forms.CharField(label=_("Account number"), max_length=30, required=False)
    bank_holder = forms.CharField(label=_("Account holder"), max_length=120, required=False)

    def __init__(self, *args, branches, province_code=None, communes=None, fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        if "branch" in (fields or self.fields) and branches.count() == 1:
            self.fields["branch"].empty_label = None  # a branch's own staff: no choice
        self.fields["bank_bin"].choices = [("", "—")] + banks.choices()
        provinces = geo.province_choices()
        if province_code:
            provinces = [(c, n) for c, n in provinces if c == province_code]
        self.fields["province_code"].choices = provinces
        choices = commune_choices(province_code)
        if communes is not None:  # a commune branch: its own commune(s) only
            choices = [(code, name) for code, name in choices if code in communes]
        self.fields["commune_code"].choices = choices
        if fields is not None:  # a farmer edits only some fields
            for name in list(self.fields):
                if name not in fields:
                    del self.fields[name]

    @staticmethod
    def initial_for(member: Member) -> dict:
        initial = {field: getattr(member, field) for field in (
            "full_name", "date_of_birth", "gender", "phone", "email", "province_code",
            "commune_code", "street", "main_products", "cooperative", "bank_bin",
            "bank_account", "bank_holder",
        )}  # fmt: skip
        initial["phone"] = member.phone_national
        initial["branch"] = member.branch_id
        if member.farm_area_m2:
            if member.farm_area_m2 >= 10_000:
                initial["farm_area"] = Decimal(member.farm_area_m2) / 10_000
                initial["farm_area_unit"] = "ha"
            else:
                initial["farm_area"], initial["farm_area_unit"] = member.farm_area_m2, "m2"
        return initial

    def service_data(self) -> dict:
        """The cleaned input in the shape farmers.services expects."""
        data = dict(self.cleaned_data)
        if "farm_area" in data:
            area, unit = data.pop("farm_area"), data.pop("farm_area_unit", "m2")
            data["farm_area_m2"] = (
                None if area is None else int(area * (10_000 if unit == "ha" else 1))
            )
        if "cccd" in data and not data["cccd"]:
            del data["cccd"]
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        mapping = {"farm_area_m2": "farm_area"}
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                field = mapping.get(field, field)
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=MemberDocument.Kind.choices)
    image = forms.FileField(
        label=_("Photo or scan"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        help_text=_("Take a photo with the phone camera or choose a JPEG, PNG or WebP file."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class TransitionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("submit", "verify", "return", "reject", "approve")]
    )
    reason = forms.CharField(
        label=_("Reason (the farmer will read it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=Consent.Purpose.choices)
    withdraw = forms.BooleanField(required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name, phone or citizen ID"), required=False, max_length=100)
    commune = forms.TypedChoiceField(
        label=_("Commune / ward"), required=False, coerce=int, empty_value=None, choices=()
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + Member.Status.choices
    )
    branch = forms.ModelChoiceField(
        label=_("Association branch"), required=False, queryset=None, empty_label=_("All")
    )

    def __init__(self, *args, branches, province_code=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["commune"].choices = commune_choices(province_code)


class ActivationForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    code = forms.CharField(
        label=_("Activation code"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password1 = forms.CharField(label=_("New password"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                password_validation.validate_password(first)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class FarmerLoginForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
