"""Oscar's search form for templates (`search_form`), built only when a template reads it.

Oscar's own context processor builds the form for every rendered page; only Oscar's
search results and browse templates read it (the header's search box is a plain form)."""

from django.utils.functional import SimpleLazyObject
from oscar.core.loading import get_class


def search_form(request):
    SearchForm = get_class("search.forms", "SearchForm")
    return {"search_form": SimpleLazyObject(lambda: SearchForm(request.GET))}
