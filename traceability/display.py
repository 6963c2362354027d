"""How an event's details read on a page (labels in the visitor's language)."""

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


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

    def add(label, value):  # the label translated only when the line is shown
        if value not in (None, ""):
            lines.append((_(label), str(value)))

    add(gettext_noop("Variety"), d.get("variety"))
    if "expected_harvest" in d:
        add(gettext_noop("Expected harvest"), _date(d["expected_harvest"]))
    if "expected_quantity" in d:
        add(
            gettext_noop("Expected yield"),
            " ".join(str(p) for p in (d["expected_quantity"], d.get("expected_unit")) if p),
        )
    add(gettext_noop("Product applied"), d.get("product_name"))
    if "dose" in d:
        add(gettext_noop("Dose"), _amount(d, "dose"))
    if "applied_on" in d:
        add(gettext_noop("Date applied"), _date(d["applied_on"]))
    if "pre_harvest_interval_days" in d:
        add(
            gettext_noop("Pre-harvest interval"),
            _("%(days)s days") % {"days": d["pre_harvest_interval_days"]},
        )
    if "quantity" in d:
        add(gettext_noop("Quantity"), _amount(d))
    add(gettext_noop("Processing method"), d.get("method"))
    if d.get("output_lot"):
        add(gettext_noop("Packed into"), _("another lot of this producer"))
    add(gettext_noop("Carrier"), d.get("carrier"))
    add(gettext_noop("Destination"), d.get("destination"))
    add(gettext_noop("Received from"), d.get("received_from"))
    add(gettext_noop("Reason"), d.get("reason"))
    add(gettext_noop("Remarks"), d.get("notes"))
    return lines
