"""The harvest outlook page and its CSV (/lo-hang/trien-vong/), for association staff and
the operator. Thin: the numbers come from traceability.outlook.harvest_outlook; the chart
is inline SVG drawn here (no script, no library)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from marketplace.core.csv_export import csv_response, safe_cell
from marketplace.core.numbers import parse_int

from . import outlook

PER_PAGE = 10
# Chart geometry (integers: no localised decimals in SVG attributes).
CHART_WIDTH, CHART_HEIGHT, BAR_TOP, BAR_AREA = 320, 132, 16, 90
GROUP = CHART_WIDTH // outlook.WEEKS  # 40 px a week: two bars of 14 px
BAR = 14


def _offset(request) -> int:
    return parse_int(request.GET.get("week", ""), 0, minimum=0, maximum=outlook.MAX_OFFSET)


def _allowed(request):
    if not outlook.may_see_outlook(request.user):
        raise PermissionDenied


def _number(value) -> str:
    """A quantity as the page shows it: dots between thousands, a comma for decimals."""
    text = f"{value:,}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def chart(row, mondays, index) -> dict:
    """Vertical bars, two a week (expected, pre-ordered), scaled to the row's largest."""
    largest = max([*row.expected, *row.preordered, 0]) or 1
    weeks = []
    for i, (expected, preordered) in enumerate(row.weeks):
        x = i * GROUP + 5
        bars = []
        for css, value, dx in (("expected", expected, 0), ("preordered", preordered, BAR)):
            height = round(value * BAR_AREA / largest)
            if value and not height:
                height = 1
            bars.append(
                {"css": css, "x": x + dx, "y": BAR_TOP + BAR_AREA - height, "height": height}
            )
        weeks.append(
            {
                "bars": bars,
                "label": f"{mondays[i]:%d/%m}",
                "label_x": i * GROUP + GROUP // 2,
                "title": _("Week from %(date)s: %(expected)s expected, %(preordered)s pre-ordered")
                % {
                    "date": f"{mondays[i]:%d/%m/%Y}",
                    "expected": _number(expected),
                    "preordered": _number(preordered),
                },
            }
        )
    return {
        "id": f"outlook-{index}",
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "bar": BAR,
        "axis_y": BAR_TOP + BAR_AREA,
        "label_y": BAR_TOP + BAR_AREA + 14,
        "weeks": weeks,
    }


@login_required
def harvest_outlook(request):
    _allowed(request)
    offset = _offset(request)
    data = outlook.harvest_outlook(request.user, offset=offset)
    page = Paginator(data.rows, PER_PAGE).get_page(
        parse_int(request.GET.get("page", ""), 1, minimum=1)
    )
    rows = [
        {
            "row": row,
            "chart": chart(row, data.mondays, page.start_index() + i),
            "weeks": [
                (monday, _number(expected), _number(preordered))
                for monday, (expected, preordered) in zip(data.mondays, row.weeks, strict=True)
            ],
            "expected_total": _number(row.expected_total),
            "preordered_total": _number(row.preordered_total),
            "on_sale": _number(row.on_sale),
            "sold": _number(row.sold),
        }
        for i, row in enumerate(page.object_list)
    ]
    return render(
        request,
        "traceability/harvest_outlook.html",
        {
            "outlook": data,
            "page": page,
            "rows": rows,
            "offset": offset,
            "page_query": f"week={offset}" if offset else "",
            "earlier": offset - outlook.WEEKS
            if offset >= outlook.WEEKS
            else (0 if offset else None),
            "later": offset + outlook.WEEKS
            if offset + outlook.WEEKS <= outlook.MAX_OFFSET
            else None,
            "last_day": data.end - timedelta(days=1),
        },
    )


@login_required
def harvest_outlook_csv(request):
    _allowed(request)
    data = outlook.harvest_outlook(request.user, offset=_offset(request))
    response, writer = csv_response(
        f"nongsan-trien-vong-thu-hoach-{data.start:%Y-%m-%d}.csv", private=True
    )
    writer.writerow(
        [
            _("Product"),
            _("Province"),
            _("Commune / ward"),
            _("Unit"),
            *(_("Expected, week from %(date)s") % {"date": f"{m:%d/%m/%Y}"} for m in data.mondays),
            _("Expected in 8 weeks"),
            *(
                _("Pre-ordered, week from %(date)s") % {"date": f"{m:%d/%m/%Y}"}
                for m in data.mondays
            ),
            _("Pre-ordered in 8 weeks"),
            _("On sale now"),
            _("Sold from lots on sale"),
        ]
    )
    for row in data.rows:
        writer.writerow(
            [
                safe_cell(row.product),
                row.province,
                row.commune,
                safe_cell(row.unit),
                *row.expected,
                row.expected_total,
                *row.preordered,
                row.preordered_total,
                row.on_sale,
                row.sold,
            ]
        )
    return response
