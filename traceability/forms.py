"""Forms of the farmer/staff lot pages: thin, the rules live in traceability.services."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.core import geo
from marketplace.core.numbers import parse_int
from marketplace.core.validators import validate_gln

from . import safety
from .gs1 import validate_lot_code
from .models import LOT_CODE_MAX_LENGTH, FarmEvent, Lot, SafetyReview

Kind = FarmEvent.Kind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NUMBER = {"inputmode": "decimal"}


def communes_of(province_code: int) -> list[tuple[int, str]]:
    communes = [
        (code, name)
        for code, (name, province) in geo._communes().items()  # noqa: SLF001 (read-only)
        if province == province_code
    ]
    return sorted(communes, key=lambda item: item[1])


class ServiceErrorsMixin:
    """Put a ValidationError raised by a service beside the matching field."""

    field_for_key: dict[str, str] = {}

    def add_service_error(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, errors in exc.error_dict.items():
            field = self.field_for_key.get(key, key)
            self.add_error(field if field in self.fields else None, errors)


class LotForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("Lot code"),
        max_length=LOT_CODE_MAX_LENGTH,
        required=False,
        validators=[validate_lot_code],
        help_text=_("Leave empty to have one made for you, like L250715AB12."),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=0.001,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, initial="kg")
    province_code = forms.TypedChoiceField(label=_("Province"), coerce=int)
    commune_code = forms.TypedChoiceField(label=_("Commune / ward"), coerce=int)
    latitude = forms.DecimalField(
        label=_("Latitude (GPS)"),
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=9,
        decimal_places=6,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    longitude = forms.DecimalField(
        label=_("Longitude (GPS)"),
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=9,
        decimal_places=6,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    production_date = forms.DateField(
        label=_("Production date"),
        required=False,
        widget=DATE_INPUT,
        validators=[safety.validate_event_date],
    )
    expiry_date = forms.DateField(label=_("Expiry date"), required=False, widget=DATE_INPUT)
    standards = forms.CharField(
        label=_("Standards applied (TCVN, QCVN, TCCS)"),
        max_length=200,
        required=False,
        help_text=_(
            "Printed on the package: e.g. TCVN 5251:2015; TCCS 01:2025/HTX. Separate them with “;”."
        ),
    )
    brand = forms.CharField(label=_("Brand"), max_length=120, required=False)

    def __init__(self, *args, producer, previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province_code"].choices = geo.province_choices()
        self.fields["province_code"].initial = producer.province_code
        self.fields["commune_code"].initial = producer.commune_code
        province = producer.province_code
        posted = self.data.get("province_code") if self.is_bound else None
        if parse_int(posted) is not None and geo.is_valid_province(parse_int(posted)):
            province = int(posted)
        self.fields["commune_code"].choices = communes_of(province)
        if not self.is_bound:
            self.fields["production_date"].initial = timezone.localdate()
            if previous is not None:  # the producer's last lot of this product
                self.fields["standards"].initial = previous.standards
                self.fields["brand"].initial = previous.brand

    def clean(self):
        data = super().clean()
        province, commune = data.get("province_code"), data.get("commune_code")
        if province and commune and not geo.commune_in_province(commune, province):
            self.add_error("commune_code", _("This commune is not in the selected province."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        production, expiry = data.get("production_date"), data.get("expiry_date")
        if production and expiry and expiry <= production:
            self.add_error("expiry_date", _("The expiry date must be after the production date."))
        elif expiry:
            try:
                safety.validate_expiry_date(expiry, production_date=production)
            except ValidationError as exc:
                self.add_error("expiry_date", exc)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            key: data.get(key)
            for key in (
                "code",
                "quantity",
                "unit",
                "province_code",
                "commune_code",
                "latitude",
                "longitude",
                "production_date",
                "expiry_date",
                "standards",
                "brand",
            )
        }


# Form fields shown for each kind of event, besides date, time, place and notes.
KIND_FIELDS = {
    Kind.PLANTING: ["variety", "expected_harvest", "expected_quantity", "expected_unit"],
    Kind.GROWING_NOTE: [],
    Kind.INPUT_APPLIED: [
        "product_name",
        "active_ingredient",
        "dose",
        "dose_unit",
        "applied_on",
        "pre_harvest_interval_days",
    ],
    Kind.HARVEST: ["quantity", "unit"],
    Kind.PROCESSING: ["method"],
    Kind.PACKING: ["output_lot", "quantity", "unit"],
    Kind.SHIPPING: ["carrier", "destination"],
    Kind.RECEIVING: ["received_from"],
    Kind.CORRECTION: ["corrects", "reason"],
}
COMMON_FIELDS = ["event_date", "event_clock", "location", "notes", "photos"]
# Form field → key in FarmEvent.details (where they differ).
DETAIL_KEY = {"dose_unit": "unit"}


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS photos, each through marketplace.core.uploads.clean_image (pixel limit,
    content check, re-encoded, EXIF and GPS removed, a server-made name)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        from marketplace.core.uploads import clean_image

        from .services import MAX_PHOTOS

        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if len(uploads) > MAX_PHOTOS:
            raise ValidationError(
                _("At most %(n)s photos for one event.") % {"n": MAX_PHOTOS}, code="max"
            )
        return [clean_image(upload) for upload in uploads]


class EventForm(ServiceErrorsMixin, forms.Form):
    """An event of one kind (chosen on the page before): only that kind's fields."""

    event_date = forms.DateField(
        label=_("Date"), widget=DATE_INPUT, validators=[safety.validate_event_date]
    )
    event_clock = forms.TimeField(label=_("Time"), widget=TIME_INPUT)
    location = forms.CharField(
        label=_("Place (plot, field, warehouse)"), max_length=200, required=False
    )
    notes = forms.CharField(
        label=_("Remarks"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    variety = forms.CharField(label=_("Variety"), max_length=200, required=False)
    expected_harvest = forms.DateField(
        label=_("Expected harvest date (optional)"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("The association uses it to find buyers and trucks before the harvest."),
    )
    expected_quantity = forms.DecimalField(
        label=_("Expected yield (optional)"),
        required=False,
        min_value=0.001,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    expected_unit = forms.CharField(
        label=_("Unit of the expected yield (e.g. kg, tạ, tấn)"), max_length=20, required=False
    )
    product_name = forms.CharField(
        label=_("Fertiliser or pesticide (trade name)"),
        max_length=200,
        help_text=_("For example: Phân hữu cơ vi sinh, Abamectin 1.8EC."),
    )
    active_ingredient = forms.CharField(
        label=_("Active ingredient (hoạt chất)"),
        max_length=200,
        required=False,
        help_text=_(
            "As printed on the label, e.g. Abamectin. Ingredients banned in Vietnam are refused."
        ),
    )
    dose = forms.DecimalField(
        label=_("Dose"),
        min_value=0.0001,
        max_digits=12,
        decimal_places=4,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    dose_unit = forms.CharField(
        label=_("Dose unit (e.g. ml/bình 16 lít, kg/ha)"), max_length=50, required=False
    )
    applied_on = forms.DateField(
        label=_("Date applied"), widget=DATE_INPUT, validators=[safety.validate_event_date]
    )
    pre_harvest_interval_days = forms.IntegerField(
        label=_("Pre-harvest interval (days)"),
        min_value=0,
        max_value=365,
        help_text=_("Printed on the label as “thời gian cách ly”. 0 if none."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=0.001,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs={**NUMBER, "step": "any"}),
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    method = forms.CharField(
        label=_("Method (e.g. drying, roasting)"), max_length=200, required=False
    )
    output_lot = forms.ModelChoiceField(
        label=_("Packed into lot"), queryset=Lot.objects.none(), required=False
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=200, required=False)
    destination = forms.CharField(label=_("Destination"), max_length=200, required=False)
    received_from = forms.CharField(label=_("Received from"), max_length=200, required=False)
    corrects = forms.ModelChoiceField(
        label=_("Event to correct"), queryset=FarmEvent.objects.none(), empty_label=None
    )
    reason = forms.CharField(label=_("What was wrong"), max_length=200)
    photos = PhotosField(
        label=_("Photos (up to 3)"),
        required=False,
        help_text=_("Take them with the phone camera: the field, the sprayer, the harvest."),
    )
    # Shown only after the first submit found the harvest inside a pre-harvest interval
    # (ask_confirmation): ticked, the event is recorded and the lot waits for review.
    confirm_pre_harvest = forms.BooleanField(
        label=_(
            "I confirm these dates are right. I understand the lot will not be sold until "
            "the marketplace has reviewed it."
        ),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, lot, kind, target=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lot, self.kind = lot, kind
        keep = COMMON_FIELDS + KIND_FIELDS[kind] + ["confirm_pre_harvest"]
        if kind == Kind.CORRECTION:
            # The corrected values, all optional: the fields of the corrected event's kind
            # when it is known (the "correct" link of an event), else those of every kind.
            kinds = [target.kind] if target is not None else list(KIND_FIELDS)
            for k in kinds:
                keep += [f for f in KIND_FIELDS[k] if f not in keep and f != "output_lot"]
            if target is not None:
                self.initial.setdefault("corrects", target.pk)
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if kind == Kind.CORRECTION:
            for name, field in self.fields.items():
                if name not in ("corrects", "reason", "event_date", "event_clock"):
                    field.required = False
            self.fields["corrects"].queryset = (
                FarmEvent.objects.filter(lot=lot).exclude(kind=Kind.CORRECTION).order_by("sequence")
            )
            self.fields["corrects"].label_from_instance = self.event_label
        if "output_lot" in self.fields:
            self.fields["output_lot"].queryset = (
                Lot.objects.filter(producer_id=lot.producer_id)
                .exclude(pk=lot.pk)
                .select_related("product")
                .order_by("-created_at")
            )
            self.fields["output_lot"].label_from_instance = lambda o: (
                f"{o.code} — {o.product.title}"
            )
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("event_date", now.date())
            self.initial.setdefault("event_clock", now.time().replace(second=0, microsecond=0))
            if "applied_on" in self.fields:
                self.initial.setdefault("applied_on", now.date())
            if "unit" in self.fields and kind != Kind.CORRECTION:
                self.initial.setdefault("unit", lot.unit)
            if "expected_unit" in self.fields and kind != Kind.CORRECTION:
                self.initial.setdefault("expected_unit", lot.unit)

    field_for_key = {"event_time": "event_date", "kind": None}
    pre_harvest_warning = None

    def ask_confirmation(self, warning) -> None:
        """The service found the harvest inside a pre-harvest interval: show why, and the
        box to tick to record it anyway."""
        self.pre_harvest_warning = warning.messages
        field = self.fields["confirm_pre_harvest"]
        field.widget = forms.CheckboxInput()

    @staticmethod
    def event_label(event) -> str:
        local = timezone.localtime(event.event_time)
        return f"#{event.sequence} {event.get_kind_display()} — {local:%d/%m/%Y %H:%M}"

    def add_service_error(self, exc):
        if (
            self.kind == Kind.INPUT_APPLIED
            and hasattr(exc, "error_dict")
            and "unit" in exc.error_dict
        ):
            exc.error_dict["dose_unit"] = exc.error_dict.pop("unit")
        super().add_service_error(exc)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        when = timezone.make_aware(datetime.combine(data["event_date"], data["event_clock"]))
        if self.kind == Kind.CORRECTION:
            target_kind = data["corrects"].kind
            fields = [f for f in KIND_FIELDS[target_kind] if f != "output_lot"]
            details = {
                DETAIL_KEY.get(f, f): _jsonable(data.get(f))
                for f in fields
                if data.get(f) not in (None, "")
            }
            details["reason"] = data["reason"]
        else:
            details = {
                DETAIL_KEY.get(f, f): _jsonable(data.get(f))
                for f in KIND_FIELDS[self.kind]
                if data.get(f) not in (None, "")
            }
        if data.get("notes"):
            details["notes"] = data["notes"]
        return {
            "confirm_pre_harvest": bool(data.get("confirm_pre_harvest")),
            "kind": self.kind,
            "event_time": when,
            "location": data.get("location") or "",
            "details": details,
            "corrects": data.get("corrects"),
            "photos": data.get("photos") or [],
        }


def _jsonable(value):
    if isinstance(value, Lot):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return str(value)


class SafetyReviewForm(forms.Form):
    """The operator's decision on a lot harvested inside a pre-harvest interval."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (SafetyReview.CLEARED, _("May be sold (e.g. a residue test passed)")),
            (SafetyReview.REFUSED, _("Not to be sold")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What the decision rests on"),
        max_length=safety.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GlnForm(forms.Form):
    """A producer's GLN; the rule is the model field's validator (validate_gln)."""

    gln = forms.CharField(
        label=_("GLN (GS1 location number)"),
        max_length=13,
        required=False,
        help_text=_("13 digits, issued by GS1 Vietnam. Leave empty if the producer has none."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_gln(self):
        value = self.cleaned_data["gln"].strip()
        if value:
            validate_gln(value)
        return value
