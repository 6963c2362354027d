"""How an event's details read on a page (labels in the visitor's language)."""

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _


def _date(value) -> str:
    try:
        return date_format(date.fromisoformat(str(value)), "d/m/Y")
    except ValueError:
        return str(value)


def _amount(details, key="quantity") -> str:
    return " ".join(str(p) for p in (details.get(key), details.get("unit")) if p)


def detail_lines(kind: str, details: dict) -> list[tuple[str, str]]:
    """(label, value) pairs for the details of an event of `kind`."""
    d = details or {}
    lines = []

    def add(label, value):
        if value not in (None, ""):
            lines.append((label, str(value)))

    add(_("Variety"), d.get("variety"))
    add(_("Product applied"), d.get("product_name"))
    if "dose" in d:
        add(_("Dose"), _amount(d, "dose"))
    if "applied_on" in d:
        add(_("Date applied"), _date(d["applied_on"]))
    if "pre_harvest_interval_days" in d:
        add(
            _("Pre-harvest interval"),
            _("%(days)s days") % {"days": d["pre_harvest_interval_days"]},
        )
    if "quantity" in d:
        add(_("Quantity"), _amount(d))
    add(_("Processing method"), d.get("method"))
    if d.get("output_lot"):
        add(_("Packed into"), _("another lot of this producer"))
    add(_("Carrier"), d.get("carrier"))
    add(_("Destination"), d.get("destination"))
    add(_("Received from"), d.get("received_from"))
    add(_("Reason"), d.get("reason"))
    add(_("Remarks"), d.get("notes"))
    return lines
