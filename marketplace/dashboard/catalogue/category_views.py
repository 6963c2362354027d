"""Oscar's catalogue dashboard pages that failed on malformed input.

The category edit page's "View on site" link and title use the category as stored, not
as typed into a form that failed (an empty name left no address to link to: a 500).
"""

from oscar.apps.dashboard.catalogue.views import CategoryUpdateView as OscarCategoryUpdateView
from oscar.apps.dashboard.catalogue.views import ProductLookupView as OscarProductLookupView

from marketplace.core.numbers import parse_id


class CategoryUpdateView(OscarCategoryUpdateView):
    def form_invalid(self, form):
        self.object = type(self.object).objects.get(pk=self.object.pk)
        return self.render_to_response(self.get_context_data(form=form))


class ProductLookupView(OscarProductLookupView):
    """Oscar's product search for dashboard forms: `initial` IDs that are not IDs
    (marketplace.core.numbers.parse_id) are left out instead of failing the lookup."""

    def initial_filter(self, qs, value):
        return qs.filter(pk__in=[pk for pk in map(parse_id, value.split(",")) if pk])
