"""Vietnamese phone numbers: parsed with region VN, stored E.164 (+84…), shown national.

The one rule for reading a phone number a person typed; farmers (accounts, members) and
the sign-in form use it.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def to_e164(value: str) -> str:
    """ "0912 345 678", "+84 912345678", "84912345678" → "+84912345678"; ValidationError for
    anything that is not a valid Vietnamese number (another country's included)."""
    try:
        number = phonenumbers.parse((value or "").strip()[:40], "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter a Vietnamese phone number, e.g. 0912 345 678."), code="phone"
        ) from exc
    if not is_vietnamese(number):
        raise ValidationError(
            _("Enter a Vietnamese phone number, e.g. 0912 345 678."), code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_vietnamese(number) -> bool:
    """A parsed number (phonenumbers.PhoneNumber, or Oscar's PhoneNumber) that is a valid
    Vietnamese number: "+1 202 555 0100" is a valid number, but not a Vietnamese one."""
    return getattr(number, "country_code", None) == 84 and phonenumbers.is_valid_number_for_region(
        number, "VN"
    )


def national(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
