"""The import report as CSV, safe to open in Excel."""

import csv
import io

from django.utils.translation import gettext as _

from ..models import MemberImport
from .common import OUTCOMES

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    """Spreadsheet-safe text: a cell starting like a formula is not run by Excel."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(record: MemberImport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Result"), _("Full name"), _("Citizen ID"), _("Reason"),
                     _("Member number")])  # fmt: skip
    for entry in record.report or []:
        writer.writerow(
            [
                entry.get("row"),
                str(OUTCOMES.get(entry.get("outcome"), entry.get("outcome"))),
                _safe(entry.get("name")),
                _safe(entry.get("cccd")),
                _safe(entry.get("message")),
                entry.get("member") or "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
