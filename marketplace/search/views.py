"""Catalogue, category and search pages on SearchEntry (see listing.py)."""

from html import escape as html_escape
from urllib.parse import quote, quote_plus, urlencode

from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
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
    the cost (the standard library's escape, which Django's wraps; an added value's link
    is the page's own query, escaped once, and the value, which quote_plus leaves with
    nothing to escape)."""
    pairs = [(k, v) for k in params for v in params.getlist(k) if k != "page"]
    chosen = set(pairs)
    base = urlencode(pairs)
    added_to = f"?{base}&" if base else "?"
    added_to_html = html_escape(added_to)
    name = quote_plus(facet.name)
    items = []
    for value in facet.values:
        key = value.key if value.key.isascii() and value.key.isalnum() else quote_plus(value.key)
        if (facet.name, value.key) in chosen:
            value.url = "?" + query_without(params, facet.name, value.key)
            href = html_escape(value.url)
        else:  # adding a value: the same as query_without, without re-encoding the rest
            value.url = f"{added_to}{name}={key}"
            href = f"{added_to_html}{name}={key}"
        if not (value.count or value.selected):
            continue
        if value.selected:
            selected, current, box = " is-selected", ' aria-current="true"', "☑"
        else:
            selected, current, box = "", "", "☐"
        items.append(
            f'<li><a href="{href}" rel="nofollow" '
            f'class="nongsan-facet-value{selected}"{current}>'
            f'<span aria-hidden="true">{box}</span> {html_escape(str(value.label))}</a> '
            f'<span class="nongsan-muted">({value.count})</span></li>'
        )
    facet.items_html = mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


# Digits: a value every pattern of the card links accepts (int, slug, Oscar's [\w-]*).
_MARK = 8128812881288128
# What reverse() leaves unquoted in an address (django.urls.resolvers).
_SAFE = "!$&'()*+,;=/~:@"


def _link_maker(viewname: str, *names: str):
    """reverse(viewname) once for a page of rows, then each row's address by putting its
    values in, quoted as reverse() quotes them."""
    marks = {name: str(_MARK + i) for i, name in enumerate(names)}
    template = reverse(viewname, kwargs=marks).replace("{", "{{").replace("}", "}}")
    for name, mark in marks.items():
        template = template.replace(mark, "{" + name + "}")

    def link(**values) -> str:
        return template.format(**{k: quote(str(v), safe=_SAFE) for k, v in values.items()})

    return link


def card_links(entries) -> None:
    """Each product card's addresses, as reverse() gives them (`entry.product_url`,
    `entry.producer_url`, `entry.add_url`, and `entry.image_url`: the thumbnail or the
    placeholder), with one reverse() per page instead of three per card."""
    product = _link_maker("catalogue:detail", "product_slug", "pk")
    producer = _link_maker("marketplace:producer", "slug")
    add = _link_maker("basket:add", "pk")
    no_image = static("oscar/img/image_not_found.jpg")
    for entry in entries:
        entry.product_url = product(product_slug=entry.product.slug, pk=entry.product.pk)
        entry.producer_url = producer(slug=entry.producer.slug) if entry.producer else ""
        entry.add_url = add(pk=entry.product.pk)
        entry.image_url = entry.thumbnail_url or no_image


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
        card_links(listing.entries)
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
