"""Work other apps put on the operator's home (`/quan-tri/`), so that marketplace lists it
without importing them (as marketplace.core.payees and marketplace.core.lots do for bank
accounts and lots).

An app registers, in its AppConfig.ready(), a queue (a label, the URL name of the page
that works it, and a function counting what waits: one query) with
`register_operator_queue`, and pages with `register_operator_page`.
marketplace.site_settings.views.operator_home shows them after its own queues and pages.
traceability registers the lots waiting for a food-safety review and the list of banned
active ingredients.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Queue:
    label: str
    url_name: str
    count: Callable[[], int]


@dataclass(frozen=True)
class Page:
    label: str
    url_name: str


_queues: dict[str, Queue] = {}
_pages: dict[str, Page] = {}


def register_operator_queue(*, label, url_name: str, count: Callable[[], int]) -> None:
    """Show `label` with `count()` on the operator's home, linking to `url_name`
    (registering the same URL name again replaces the entry)."""
    _queues[url_name] = Queue(label, url_name, count)


def register_operator_page(*, label, url_name: str) -> None:
    _pages[url_name] = Page(label, url_name)


def operator_tasks() -> list[dict]:
    """The registered queues as the home's tiles: count (one query each), label, url."""
    return [
        {"count": queue.count(), "label": queue.label, "url": reverse(queue.url_name)}
        for queue in _queues.values()
    ]


def operator_pages() -> list[dict]:
    return [{"label": page.label, "url": reverse(page.url_name)} for page in _pages.values()]
