"""Oscar's order list and statistics forms, with the last day a date field can hold
refused as an end date (Oscar adds a day to it: 31/12/9999 was a 500)."""

import datetime

from django.core.validators import MaxValueValidator
from oscar.apps.dashboard.orders.forms import OrderSearchForm as OscarOrderSearchForm
from oscar.apps.dashboard.orders.forms import OrderStatsForm as OscarOrderStatsForm

LAST_END_DATE = datetime.date.max - datetime.timedelta(days=1)


def _bound_end_date(form) -> None:
    form.fields["date_to"].validators.append(MaxValueValidator(LAST_END_DATE))


class OrderStatsForm(OscarOrderStatsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bound_end_date(self)


class OrderSearchForm(OscarOrderSearchForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bound_end_date(self)
