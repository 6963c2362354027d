"""Forms of the settlement pages: a month, the producers of a payout batch, a payout's
bank reference. Thin: the rules live in marketplace.finance.settlements."""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text) -> tuple[int, int] | None:
    """(year, month) from "2026-07" (what the month picker sends); None otherwise."""
    match = MONTH_RE.match(str(text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return year, month


def month_of(request_get, key="thang") -> tuple[int, int]:
    """The month asked for in the query string, the current one when absent or malformed."""
    parsed = parse_month(request_get.get(key))
    if parsed:
        return parsed
    today = timezone.localdate()
    return today.year, today.month


def month_text(year, month) -> str:
    return f"{year:04d}-{month:02d}"


def previous_month(year, month) -> tuple[int, int]:
    first = datetime.date(year, month, 1) - datetime.timedelta(days=1)
    return first.year, first.month


def next_month(year, month) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


class PayoutBatchForm(forms.Form):
    producers = forms.TypedMultipleChoiceField(
        label=_("Producers to pay"),
        coerce=int,
        error_messages={"required": _("Choose at least one producer to pay.")},
    )

    def __init__(self, *args, payable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["producers"].choices = [
            (row.pk, row.partner.name) for row in payable if row.account is not None
        ]


class MarkPayoutPaidForm(forms.Form):
    reference = forms.CharField(
        label=_("Bank reference"),
        max_length=100,
        help_text=_("The bank's reference of the transfer to the producer (required)."),
        error_messages={"required": _("Enter the bank's reference of the transfer.")},
    )
