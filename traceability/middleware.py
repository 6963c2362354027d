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

Above GZip, the CSP, Permissions-Policy, the malformed-request guard and WhiteNoise,
KeptTracePageMiddleware answers a short link's kept page again whole: the body and every
header as that stack sent it the first time (kept per worker process, at most KEPT_PAGES of
them, used only while the lot's chain head still holds, as above), compressed once for
gzip and sent with a fresh random gzip file name each time as GZipMiddleware does (against
BREACH). Conditional requests, HEAD, query strings, Digital Links and a visitor sent to
another language go down to CachedTracePageMiddleware as before.
Served by gunicorn (config.wsgi), those kept pages are answered earlier still, by the WSGI
handler before Django's request object, its request signals and the middleware above
(early_answer, registered in apps.ready with marketplace.core.handlers, which writes the
request id, the access log line, Prometheus's counts and SecurityMiddleware's headers as
those middleware would): the same bytes and headers, for less than half the CPU.

Language: the page is in Vietnamese at /t/… and in English at /en/t/…. A scanner landing
on the Vietnamese link whose browser prefers English (Accept-Language) and who has not
chosen a language (the switch on the page sets Django's language cookie, see
views.choose_language) is sent to the English page; responses there vary on both. A
request for the linkset is not redirected: the linkset is answered in place, its titles in
the preferred language (views.digital_link).
"""

import re
import secrets
import threading
from collections import OrderedDict
from gzip import FNAME
from gzip import compress as gzip_compress
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.http.cookie import parse_cookie
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
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
    return _preferred_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME), request.META)


def _preferred_language(chosen, meta) -> str:
    if chosen in LANGUAGES:
        return chosen
    for code, _quality in parse_accept_lang_header(meta.get("HTTP_ACCEPT_LANGUAGE", "")):
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
                return self._replay(request, lot_pk, head, etag, language, headers, body)
        short_link = SHORT_LINK_RE.match(request.path_info)
        if short_link is not None:
            response = self._short_link(request, short_link)
        else:
            response = self.get_response(request)
        marked = getattr(response, "trace_page", None)
        if marked is not None and response.status_code == 200 and not response.streaming:
            response.trace_body = response.content  # for KeptTracePageMiddleware
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

    def _replay(self, request, lot_pk, head, etag, language, headers, body):
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
        # KeptTracePageMiddleware keeps it as the whole stack leaves it.
        response.trace_page = (lot_pk, head, etag, language)
        response.trace_body = body
        scans.schedule_scan(
            lot_id=lot_pk,
            serial_id=None,
            language=language,
            visitor=scans.visitor_hash(request),
            batch=True,
        )
        return response


# --- Kept pages, answered above GZip, the CSP and the rest ---------------------------------

KEPT_PAGES = 256  # per worker process: the most scanned lots' pages (about 12 KB each)
# Set by SecurityMiddleware on the way out (above KeptTracePageMiddleware), by the request's
# scheme: never kept.
NOT_KEPT = {"content-encoding", "set-cookie", "strict-transport-security"}
_kept: OrderedDict = OrderedDict()  # {(host, path, decoded): KeptPage}
_kept_lock = threading.Lock()


@receiver(setting_changed)
def _forget_kept(**_kwargs):
    """The headers kept depend on the settings (CSP, Permissions-Policy, ALLOWED_HOSTS):
    tests change them."""
    with _kept_lock:
        _kept.clear()


class KeptPage:
    """A short link's page as the whole middleware stack sent it: its headers in their
    order (the identity form), its body, and the body gzip-compressed, once, when a client
    that accepts gzip first asks for it (a first scan pays no compression)."""

    __slots__ = (
        "lot_pk",
        "head",
        "head_key",
        "etag",
        "language",
        "headers",
        "body",
        "_gzipped",
        "_gzip_headers",
    )

    def __init__(self, lot_pk, head, etag, language, headers, body):
        self.lot_pk, self.head, self.etag, self.language = lot_pk, head, etag, language
        self.head_key = caching.head_key(lot_pk)
        self.headers, self.body = headers, body
        self._gzipped = None
        self._gzip_headers = None

    @property
    def gzipped(self) -> bytes:
        """The body compressed as GZipMiddleware compresses it, without its random file
        name; b"" when GZipMiddleware would send it uncompressed (short, or no shorter)."""
        if self._gzipped is None:
            body = self.body
            compressed = gzip_compress(body, compresslevel=6, mtime=0)
            # Only when shorter, with the longest file name a response may add.
            limit = len(body) - GZipMiddleware.max_random_bytes - 1
            self._gzipped = compressed if len(body) >= 200 and len(compressed) < limit else b""
        return self._gzipped

    def answer(self, meta) -> tuple[bytes, list]:
        """The body and headers for a request (its META, or the WSGI environ): compressed
        when the client accepts gzip, with a fresh random gzip file name each time as
        GZipMiddleware does (against BREACH), its ETag then weak; and the scan recorded."""
        gzipped = b""
        if re_accepts_gzip.search(meta.get("HTTP_ACCEPT_ENCODING", "")):
            gzipped = self.gzipped
        if gzipped:
            # GZipMiddleware's compress_string: a random file name in each response.
            header = bytearray(gzipped[:10])
            header[3] = FNAME
            name = b"a" * secrets.randbelow(GZipMiddleware.max_random_bytes) + b"\x00"
            body = b"".join((header, name, gzipped[10:]))
            headers = [
                ("Content-Length", str(len(body))) if lower == "content-length" else header
                for header, lower in self._gzip_template()
            ]
        else:
            body = self.body
            headers = list(self.headers)  # Content-Length: the body's, as kept
        scans.schedule_scan(
            lot_id=self.lot_pk,
            serial_id=None,
            language=self.language,
            visitor=scans.visitor_hash_of(meta),
            batch=True,
        )
        return body, headers

    def _gzip_template(self) -> list:
        """The kept headers as GZipMiddleware leaves them: the ETag weak, Content-Encoding
        added (in their order, as HttpResponse's header store keeps them)."""
        if self._gzip_headers is None:
            template = []
            for name, value in self.headers:
                lower = name.lower()
                if lower == "etag" and value.startswith('"'):
                    value = "W/" + value
                template.append(((name, value), lower))
            template.append((("Content-Encoding", "gzip"), "content-encoding"))
            self._gzip_headers = template
        return self._gzip_headers


def _raw_host(meta) -> str | None:
    """The host as HttpRequest.get_host() reads it, not validated: a kept page is found
    only under a host that get_host() validated when it was kept."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        return meta["HTTP_X_FORWARDED_HOST"]
    return meta.get("HTTP_HOST")


def _cookie_language(meta) -> str | None:
    cookie = meta.get("HTTP_COOKIE")
    if not cookie or settings.LANGUAGE_COOKIE_NAME not in cookie:
        return None
    return parse_cookie(cookie).get(settings.LANGUAGE_COOKIE_NAME)


def _kept_path(meta) -> tuple | None:
    """The kept page's path (caching.request_path) for a request KeptTracePageMiddleware
    may answer (a plain GET of a short link, in the language the visitor gets there), else
    None. Kept pages are keyed on (host, path, decoded)."""
    path_info = meta.get("PATH_INFO", "")
    if (
        meta.get("REQUEST_METHOD") == "GET"
        and not meta.get("QUERY_STRING")
        and not meta.get("HTTP_IF_NONE_MATCH")
        and SHORT_LINK_RE.match(path_info)
        and (
            path_info.startswith("/en/")
            or _preferred_language(_cookie_language(meta), meta) == settings.LANGUAGE_CODE
        )
        and gs1.wants_linkset(None, meta.get("HTTP_ACCEPT", "")) is None
    ):
        return caching.request_path_of(meta, path_info)
    return None


def _current(key) -> KeptPage | None:
    """The page kept under `key` while its lot's chain head still holds (a new event, a
    correction or a recall deletes the head: the next request goes through the view)."""
    page = _kept.get(key)
    if page is not None and cache.get(page.head_key) == page.head:
        return page
    return None


def early_answer(environ):
    """For marketplace.core.handlers (register_early_answer): the kept page that answers
    this WSGI request, before Django builds its request object, as
    KeptTracePageMiddleware would answer it; else None. Not when the scan's INSERT would
    run in the request (eager tasks): an early answer makes no SQL query, as the handler
    sends no request signals (the database connection's checks) for it."""
    path = _kept_path(environ) if _kept else None
    if path is None or scans.recorded_in_request():
        return None
    host = _raw_host(environ)
    page = None if host is None else _current((host, *path))
    if page is None:
        return None

    def answer():
        body, headers = page.answer(environ)
        return "200 OK", headers, body

    return answer


class KeptTracePageMiddleware:
    """A short link's kept page, answered right below SecurityMiddleware (which still
    redirects to HTTPS first and adds its headers): no GZip, CSP, Permissions-Policy,
    malformed-request guard or WhiteNoise on the way, with what they added kept. Anything
    this does not answer goes down the stack unchanged, and a page the stack answers is
    kept on the way back. Under gunicorn (config.wsgi), marketplace.core.handlers answers
    kept pages before this (early_answer); this answers them for other servers and the
    test client, and keeps them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = None
        path = _kept_path(request.META)
        if path is not None:
            key = (request.get_host(), *path)
            page = _current(key)
            if page is not None:
                body, headers = page.answer(request.META)
                response = HttpResponse(body)
                store = getattr(response.headers, "_store", None)
                if type(store) is dict:
                    store.clear()  # the kept headers in their order
                    store.update({name.lower(): (name, value) for name, value in headers})
                else:
                    for name, value in headers:
                        response[name] = value
                response.replayed = True
                return response
        response = self.get_response(request)
        if key is not None:
            self._keep(key, response)
        return response

    def _keep(self, key, response):
        marked = getattr(response, "trace_page", None)
        body = getattr(response, "trace_body", None)
        if marked is None or body is None or response.status_code != 200:
            return
        lot_pk, head, etag, language = marked
        identity = {"etag": etag, "content-length": str(len(body))}  # as before GZip
        headers = [
            (name, identity.get(name.lower(), value))
            for name, value in response.items()
            if name.lower() not in NOT_KEPT
        ]
        page = KeptPage(lot_pk, head, etag, language, headers, body)
        with _kept_lock:
            _kept[key] = page
            _kept.move_to_end(key)
            while len(_kept) > KEPT_PAGES:
                _kept.popitem(last=False)
