"""Vietnamese phone numbers: parsed with region VN, stored E.164, shown national."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def to_e164(value: str) -> str:
    try:
        number = phonenumbers.parse((value or "").strip(), "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter a Vietnamese phone number, e.g. 0912 345 678."), code="phone"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a Vietnamese phone number, e.g. 0912 345 678."), code="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
