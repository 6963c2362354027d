"""Cache keys of the public trace page.

Three layers, so that a warm request makes no SQL query at all:
- a mapping from the way a lot is addressed (short code, or GTIN-14 + lot code) to its pk;
- the head of the lot's chain (the last event's hash, plus "-recalled" once the lot is
  recalled: views.trace_head), deleted whenever an event is appended
  (services.record_event), the chain is found broken (verify_traces) or the lot is
  recalled (recalls.recall_lot, on commit);
- the rendered page, keyed by lot pk + chain head + language (+ host, for absolute URLs),
  so a new event, which changes the head, yields a new page without explicit purging.
"""

import hashlib
from urllib.parse import quote, urlsplit

from django.core.cache import cache

MAPPING_TIMEOUT = 24 * 3600
HEAD_TIMEOUT = 3600
PAGE_TIMEOUT = 3600


def short_key(short_code: str) -> str:
    return f"trace:short:{short_code}"


def digital_link_key(gtin14: str, lot_code: str) -> str:
    # Lot codes are case-sensitive and may hold "/" and "."; hash them into a safe key.
    digest = hashlib.sha256(lot_code.encode("utf-8")).hexdigest()[:32]
    return f"trace:dl:{gtin14}:{digest}"


def head_key(lot_pk: int) -> str:
    return f"trace:head:{lot_pk}"


def page_key(lot_pk: int, head: str, language: str, host: str) -> str:
    host_digest = hashlib.sha256(host.encode("utf-8")).hexdigest()[:12]
    return f"trace:page:{lot_pk}:{head}:{language}:{host_digest}"


def invalidate_lot(lot_pk: int) -> None:
    cache.delete(head_key(lot_pk))


def request_path(request) -> tuple[str, bool]:
    """The request's path exactly as the resolver reads it, and whether it is the decoded
    form: the raw, still percent-encoded path when the server passes it on (gunicorn:
    RAW_URI; others: REQUEST_URI), so that "%2F" inside a lot code stays part of it; else
    (Django's runserver, the test client) the decoded path Django has.

    Both the resolver (traceability.gs1.parse_digital_link) and the page cache key
    (fast_key) take this one string: "/10/A%2F21%2FB" (lot "A/21/B") and "/10/A/21/B"
    (lot "A", serial "B") are two paths, never one cache entry."""
    return request_path_of(request.META, request.path_info)


def request_path_of(meta, path_info: str) -> tuple[str, bool]:
    """request_path from the request's META (or the WSGI environ) and its path_info."""
    raw = meta.get("RAW_URI") or meta.get("REQUEST_URI") or ""
    if raw:
        path = urlsplit(raw).path
        if path.startswith("/"):
            return path, False
    return path_info, True


def fast_key(host: str, path: str, decoded: bool = False) -> str:
    """The finished response for a trace page URL (traceability.middleware), keyed on the
    exact path from request_path (a decoded path is quoted, with a mark of its own)."""
    if decoded:
        path = "decoded:" + quote(path, safe="/")
    digest = hashlib.sha256(f"{host}\n{path}".encode()).hexdigest()[:40]
    return f"trace:fast:{digest}"


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak or strong), or is "*"."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
