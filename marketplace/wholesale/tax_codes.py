"""Vietnamese tax codes (mã số thuế, MST): 10 digits whose tenth is a check digit over the
first nine (weights 31, 29, 23, 19, 17, 13, 7, 5, 3; the digit is 10 − sum mod 11), or the
13-digit code of a branch, written "0312687878-001" (its first ten digits are the parent
company's, then a branch number 001–999)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from marketplace.core.numbers import is_digits

WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)


def check_digit(first_nine: str) -> str:
    """The check digit of a tax code's first nine digits ("10" when none fits: such a code
    is never issued)."""
    total = sum(w * int(d) for w, d in zip(WEIGHTS, first_nine, strict=True))
    return str(10 - total % 11)


def clean_tax_code(value) -> str:
    """The tax code as written on invoices ("0100233488", "0314409058-002"), from what a
    person typed (spaces, dots and dashes ignored); ValidationError in Vietnamese when it
    is not one."""
    digits = re.sub(r"[\s.\-]", "", str(value or ""))
    if not is_digits(digits) or len(digits) not in (10, 13):
        raise ValidationError(
            _(
                "A tax code has 10 digits, or 10 digits, a dash and the 3 digits of a "
                "branch (e.g. 0312687878-001)."
            ),
            code="format",
        )
    if digits[2:9] == "0000000" or (len(digits) == 13 and digits[10:] == "000"):
        raise ValidationError(_("This is not a tax code that is issued."), code="component")
    if digits[9] != check_digit(digits[:9]):
        raise ValidationError(
            _("This tax code's check digit is wrong: check each digit again."), code="checksum"
        )
    return digits if len(digits) == 10 else f"{digits[:10]}-{digits[10:]}"


def is_valid_tax_code(value) -> bool:
    try:
        clean_tax_code(value)
    except ValidationError:
        return False
    return True
