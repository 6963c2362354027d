"""Onboarding reports (under /can-bo/bao-cao/): one page and a CSV per table.

Staff see the members of their scope (`selectors.members_in_scope`), the operator every
member. As on the member list, anyone signed in without a staff membership gets 404 and
anonymous visitors are sent to sign in. Filters (branch within the scope, a period) come
from a GET form: the page shows its errors and the unfiltered scope; a CSV answers 400.
Charts are inline SVG drawn here (no script, no CDN), each followed by its numbers in a
table; the figures come from farmers.reports in a fixed number of queries.
"""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core.csv_export import csv_response, safe_cell

from . import access, reports, selectors

KINDS = ("status", "communes", "weeks", "shops")
MIN_DATE = datetime.date(2000, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)


# --- Filters -----------------------------------------------------------------------------------


class ReportFilterForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=gettext_lazy("Association branch"),
        required=False,
        queryset=None,
        empty_label=gettext_lazy("All"),
    )
    start = forms.DateField(
        label=gettext_lazy("Registered from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("Registered until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, branches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        for name in self.fields:
            self.fields[name].widget.attrs.setdefault("class", "form-control")

    def _clean_date(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not MIN_DATE <= value <= MAX_DATE:
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return value

    def clean_start(self):
        return self._clean_date("start")

    def clean_end(self):
        return self._clean_date("end")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error(
                "end", _("The end of the period must be on or after its start (%(start)s).")
                % {"start": formats.date_format(start, "SHORT_DATE_FORMAT")},
            )  # fmt: skip
        return data


def _filters(request, membership):
    """(form, filters): the filters are empty unless the whole form is valid."""
    branches = selectors.branches_for(request.user, membership).order_by("name")
    form = ReportFilterForm(request.GET or None, branches=branches)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, {"branch": data["branch"], "start": data["start"], "end": data["end"]}
    return form, {}


# --- Charts: inline SVG, computed here ---------------------------------------------------------

CHART_WIDTH = 320
BAR_X = 124
BAR_MAX = 150
ROW = 22
LABEL_CHARS = 20


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bar_chart(rows, *, chart_id: str, title: str) -> dict:
    """Horizontal (optionally stacked) bars: rows of (label, [(css class, value), ...]).

    Integer geometry only (no localised decimals in SVG attributes); the description
    lists every number for screen readers."""
    totals = [sum(value for _css, value in segments) for _label, segments in rows]
    maximum = max(totals, default=0) or 1
    drawn = []
    for i, ((label, segments), total) in enumerate(zip(rows, totals, strict=True)):
        x, parts = BAR_X, []
        for css, value in segments:
            width = round(value * BAR_MAX / maximum)
            if value and not width:
                width = 1
            if width:
                parts.append({"x": x, "width": width, "css": css, "value": value})
            x += width
        drawn.append(
            {
                "label": _short(label),
                "full_label": label,
                "text_y": i * ROW + 15,
                "bar_y": i * ROW + 5,
                "segments": parts,
                "total": total,
                "total_x": x + 4,
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "description": "; ".join(
            f"{label}: {total}" for (label, _s), total in zip(rows, totals, strict=True)
        ),
        "rows": drawn,
        "width": CHART_WIDTH,
        "height": max(len(rows) * ROW + 4, ROW),
    }


def _status_chart(status_report):
    rows = [(label, [(code, n)]) for code, label, n in status_report.by_status]
    return bar_chart(rows, chart_id="chart-status", title=_("Members by status"))


def _communes_chart(status_report):
    rows = [
        (c.name, [(status.value, c.counts[status]) for status in reports.STATUSES])
        for c in status_report.top_communes
    ]
    return bar_chart(rows, chart_id="chart-communes", title=_("Members by commune"))


def _week_label(row) -> str:
    return _("Week %(week)s/%(year)s") % {"week": row.week, "year": row.year}


def _weeks_chart(weeks):
    rows = [(_week_label(row), [("weeks", row.approvals)]) for row in weeks]
    return bar_chart(rows, chart_id="chart-weeks", title=_("Members approved per week"))


def _shops_chart(shop_report):
    rows = [
        (_("Shops opened"), [("shops", shop_report.shops)]),
        (_("Products on sale"), [("approved", shop_report.on_sale)]),
        (_("Products waiting for approval"), [("pending", shop_report.waiting)]),
    ]
    return bar_chart(rows, chart_id="chart-shops", title=_("Shops and products"))


# --- The page ----------------------------------------------------------------------------------


def _data(user, membership, kinds, *, branch=None, start=None, end=None) -> dict:
    """The report tables named in `kinds`, one query each (the shops table reuses the
    status query)."""
    data = {}
    members = reports.filtered_members(user, membership, branch=branch, start=start, end=end)
    if {"status", "communes", "shops"} & set(kinds):
        data["status"] = reports.members_by_status_and_commune(members)
    if "shops" in kinds:
        data["shops"] = reports.listings_by_commune(members, data["status"])
    if "weeks" in kinds:
        window = reports.week_window(start=start, end=end)
        in_scope = reports.filtered_members(user, membership, branch=branch)
        data["window"] = window
        data["weeks"] = reports.approvals_per_week(in_scope, window)
    return data


@login_required
def report_page(request):
    membership = access.staff_scope(request).membership
    form, filters = _filters(request, membership)
    data = _data(request.user, membership, KINDS, **filters)
    status, shops, weeks = data["status"], data["shops"], data["weeks"]
    query = request.GET.copy() if filters else {}
    return render(
        request,
        "farmers/reports/index.html",
        {
            "membership": membership,
            "form": form,
            "filtered": bool(filters) and any(filters.values()),
            "status": status,
            "status_chart": _status_chart(status),
            "communes_chart": _communes_chart(status),
            "statuses": [(s.value, s.label) for s in reports.STATUSES],
            "shops": shops,
            "shops_chart": _shops_chart(shops),
            "window": data["window"],
            "weeks": weeks,
            "weeks_total": sum(row.approvals for row in weeks),
            "weeks_chart": _weeks_chart(weeks),
            "max_weeks": reports.MAX_WEEKS,
            "csv_query": query.urlencode() if query else "",
        },
    )


# --- CSV ---------------------------------------------------------------------------------------


def _table(kind, data) -> tuple[list, list]:
    from marketplace.models import ProductListing

    status_labels = [s.label for s in reports.STATUSES]
    if kind == "status":
        report = data["status"]
        rows = [[label, n] for _code, label, n in report.by_status]
        rows.append([_("Total"), report.total])
        return [_("Status"), _("Members")], rows
    if kind == "communes":
        report = data["status"]
        header = [_("Commune / ward"), *status_labels, _("Total"), _("Shops opened")]
        rows = [[c.name, *c.by_status, c.total, c.shops] for c in report.communes]
        return header, rows
    if kind == "weeks":
        # Dates as everywhere else, day first, and the header says so.
        header = [_("ISO week"), _("Week starting (dd/mm/yyyy)"), _("Members approved")]
        rows = [[row.iso, f"{row.monday:%d/%m/%Y}", row.approvals] for row in data["weeks"]]
        return header, rows
    listing_labels = [ProductListing.Status(s).label for s in reports.LISTING_STATUSES]
    header = [_("Commune / ward"), _("Shops opened"), *listing_labels]
    rows = [
        [c.name, c.shops, *(c.listings[s] for s in reports.LISTING_STATUSES)]
        for c in data["shops"].communes
    ]
    return header, rows


@login_required
def report_csv(request, kind):
    membership = access.staff_scope(request).membership
    if kind not in KINDS:
        raise Http404
    form, filters = _filters(request, membership)
    if form.is_bound and not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    data = _data(request.user, membership, (kind,), **filters)
    header, rows = _table(kind, data)
    response, writer = csv_response(
        f"nongsan-{kind}-{timezone.localdate():%Y-%m-%d}.csv", private=True
    )
    writer.writerow([safe_cell(str(h)) for h in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return response
