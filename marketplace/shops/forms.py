"""The product form farmers (and staff on their behalf) fill in on a phone, and the
operator's forms. Thin: a field turns text into a value; every rule (ranges, GTIN,
photos) lives in marketplace.catalogue.listings, whose messages `add_service_error` puts
beside the fields."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.core.money import DongField

Category = get_model("catalogue", "Category")
ProductImage = get_model("catalogue", "ProductImage")

NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; cleaned to a list (empty when none were chosen)."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class AmountField(forms.CharField):
    """A number as people type it ("125.000", "0,5"); the range is checked by the service."""

    def __init__(self, *, invalid_message, grouping=True, **kwargs):
        self.invalid_message = invalid_message
        self.grouping = grouping
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return listings.parse_amount(value, grouping=self.grouping)
        except ValueError as exc:
            raise ValidationError(self.invalid_message, code="invalid") from exc


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "— " * (obj.depth - 1) + obj.name


class ProductForm(forms.Form):
    """Usable at 360 px: one column, big inputs, a numeric keypad for numbers."""

    title = forms.CharField(
        label=_("Product name"),
        # The length is checked by the service (its message), the browser only helps.
        widget=forms.TextInput(attrs={"maxlength": listings.MAX_TITLE}),
        error_messages={"required": _("Enter the name of the product.")},
        help_text=_("For example: Sầu riêng Ri6 Krông Pắc."),
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        empty_label="—",
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose a category."),
        },
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("How it is grown, its taste, how long it keeps."),
    )
    unit = forms.ChoiceField(
        label=_("Sold by"),
        choices=listings.UNITS,
        error_messages={"invalid_choice": _("Choose the unit the product is sold by.")},
    )
    price = DongField(
        label=_("Price (đồng) per unit"),
        error_messages={
            **listings.PRICE_MESSAGES,
            "required": _("Enter the price."),
            "negative": lazy(listings.price_range_message, str)(),
            "too_large": lazy(listings.price_range_message, str)(),
        },
        widget=forms.TextInput(attrs={**NUMERIC, "placeholder": "125000"}),
    )
    num_in_stock = AmountField(
        label=_("Stock (units for sale)"),
        invalid_message=_("Enter the stock as a whole number, for example 20."),
        error_messages={"required": _("Enter the stock.")},
        widget=forms.TextInput(attrs=NUMERIC),
    )
    weight_kg = AmountField(
        label=_("Shipping weight of one unit (kg)"),
        invalid_message=_("Enter the weight in kilograms, for example 0.5."),
        grouping=False,
        error_messages={"required": _("Enter the shipping weight.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("With the packaging, for example 0.5 for half a kilo."),
    )
    gtin = forms.CharField(
        label=_("Barcode (GTIN)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs=NUMERIC),
        help_text=_("Optional: the 8, 12, 13 or 14 digits under the barcode on the package."),
    )
    remove_image_ids = forms.ModelMultipleChoiceField(
        label=_("Remove photos"),
        queryset=ProductImage.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    images = MultipleImageField(
        label=_("Photos"),
        required=False,
        widget=MultipleImageInput(attrs={"accept": "image/*", "capture": "environment"}),
        help_text=_("JPEG, PNG or WebP, at most 10 MB each."),
    )

    def __init__(self, *args, product=None, initial=None, **kwargs):
        self.product = product
        if product is not None and initial is None:
            initial = self.initial_for(product)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("path")
        unit = (initial or {}).get("unit")
        if unit and unit not in listings.UNIT_VALUES:
            # An older product sold by another unit keeps it until changed.
            self.fields["unit"].choices = [*listings.UNITS, (unit, unit)]
        if product is None:
            del self.fields["remove_image_ids"]
        else:
            self.fields["remove_image_ids"].queryset = product.images.order_by(
                "display_order", "pk"
            )
            record = product.stockrecords.order_by("pk").first()
            reserved = (record.num_allocated or 0) if record is not None else 0
            self.fields["num_in_stock"].help_text = _(
                "All the units you have, including the %(count)s reserved by orders not yet "
                "handed to the post office."
            ) % {"count": reserved}

    @staticmethod
    def initial_for(product) -> dict:
        record = product.stockrecords.order_by("pk").first()
        values = listings.current_values(product, record)
        weight = values["weight_kg"]
        if weight is not None:
            values["weight_kg"] = number_format(Decimal(f"{weight:g}"))  # "1,2" in Vietnamese
        return values

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            # Some values could not be read: check the others now, so that every
            # problem shows at once (otherwise the service checks them on saving).
            values = {
                field: cleaned[field]
                for field in listings.CHECKS.keys() | {"gtin"}
                if field in cleaned and field not in self.errors
            }
            for field, messages in listings.field_errors(values, product=self.product).items():
                self.add_error(field, messages)
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "title": data["title"],
            "category": data["category"],
            "description": data.get("description", ""),
            "unit": data["unit"],
            "weight_kg": data["weight_kg"],
            "price": data["price"],
            "num_in_stock": data["num_in_stock"],
            "gtin": data.get("gtin", ""),
            "images": data.get("images") or [],
        }
        if "remove_image_ids" in self.fields:
            kwargs["remove_image_ids"] = [image.pk for image in data.get("remove_image_ids") or ()]
        return kwargs

    def add_service_error(self, error: ValidationError) -> None:
        """Show the service's messages beside the fields they are about."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=listings.MAX_REASON,
        error_messages={"required": _("Please tell the producer why the product is rejected.")},
        help_text=_("The producer sees this reason."),
    )


class ApprovalSettingForm(forms.Form):
    required = forms.TypedChoiceField(
        label=_("New or changed products wait for operator approval"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda value: value == "1",
    )
