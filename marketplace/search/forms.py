from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.search.listing import MAX_QUERY_LENGTH


class SearchInput(forms.TextInput):
    input_type = "search"


class SearchForm(forms.Form):
    """The site-wide search box (Oscar's context processor puts it on every page)."""

    q = forms.CharField(
        required=False,
        max_length=MAX_QUERY_LENGTH,
        label=_("Search"),
        widget=SearchInput(
            attrs={"placeholder": _("Search: cà phê, ca phe, sầu riêng…"), "autocomplete": "off"}
        ),
    )
