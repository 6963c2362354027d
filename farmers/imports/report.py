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
    columns = (
        (_("Full name"), "name"),
        (_("Citizen ID"), "cccd"),
        (_("Reason"), "message"),
        (_("Member number"), "member"),
    )
    return rows_csv(record.report, columns)


def rows_csv(report, columns) -> bytes:
    """A report (one entry a row, with its number and outcome) as CSV: the row, its
    result, then `columns` ((header, key), ...)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Result"), *(header for header, _key in columns)])
    for entry in report or []:
        writer.writerow(
            [
                entry.get("row"),
                str(OUTCOMES.get(entry.get("outcome"), entry.get("outcome"))),
                *(_safe(entry.get(key) or "") for _header, key in columns),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
