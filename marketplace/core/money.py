"""Đồng: how an amount typed by a person becomes whole đồng, and how đồng are shown.

Vietnamese writes "." between thousands ("500.000"); "," and a space are accepted as
thousands separators too ("500,000", "500 000"), as long as one separator is used
throughout and every group after the first has three digits. A unit may follow
("500.000 ₫", "500.000đ", "500.000 đồng", "500000 VND"). Refused, each with its own
message: negatives, decimals ("12500.5", "1,5"), words ("1,5 triệu", "500k"), anything
else. Whole đồng only: VND has no minor unit in use.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.utils.translation import gettext_lazy as _

MAX_DIGITS = 15  # 10^15 đồng: far above any real amount, far below SQLite's 2**63 limit

_UNIT = re.compile(r"\s*(?:₫|đồng|đ|vnđ|vnd|dong)\s*$", re.IGNORECASE)
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_DECIMAL = re.compile(r"[0-9]+(?:[., ][0-9]{3})*[.,][0-9]{1,2}|[0-9]*[.,][0-9]{4,}")
_WORDS = re.compile(r"[0-9].*(?:triệu|trieu|tr|nghìn|nghin|ngàn|ngan|k|tỷ|ty|m)\.?$")

MESSAGES = {
    "required": _("Enter an amount in đồng, for example 500.000."),
    "invalid": _("Enter the amount in whole đồng, digits only, for example 500.000."),
    "negative": _("The amount cannot be negative."),
    "decimal": _("Amounts are in whole đồng, without decimals: for example 12.500, not 12.500,5."),
    "words": _("Write the amount in full digits, for example 1.500.000, not 1,5 triệu."),
    "too_large": _("This amount is too large."),
}


def parse_dong(text) -> int:
    """Whole đồng from what a person typed; ValidationError (with a code from MESSAGES)
    otherwise. An int, or an integral Decimal or float, is taken as it is (0 included)."""
    if isinstance(text, bool):
        raise ValidationError(MESSAGES["invalid"], code="invalid")
    if isinstance(text, float):  # from code, not from a person: 15000.0 is 15000
        text = Decimal(repr(text)) if text == text else Decimal("NaN")
    if isinstance(text, int | Decimal):
        if isinstance(text, Decimal) and not text.is_finite():
            raise ValidationError(MESSAGES["invalid"], code="invalid")
        if text != int(text):
            raise ValidationError(MESSAGES["decimal"], code="decimal")
        if text < 0:
            raise ValidationError(MESSAGES["negative"], code="negative")
        if len(str(int(text))) > MAX_DIGITS:
            raise ValidationError(MESSAGES["too_large"], code="too_large")
        return int(text)
    raw = " ".join(str(text if text is not None else "").replace("\u202f", " ").split())
    raw = _UNIT.sub("", raw).strip()
    if not raw:
        raise ValidationError(MESSAGES["required"], code="required")
    if len(raw) > 40:
        raise ValidationError(MESSAGES["invalid"], code="invalid")
    if raw[0] in "-−" and raw[1:2].isdigit():
        raise ValidationError(MESSAGES["negative"], code="negative")
    if _PLAIN.fullmatch(raw):
        digits = raw
    elif _GROUPED.fullmatch(raw):
        digits = re.sub(r"[., ]", "", raw)
    elif _DECIMAL.fullmatch(raw):
        raise ValidationError(MESSAGES["decimal"], code="decimal")
    elif _WORDS.fullmatch(raw.lower()):
        raise ValidationError(MESSAGES["words"], code="words")
    else:
        raise ValidationError(MESSAGES["invalid"], code="invalid")
    digits = digits.lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        raise ValidationError(MESSAGES["too_large"], code="too_large")
    return int(digits)


def round_dong(amount) -> Decimal:
    """THE rounding rule for money the marketplace computes (commission, tax withheld):
    whole đồng, half up (12.345,5 → 12.346; 0,5 → 1). Used identically by the settlement
    ledger, the statements and every CSV."""
    return Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def percent_of(amount, percent) -> Decimal:
    """`percent` % of `amount`, rounded by round_dong (5 % of 390.010 → 19.501)."""
    return round_dong(Decimal(amount) * Decimal(percent) / Decimal(100))


def format_dong(amount) -> str:
    """Đồng as the whole site shows them: Oscar's currency filter (Babel), "125.000 ₫" in
    Vietnamese (with a no-break space), "₫125,000" in English."""
    from oscar.templatetags.currency_filters import currency

    return currency(amount, "VND")


class DongField(forms.CharField):
    """A money field: a text input with a numeric keypad (a number input would turn
    "500.000" into 500 before the server sees it), read by parse_dong. Its messages can be
    replaced per code with `error_messages` (required, invalid, negative, decimal, words,
    too_large)."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
    default_error_messages = MESSAGES

    def __init__(self, *, min_value=None, max_value=None, **kwargs):
        kwargs.setdefault("max_length", 40)
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)
        # The value is an int once parsed: the text length is checked by parse_dong.
        self.validators = [
            v for v in self.validators if not isinstance(v, MaxLengthValidator | MinLengthValidator)
        ]

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_dong(value)
        except ValidationError as exc:
            raise ValidationError(self.error_messages[exc.code], code=exc.code) from None

    def prepare_value(self, value):
        whole = isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
        if whole and not isinstance(value, bool) and value == int(value):
            return str(int(value))
        return value

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(
                _("The amount must be at least %(min)s.") % {"min": format_dong(self.min_value)},
                code="min_value",
            )
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(
                _("The amount can be at most %(max)s.") % {"max": format_dong(self.max_value)},
                code="max_value",
            )


# Model fields holding đồng: whole numbers, up to 99.999.999.999.999 ₫.
MONEY = {"max_digits": 14, "decimal_places": 0}
