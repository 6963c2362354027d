"""CSV downloads (reports, payouts, the harvest outlook): a response Excel opens as UTF-8, and
text cells a spreadsheet would run as a formula quoted."""

import csv

from django.http import HttpResponse


def safe_cell(value):
    """Text a spreadsheet would read as a formula gets a leading apostrophe; other values
    are left as they are."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, *, private: bool = False):
    """An attachment named `filename` that starts with the BOM (Excel then reads UTF-8), and
    a csv writer on it; `private` keeps it out of every cache (personal data)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")
    return response, csv.writer(response)
