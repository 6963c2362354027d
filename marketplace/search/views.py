"""Catalogue, category and search pages on SearchEntry (see listing.py)."""

from urllib.parse import quote_plus, urlencode

from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from oscar.core.loading import get_model

from marketplace.core.ratelimit import throttle
from marketplace.search.listing import SORTS, category_scope, run_listing

Category = get_model("catalogue", "Category")


def query_without(params, name=None, value=None, **replace) -> str:
    """The current query string with one facet value toggled and the page reset."""
    pairs = [(k, v) for k in params for v in params.getlist(k) if k != "page"]
    if name is not None:
        if (name, value) in pairs:
            pairs.remove((name, value))
        else:
            pairs.append((name, value))
    for key, new in replace.items():
        pairs = [(k, v) for k, v in pairs if k != key]
        if new not in (None, ""):
            pairs.append((key, new))
    return urlencode(pairs)


def facet_links(params, facet) -> None:
    """Each value's link (`value.url`, query_without toggling it) and the facet's list
    items (`facet.items_html`), written here rather than by a template loop: a search can
    show hundreds of producers and provinces, and this is the same markup at a fraction of
    the cost."""
    pairs = [(k, v) for k in params for v in params.getlist(k) if k != "page"]
    base = urlencode(pairs)
    name = quote_plus(facet.name)
    items = []
    for value in facet.values:
        if (facet.name, value.key) in pairs:
            value.url = "?" + query_without(params, facet.name, value.key)
        else:  # adding a value: the same as query_without, without re-encoding the rest
            added = f"{name}={quote_plus(value.key)}"
            value.url = f"?{base}&{added}" if base else f"?{added}"
        if not (value.count or value.selected):
            continue
        if value.selected:
            selected, current, box = " is-selected", ' aria-current="true"', "☑"
        else:
            selected, current, box = "", "", "☐"
        items.append(
            f'<li><a href="{escape(value.url)}" rel="nofollow" '
            f'class="nongsan-facet-value{selected}"{current}>'
            f'<span aria-hidden="true">{box}</span> {escape(value.label)}</a> '
            f'<span class="nongsan-muted">({value.count})</span></li>'
        )
    facet.items_html = mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


class ListingView(TemplateView):
    template_name = "marketplace/listing.html"
    hide_facets: tuple = ()

    def get_scope(self):
        return None

    def get_summary(self) -> str:
        return _("All products")

    def get_listing(self):
        return run_listing(self.request.GET, scope=self.get_scope(), hide=self.hide_facets)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        listing = self.get_listing()
        params = self.request.GET
        for facet in listing.facets:
            facet_links(params, facet)
        context.update(
            listing=listing,
            entries=listing.entries,
            page_obj=listing.page,
            paginator=listing.paginator,
            facets=[f for f in listing.facets if f.has_values],
            selection=listing.selection,
            summary=self.get_summary(),
            sorts=SORTS,
            page_query=query_without(params),
            # What the sort form carries along (pairs from the view: a query key named
            # like a QueryDict method, e.g. "lists", must not reach the template).
            kept_fields=[
                (k, v) for k in params for v in params.getlist(k) if k not in ("sort", "page")
            ],
            # "Clear filters" keeps the words searched for, drops every facet.
            clear_url="?" + urlencode({"q": listing.selection.q} if listing.selection.q else {}),
        )
        return context


class CatalogueView(ListingView):
    pass


class FacetedSearchView(ListingView):
    """Oscar's search URL (search:search)."""

    template_name = "marketplace/search_results.html"

    def get(self, request, *args, **kwargs):
        if (refused := throttle(request, scope="search")) is not None:
            return refused
        return super().get(request, *args, **kwargs)

    def get_summary(self):
        q = self.request.GET.get("q", "").strip()
        return _('Products matching "%(q)s"') % {"q": q} if q else _("Search")


class ProductCategoryView(ListingView):
    template_name = "marketplace/category.html"

    def get(self, request, *args, **kwargs):
        self.category = get_object_or_404(Category.objects.browsable(), pk=kwargs["pk"])
        expected = self.category.get_absolute_url()
        if request.path != expected:
            query = request.META.get("QUERY_STRING")
            return HttpResponsePermanentRedirect(expected + (f"?{query}" if query else ""))
        return super().get(request, *args, **kwargs)

    def get_scope(self):
        return category_scope(self.category)

    def get_summary(self):
        return self.category.name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.category
        return context
