"""GS1 identifiers: GTIN (8, 12, 13 or 14 digits), GLN and GlobalGAP's 13-digit GGN."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.core.numbers import is_digits


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10: weights 3, 1, 3, … from the right of the digits before the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def has_valid_check_digit(code: str) -> bool:
    return is_digits(code) and len(code) >= 2 and gs1_check_digit(code[:-1]) == int(code[-1])


def validate_gtin(value: str) -> None:
    code = (value or "").strip()
    if not is_digits(code) or len(code) not in (8, 12, 13, 14):
        raise ValidationError(_("A GTIN has 8, 12, 13 or 14 digits."), code="gtin_length")
    if not has_valid_check_digit(code):
        raise ValidationError(
            _("The last digit (check digit) of this GTIN is wrong."), code="gtin_check"
        )


def gtin14(value: str) -> str:
    """The GTIN padded to 14 digits, as GS1 Digital Link uses it."""
    return value.strip().zfill(14)


def validate_ggn(value: str) -> None:
    code = (value or "").strip()
    if not is_digits(code) or len(code) != 13:
        raise ValidationError(_("A GlobalGAP number (GGN) has 13 digits."), code="ggn_length")
    if not has_valid_check_digit(code):
        raise ValidationError(
            _("The last digit (check digit) of this GGN is wrong."), code="ggn_check"
        )


def validate_gln(value: str) -> None:
    """A GS1 Global Location Number: 13 digits, the last a GS1 check digit."""
    code = (value or "").strip()
    if not is_digits(code) or len(code) != 13:
        raise ValidationError(_("A GLN (GS1 location number) has 13 digits."), code="gln_length")
    if not has_valid_check_digit(code):
        raise ValidationError(
            _("The last digit (check digit) of this GLN is wrong."), code="gln_check"
        )
