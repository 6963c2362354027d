"""One date and time format everywhere: dd/mm/yyyy and HH:MM in Vietnam time, in Vietnamese
and in English; dates typed day first."""

import datetime
import re
from pathlib import Path

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone, translation

ROOT = Path(__file__).resolve().parent.parent
# 05:56 UTC is 12:56 in Vietnam (UTC+7).
MOMENT = datetime.datetime(2026, 12, 5, 5, 56, tzinfo=datetime.UTC)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dates_and_times_show_as_dd_mm_yyyy_hh_mm_in_vietnam_time(language):
    template = Template(
        "{{ day }}|{{ day|date }}|{{ day|date:'SHORT_DATE_FORMAT' }}|{{ moment }}|"
        "{{ moment|date:'DATETIME_FORMAT' }}|{{ moment|date:'SHORT_DATETIME_FORMAT' }}|"
        "{{ moment|time }}"
    )
    with translation.override(language), timezone.override("Asia/Ho_Chi_Minh"):
        rendered = template.render(Context({"day": datetime.date(1986, 3, 15), "moment": MOMENT}))
    assert rendered.split("|") == [
        "15/03/1986",
        "15/03/1986",
        "15/03/1986",
        "05/12/2026 12:56",
        "05/12/2026 12:56",
        "05/12/2026 12:56",
        "12:56",
    ]


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("typed", ["03/04/2026", "2026-04-03", "03-04-2026", "03.04.2026"])
def test_a_typed_date_is_read_day_first(language, typed):
    class DayForm(forms.Form):
        day = forms.DateField()

    with translation.override(language):
        form = DayForm({"day": typed})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == datetime.date(2026, 4, 3)


def test_no_template_spells_a_date_another_way():
    """Templates use the named formats or d/m/Y, H:i (never d-m-Y, m/d/Y, or Oscar's
    long Vietnamese form)."""
    allowed = {"d/m/Y", "d/m/Y H:i", "d/m/Y H:i:s", "d/m", "H:i", "Y-m-d", "c", "U"}
    pattern = re.compile(r"\|(?:date|time):\s*[\"']([^\"']+)[\"']")
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        for fmt in pattern.findall(path.read_text()):
            if fmt not in allowed and not fmt.endswith("_FORMAT"):
                offenders.append((str(path.relative_to(ROOT)), fmt))
    assert offenders == []
