"""Cached trace pages served before the rest of Django's middleware.

A buyer scanning a label asks for /t/{CODE}/ or /01/{GTIN}/10/{LOT} (or /en/…). Once the
trace view has rendered such a page (traceability.views._trace marks the response), this
middleware keeps the finished response — body and headers — keyed by host and path, and
answers the next request for it right after WhiteNoise: no session, locale, CSRF, auth,
basket or URL resolving, no SQL. It is only a shortcut: the entry carries the lot's chain
head, and is used only while caching.head_key(lot) still holds that head, so a new event,
a correction or a recall (which delete the head) send the next request through the view,
which renders the new page. A conditional request with the page's ETag gets a 304 (not a
scan); every other hit is recorded as a scan, as the view does, in batches (see
traceability.scans.schedule_scan).

A Digital Link (/01/…) is answered by the resolver with a 307 to the lot's page at its short
link (GS1-Conformant Resolver: the default link), in the address's language or, unprefixed,
the visitor's (so an English browser gets one redirect, straight to /en/t/…). That
redirect depends only on the address and the language (a lot's short code never changes):
it is kept whole too, keyed on the exact path and the language, and replayed here.

Only plain GETs without a query string take the shortcut: ?linkType=…, a request for the
linkset (Accept: application/linkset+json), serialised labels (their page carries a
per-serial scan count) and everything else go through the view. The entry is keyed on the
path exactly as the resolver reads it (caching.request_path: the raw, percent-encoded path
when the server gives it), never on a decoded form two different links can share.

Language: the page is in Vietnamese at /t/… and in English at /en/t/…. A scanner landing
on the Vietnamese link whose browser prefers English (Accept-Language) and who has not
chosen a language (the switch on the page sets Django's language cookie, see
views.choose_language) is sent to the English page; responses there vary on both. A
request for the linkset is not redirected: the linkset is answered in place, its titles in
the preferred language (views.digital_link).
"""

import re
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from . import caching, gs1, scans

PATH_RE = re.compile(r"^/(?:en/)?(?:t/[A-Za-z0-9]{8,10}/|01/[^?#]+)$")
SHORT_LINK_RE = re.compile(r"^/(?:(?P<language>en)/)?t/(?P<code>[A-Za-z0-9]{8,10})/$")
UNPREFIXED_RE = re.compile(r"^/(?:t/|01/)")
DIGITAL_LINK_RE = re.compile(r"^/(?:en/)?01/")
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def preferred_language(request) -> str:
    """The language cookie if the visitor chose one, else the first of our languages in
    the browser's Accept-Language, else Vietnamese."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in LANGUAGES:
        return chosen
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        base = code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return settings.LANGUAGE_CODE


SKIPPED_HEADERS = {"set-cookie", "content-length"}
# Vary of a short link's page as the full middleware stack leaves it: the unprefixed
# (Vietnamese) address also varies on the browser's language (LocaleMiddleware).
SHORT_LINK_VARY = {False: ("Accept-Language", "Cookie"), True: ("Cookie",)}
# Unprefixed addresses may redirect by the browser's language and the language cookie.
UNPREFIXED_VARY = ("Accept-Language", "Cookie")


class TemporaryRedirect(HttpResponseRedirect):
    """A 307: the request's method and body are kept (GS1-Conformant Resolver redirects)."""

    status_code = 307


def wants_linkset(request) -> bool:
    """Whether the request asks for the linkset rather than the page (traceability.gs1)."""
    query = request.META.get("QUERY_STRING")
    link_type = gs1.link_type(request.GET.get(gs1.LINK_TYPE_PARAM)) if query else None
    return gs1.wants_linkset(link_type, request.META.get("HTTP_ACCEPT", "")) is not None


class CachedTracePageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("GET", "HEAD")
            and UNPREFIXED_RE.match(request.path_info)
            and not wants_linkset(request)
        ):
            language = preferred_language(request)
            if request.path_info.startswith("/01/"):
                # The resolver redirects to the page in this language itself (one redirect).
                response = self._page(request, language)
            elif language != settings.LANGUAGE_CODE:
                path, decoded = caching.request_path(request)
                target = f"/{language}{quote(path, safe='/') if decoded else path}"
                if request.META.get("QUERY_STRING"):
                    target += "?" + request.META["QUERY_STRING"]
                response = HttpResponseRedirect(target)
                for name, value in gs1.CORS_HEADERS.items():
                    response[name] = value
            else:
                response = self._page(request, linkset_checked=True)
            if not getattr(response, "replayed", False):  # a kept page has this Vary
                patch_vary_headers(response, UNPREFIXED_VARY)
            return response
        return self._page(request)

    def _page(self, request, language=None, *, linkset_checked=False):
        if (
            request.method != "GET"
            or request.META.get("QUERY_STRING")
            or not PATH_RE.match(request.path_info)
            or (not linkset_checked and wants_linkset(request))
        ):
            return self.get_response(request)
        key = caching.fast_key(request.get_host(), *caching.request_path(request))
        if DIGITAL_LINK_RE.match(request.path_info):
            return self._redirect(request, f"{key}:{language or 'prefixed'}")
        entry = cache.get(key)
        if entry is not None:
            lot_pk, head, etag, language, headers, body = entry
            if cache.get(caching.head_key(lot_pk)) == head:
                return self._replay(request, lot_pk, etag, language, headers, body)
        short_link = SHORT_LINK_RE.match(request.path_info)
        if short_link is not None:
            response = self._short_link(request, short_link)
        else:
            response = self.get_response(request)
        marked = getattr(response, "trace_page", None)
        if marked is not None and response.status_code == 200 and not response.streaming:
            lot_pk, head, etag, language = marked
            if UNPREFIXED_RE.match(request.path_info):
                patch_vary_headers(response, UNPREFIXED_VARY)  # as __call__ leaves it
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in SKIPPED_HEADERS
            ]
            cache.set(
                key,
                (lot_pk, head, etag, language, headers, response.content),
                caching.PAGE_TIMEOUT,
            )
        return response

    def _short_link(self, request, match):
        """A short link's page not kept yet (the first scan of the lot, or of its new
        state): the view itself, without the rest of the middleware, as the page never
        reads the session, the user, the basket or a CSRF token. What that middleware
        would add to this response is added here: the language (LocaleMiddleware: the
        address's), X-Frame-Options (XFrameOptionsMiddleware), Content-Length
        (CommonMiddleware) and Vary: Accept-Language, Cookie."""
        from .views import short_link  # the views import this module

        language = match["language"] or settings.LANGUAGE_CODE
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = short_link(request, match["code"])
        if response.get("X-Frame-Options") is None and not getattr(
            response, "xframe_options_exempt", False
        ):
            response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        patch_vary_headers(response, SHORT_LINK_VARY[bool(match["language"])])
        return response

    def _redirect(self, request, key):
        """A Digital Link's 307 to its lot's trace page (views._resolve), kept whole: it
        depends only on the address and the language (a lot's short code never changes)."""
        entry = cache.get(key)
        if entry is not None:
            location = {name.lower(): value for name, value in entry}.get("location", "/")
            response = TemporaryRedirect(location)
            for name, value in entry:
                response[name] = value
            return response
        response = self.get_response(request)
        if getattr(response, "trace_redirect", None) is not None and response.status_code == 307:
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in SKIPPED_HEADERS
            ]
            cache.set(key, headers, caching.MAPPING_TIMEOUT)
        return response

    def _replay(self, request, lot_pk, etag, language, headers, body):
        if caching.etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
            response = HttpResponseNotModified()
            for name, value in headers:
                if name.lower() in (
                    "etag",
                    "cache-control",
                    "vary",
                    "link",
                ) or name.lower().startswith("access-control-"):
                    response[name] = value
            return response
        response = HttpResponse(body)
        store = getattr(response.headers, "_store", None)
        if type(store) is dict:
            # The headers as the kept response held them (checked when they were first
            # set), in their order: Django's own storage, filled at once.
            store.update({name.lower(): (name, value) for name, value in headers})
        else:
            for name, value in headers:
                response[name] = value
        # As the page had when it was kept (CommonMiddleware): the server then sends it
        # whole, as it sends a static file, rather than in chunks.
        response["Content-Length"] = str(len(body))
        response.replayed = True
        scans.schedule_scan(
            lot_id=lot_pk,
            serial_id=None,
            language=language,
            visitor=scans.visitor_hash(request),
            batch=True,
        )
        return response
