"""Oscar's order statistics form, with the last day a date field can hold refused (Oscar
adds a day to the end date: 31/12/9999 was a 500)."""

import datetime

from django.core.validators import MaxValueValidator
from oscar.apps.dashboard.orders.forms import OrderStatsForm as OscarOrderStatsForm


class OrderStatsForm(OscarOrderStatsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_to"].validators.append(
            MaxValueValidator(datetime.date.max - datetime.timedelta(days=1))
        )
