"""Requests no page can answer, stopped before any view, form or database sees them.

- A NUL byte or bytes that are not UTF-8 in the address (path or query string), or a NUL
  in a posted form value: 400 (PostgreSQL refuses a NUL in text with an error; Django
  would silently turn invalid UTF-8 into "�"). Uploaded files may hold any byte.
- An address parameter named as a row ID (`pk`, `…_pk`, `…_id`) that is not one
  (marketplace.core.numbers.parse_id: "x", "²", beyond 64 bits): 404, as for an ID that
  does not exist. Oscar's dashboard declares some of them as text.
- Query keys no page uses but templates would misread: a key named like a method of the
  query dictionary ("items", "lists", …; a template's `request.GET.items` would return
  the value) is dropped, and so is a page number (`page`, `page_limit`, `per_page`) that
  is not a positive integer (the first page is shown).
"""

from urllib.parse import unquote_to_bytes

from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext as _

from marketplace.core.numbers import parse_id, parse_int

SHADOWING_KEYS = frozenset(name for name in dir(QueryDict) if not name.startswith("_"))
PAGE_KEYS = ("page", "page_limit", "per_page")


def is_malformed_text(raw: bytes) -> bool:
    """True when percent-decoded `raw` holds a NUL byte or is not valid UTF-8."""
    decoded = unquote_to_bytes(raw)
    if b"\x00" in decoded:
        return True
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class RejectMalformedRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Django decodes the path as UTF-8 and writes bytes that are not UTF-8 back as
        # "%XX": decoding that again finds them. The query string comes as it was sent.
        # Most requests have a plain ASCII path without "%" and no query: nothing to decode.
        path_info = request.path_info
        query_string = request.META.get("QUERY_STRING", "")
        bad = False
        if not (path_info.isascii() and "%" not in path_info and "\x00" not in path_info):
            bad = is_malformed_text(path_info.encode("utf-8", "surrogatepass"))
        if query_string and not bad:
            bad = is_malformed_text(query_string.encode("latin-1", "replace"))
        if not bad and request.method == "POST" and _is_form(request):
            bad = any("\x00" in value for values in request.POST.lists() for value in values[1])
            bad = bad or any("\x00" in key for key in request.POST)
        if bad:
            return HttpResponseBadRequest(
                _("This address or form holds characters a page cannot use."),
                content_type="text/plain; charset=utf-8",
            )
        if query_string:  # without one, request.GET is empty: nothing to drop
            _drop_unusable_query_keys(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for name, value in view_kwargs.items():
            if _names_an_id(name) and parse_id(value) is None:
                raise Http404
        return None


def _names_an_id(name: str) -> bool:
    return name == "pk" or name.endswith(("_pk", "_id"))


def _drop_unusable_query_keys(request) -> None:
    query = request.GET
    drop = [
        key
        for key in query
        if key in SHADOWING_KEYS
        or (key in PAGE_KEYS and parse_int(query.get(key), minimum=1) is None)
    ]
    if drop:
        kept = query.copy()
        for key in drop:
            del kept[key]
        kept._mutable = False
        request.GET = kept


def _is_form(request) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
