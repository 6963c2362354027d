"""Fork of Oscar's search app (it has no models): catalogue, category and search pages
read SearchEntry on the database instead of haystack."""

from oscar.apps.search import apps


class SearchConfig(apps.SearchConfig):
    name = "marketplace.search"
