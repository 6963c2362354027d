"""Citizen identity card numbers (CCCD, Circular 07/2016/TT-BCA, Decree 137/2015).

Twelve digits: a three-digit code of the province where the birth was registered (the 63
pre-2025 provinces, 001–096 with gaps), one digit for gender and century of birth, two
for the year of birth, six random. The gender/century digit: 0/1 male/female born
1900–1999, 2/3 born 2000–2099, 4/5 2100–2199, 6/7 2200–2299, 8/9 1800–1899.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from marketplace.core.numbers import is_digits

_CODES = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 "
    "034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 "
    "067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES = frozenset(_CODES.split(" "))
CENTURY_START = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}
MALE, FEMALE = "male", "female"


def normalise(value: str | None) -> str:
    """Digits as typed, without the spaces, dots or dashes people put in."""
    return "".join((value or "").split()).replace(".", "").replace("-", "")


def validate(number: str, *, date_of_birth: datetime.date | None = None, gender=None) -> str:
    """Return the normalised 12-digit number or raise ValidationError with a clear message."""
    number = normalise(number)
    if not is_digits(number):
        raise ValidationError(_("A citizen ID number has digits only."), code="digits")
    if len(number) != 12:
        raise ValidationError(
            _("A citizen ID number has 12 digits (this one has %(n)s).") % {"n": len(number)},
            code="length",
        )
    if number[:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("The first three digits (%(code)s) are not a province code.") % {"code": number[:3]},
            code="province",
        )
    digit = int(number[3])
    year = CENTURY_START[digit // 2] + int(number[4:6])
    if date_of_birth is not None and date_of_birth.year != year:
        raise ValidationError(
            _("This citizen ID belongs to someone born in %(year)s, not %(dob)s.")
            % {"year": year, "dob": date_of_birth.year},
            code="year",
        )
    if gender in (MALE, FEMALE) and gender != (MALE if digit % 2 == 0 else FEMALE):
        raise ValidationError(
            _("The fourth digit of this citizen ID does not match the gender given."),
            code="gender",
        )
    return number


def mask(last_digits: str) -> str:
    return "*" * 9 + (last_digits or "")[-3:]
