"""Traceability pages.

Public (no sign-in, no JavaScript): the GS1 Digital Link resolver /01/{GTIN}/10/{LOT}…
and the short link /t/{CODE}/, which render the same light trace page, cached whole.

Farmers and staff (phone first): my lots, create a lot, a lot's timeline, add an event.
Who may do what: traceability.access.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cached_property, partial
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import is_valid_path
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.encoding import iri_to_uri
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from oscar.core.loading import get_model

from marketplace.catalogue import batches
from marketplace.core.links import absolute_url
from marketplace.core.numbers import parse_id
from marketplace.core.redirects import safe_next
from marketplace.models import Certificate
from marketplace.shops import services as shop_services

from . import caching, gs1, integrity, safety, sale, scans, selectors, services, trace_page
from .access import lot_manager_required, lots_for, producers_for
from .forms import EventForm, GlnForm, LotForm
from .gs1 import LinkError, digital_link_path, parse_digital_link, product_gtin, upc_candidates
from .middleware import TemporaryRedirect, preferred_language
from .models import SHORT_CODE_RE, ZERO_HASH, FarmEvent, Lot, SerialNumber

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")
PHOTO_STORAGE = ProductImage._meta.get_field("original").storage

CACHE_CONTROL = "public, max-age=300"
# A serialised label's page carries its own scan count: never shared by caches.
SERIAL_CACHE_CONTROL = "private, no-cache"
LOT_RELATED = selectors.LOT_RELATED
PAGE_SIZE = 20
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


# --- Public: resolver and trace page ----------------------------------------------------------


def localized(path: str, language: str) -> str:
    """`path` (without language prefix) as served in `language` (vi at "/", en at "/en/")."""
    if language == settings.LANGUAGE_CODE:
        return path
    return f"/{language}{path}"


@require_safe
def choose_language(request, language):
    """The language switch of the trace page (a plain link, no JavaScript): remembers the
    choice in Django's language cookie, so a scanner's later scans open in it too, and
    goes to `next` in that language."""
    if language not in LANGUAGE_CODES:
        raise Http404
    target = safe_next(request, "/")
    for code in LANGUAGE_CODES:
        if target.startswith(f"/{code}/"):
            target = target[len(code) + 1 :]
    response = redirect(localized(target, language))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
        samesite="Lax",
    )
    return response


def short_path(lot_or_code) -> str:
    code = getattr(lot_or_code, "short_code", lot_or_code)
    return f"/t/{code}/"


def _bad_link(message) -> HttpResponse:
    html = loader.get_template("traceability/bad_link.html").render({"message": message})
    return HttpResponse(html, status=400)


def _not_found(message=None) -> HttpResponse:
    html = loader.get_template("traceability/not_found.html").render({"message": message})
    return HttpResponse(html, status=404)


# --- The GS1-conformant resolver ---------------------------------------------------------------
#
# What a request for /01/{GTIN}/… gets (GS1-Conformant Resolver 1.1; the rules that need no
# database are in traceability.gs1):
# - no linkType (or defaultLink, defaultLinkMulti, traceability): a 307 to the default link,
#   the lot's trace page at its short link /t/{CODE}/ (or /t/{CODE}/{SERIAL}/), in the
#   address's language (for an unprefixed address, the visitor's: one redirect, never two).
#   GS1-Conformant Resolver 1.1 and GS1's resolver test suite expect the redirect; the
#   redirect itself is cached whole (traceability.middleware), the page at the short link
#   too, so a scan costs one cached redirect and one cached page;
# - linkType=linkset (or "all"), or Accept: application/linkset+json: the linkset (RFC 9264)
#   of every level the link names, up to the GTIN, titles in the visitor's language;
# - linkType=gs1:pip, and a link with only a GTIN: a 307 to the product page, the query
#   string passed on; any other link type: a 404 that says so;
# - a serial (or 235) the lot never printed: a 307 to the lot's link; a lot the GTIN never
#   had: the GTIN's answer (walking up the tree); a GTIN we do not sell: 404;
# - every answer carries a Link header to the linkset (and, for a compressed link, the
#   uncompressed one as owl:sameAs), CORS headers, and answers OPTIONS and HEAD.

PAGE_LINK_TYPES = {None, "defaultLink", "defaultLinkMulti", "traceability"}
RESOLVER_METHODS = ["GET", "HEAD", "OPTIONS"]


def _options() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Allow"] = ", ".join(RESOLVER_METHODS)
    response["Access-Control-Max-Age"] = "86400"
    return _cors(response)


def _cors(response):
    for name, value in gs1.CORS_HEADERS.items():
        response[name] = value
    return response


def _finish(request, response, link: gs1.DigitalLink, *, same_as=None, linkset=False):
    """The headers every resolver answer carries."""
    anchor = absolute_url(link.path())
    links = [
        (
            f"{anchor}?{gs1.LINK_TYPE_PARAM}=linkset",
            {"rel": "linkset", "type": gs1.LINKSET_TYPE},
        )
    ]
    if same_as:
        links.append((same_as, {"rel": "owl:sameAs"}))
    if linkset:
        links.append(
            (gs1.LINKSET_CONTEXT, {"rel": gs1.JSON_LD_CONTEXT_REL, "type": "application/ld+json"})
        )
    response["Link"] = gs1.link_header(*links)
    patch_vary_headers(response, ("Accept",))
    return _cors(response)


def _redirect(request, target: str) -> HttpResponse:
    """A 307 to `target`, the request's key=value pairs passed on (less linkType)."""
    query = gs1.query_without_link_type(request.META.get("QUERY_STRING", ""))
    if query:
        target += ("&" if "?" in target else "?") + query
    return TemporaryRedirect(iri_to_uri(target))


def _request_language(request) -> str:
    """The answer's language: the address's (/en/…), else for an unprefixed address the
    visitor's choice or browser (a linkset is answered in place, not redirected)."""
    language = get_language() or settings.LANGUAGE_CODE
    path, _decoded = caching.request_path(request)
    if language == settings.LANGUAGE_CODE and not path.startswith(f"/{language}/"):
        chosen = translation.get_language_from_request(request)
        if chosen in LANGUAGE_CODES:
            return chosen
    return language


@transaction.non_atomic_requests
@require_http_methods(RESOLVER_METHODS)
def digital_link(request, rest=""):
    if request.method == "OPTIONS":
        return _options()
    path, decoded = caching.request_path(request)
    index = path.find("/01/")
    path = path[index:] if index >= 0 else path
    try:
        link = parse_digital_link(path, request.META.get("QUERY_STRING", ""), decoded=decoded)
    except LinkError as exc:
        return _cors(_bad_link(exc.message))
    return _resolve(request, link)


@transaction.non_atomic_requests
@require_http_methods(RESOLVER_METHODS)
def compressed_link(request, compressed):
    """A compressed GS1 Digital Link (/{base64url}): answered like the uncompressed link,
    in place (no redirect), which its Link header names as owl:sameAs."""
    if request.method == "OPTIONS":
        return _options()
    try:
        path, query = gs1.decompressed_link(compressed)
    except LinkError as exc:
        if is_valid_path(f"{request.path_info}/"):
            return redirect(f"{request.path}/", permanent=True)  # as APPEND_SLASH would
        return _not_found(exc.message)
    extra = request.META.get("QUERY_STRING", "")
    try:
        link = parse_digital_link(path, "&".join(q for q in (query, extra) if q))
    except LinkError as exc:
        return _cors(_bad_link(exc.message))
    same_as = absolute_url(link.path()) + (f"?{query}" if query else "")
    return _resolve(request, link, same_as=same_as)


def _resolve(request, link: gs1.DigitalLink, *, same_as=None) -> HttpResponse:
    link_type = gs1.link_type(request.GET.get(gs1.LINK_TYPE_PARAM))
    media = gs1.wants_linkset(link_type, request.headers.get("Accept", ""))
    if media is not None:
        response = _linkset_answer(request, link, media)
        return _finish(request, response, link, same_as=same_as, linkset=True)
    if link_type not in PAGE_LINK_TYPES and link_type != "pip":
        response = _not_found(
            _("This product has no link of the type “%(type)s”.")
            % {"type": request.GET.get(gs1.LINK_TYPE_PARAM)}
        )
        return _finish(request, response, link, same_as=same_as)
    if link.lot is None or link_type == "pip":
        response = _product_answer(request, link)
        return _finish(request, response, link, same_as=same_as)
    if link.extension is not None:  # no lot of ours has 235 extensions: its lot answers
        return _finish(
            request, _redirect(request, localized(link.up().path(), get_language())), link
        )

    found = _lot_short_code(link)
    if found is None:  # a lot the GTIN never had: the GTIN's answer
        return _finish(request, _product_answer(request, link), link, same_as=same_as)
    lot_pk, short_code = found
    language = get_language() or settings.LANGUAGE_CODE
    if not caching.request_path(request)[0].startswith(f"/{language}/"):
        language = preferred_language(request)  # as for the short link (middleware)
    if link.serial is None:
        target = short_path(short_code)
    elif SerialNumber.objects.filter(lot_id=lot_pk, serial=link.serial).exists():
        target = f"{short_path(short_code)}{quote(link.serial, safe='/')}/"
    else:  # a serial the lot never printed: the lot's link
        target = link.up().path()
    response = _redirect(request, localized(target, language))
    if link.serial is None and not request.META.get("QUERY_STRING"):
        # traceability.middleware answers the next scans of this address with it.
        response.trace_redirect = language
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return _finish(request, response, link, same_as=same_as)


def _lot_short_code(link: gs1.DigitalLink) -> tuple[int, str] | None:
    """The pk and short code of the lot a Digital Link names (cached: no query warm)."""
    key = caching.digital_link_key(link.gtin14, link.lot) + ":short"
    found = cache.get(key)
    if found is None:
        found = (
            Lot.objects.filter(code=link.lot, product__upc__in=upc_candidates(link.gtin14))
            .values_list("pk", "short_code")
            .first()
        )
        if found is None:
            return None
        cache.set(key, tuple(found), caching.MAPPING_TIMEOUT)
    return tuple(found)


def _product(gtin):
    return Product.objects.filter(upc__in=upc_candidates(gtin), is_public=True).first()


def _product_answer(request, link) -> HttpResponse:
    """The GTIN's level: its product page, if we sell it."""
    product = _product(link.gtin14)
    if product is None:
        return _not_found()
    return _redirect(request, product.get_absolute_url())


def _linkset_answer(request, link, media) -> HttpResponse:
    language = _request_language(request)
    with translation.override(language):
        if link.lot is not None:
            response = _trace(
                request,
                mapping_key=caching.digital_link_key(link.gtin14, link.lot),
                find_lot=selectors.with_log_counts(
                    Lot.objects.filter(
                        code=link.lot, product__upc__in=upc_candidates(link.gtin14)
                    ).select_related(*LOT_RELATED)
                ).first,
                variant="linkset",
                missing=lambda level: None,
            )
            if response is not None:
                if link.serial is not None and response.status_code == 200:
                    data = json.loads(response.content)
                    data["linkset"].insert(0, _serial_entry(request, link, data["linkset"][0]))
                    response.content = _json(data)
                response["Content-Type"] = f"{media}; charset=utf-8"
                return response
        product = _product(link.gtin14)
        if product is None:
            return _not_found()
        data = {"linkset": [product_linkset_entry(request, product, link.gtin14)]}
    response = HttpResponse(_json(data), content_type=f"{media}; charset=utf-8")
    response["Content-Language"] = language
    return response


def _serial_entry(request, link, lot_entry) -> dict:
    """The serial's level of a linkset: the serial's own page, then the lot's links."""
    page = {
        "href": absolute_url(localized(link.path(), get_language())),
        "title": lot_entry[gs1.GS1_VOC + "defaultLink"][0]["title"],
    }
    typed = dict(page, type="text/html", hreflang=[get_language()])
    return {
        "anchor": absolute_url(link.path()),
        "description": lot_entry.get("description", ""),
        gs1.GS1_VOC + "defaultLink": [page],
        gs1.GS1_VOC + "traceability": [typed],
    }


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


@transaction.non_atomic_requests
@require_http_methods(RESOLVER_METHODS)
def short_link(request, short_code, serial=None):
    """/t/{CODE}/, and /t/{CODE}/{SERIAL}/ for a serialised label."""
    if request.method == "OPTIONS":
        return _options()
    code = short_code.upper()
    if not SHORT_CODE_RE.match(code):
        return _cors(_not_found())
    if serial is not None and not gs1.is_serial(serial):
        return _cors(_not_found())
    link_type = gs1.link_type(request.GET.get(gs1.LINK_TYPE_PARAM))
    media = gs1.wants_linkset(link_type, request.headers.get("Accept", ""))
    trace = partial(
        _trace,
        request,
        mapping_key=caching.short_key(code),
        find_lot=partial(selectors.page_lot, short_code=code),
    )
    if media is not None:
        with translation.override(_request_language(request)):
            response = trace(variant="linkset")
        if response.status_code == 200:
            response["Content-Type"] = f"{media}; charset=utf-8"
    elif link_type == "pip":
        response = trace(variant="pip")
    elif link_type not in PAGE_LINK_TYPES:
        response = _not_found(
            _("This product has no link of the type “%(type)s”.")
            % {"type": request.GET.get(gs1.LINK_TYPE_PARAM)}
        )
    else:
        response = trace(serial=serial)
    self_url = absolute_url(short_path(code))
    response["Link"] = gs1.link_header(
        (f"{self_url}?{gs1.LINK_TYPE_PARAM}=linkset", {"rel": "linkset", "type": gs1.LINKSET_TYPE})
    )
    patch_vary_headers(response, ("Accept",))
    return _cors(response)


@dataclass
class Evidence:
    """What the cold trace page reads about a lot, and the verdict on it; what the page
    and its cache key work out from the events, once a request."""

    records: list
    events: list
    certificates: dict  # {id: Certificate} of the snapshot, for the comparison
    verdict: integrity.Verdict
    lot: object = None

    @cached_property
    def rows(self) -> list:
        return services.timeline(self.events)

    @cached_property
    def pre_harvest(self) -> list:
        return services.pre_harvest_status(self.lot, self.events, rows=self.rows)

    @cached_property
    def refusals(self) -> list:
        """Why the lot may not be sold today (safety.sale_refusals)."""
        return safety.sale_refusals(self.lot, events=self.events, pre_harvest=self.pre_harvest)


def load_evidence(lot) -> Evidence:
    """The lot's signed records with their events (one query) and the certificates of its
    snapshot (one query when it names any), verified (integrity.verify_lot)."""
    records = integrity.load_records(lot)
    events = integrity.signed_events(records) if records else _load_events(lot)
    certificates = integrity.snapshot_certificates(records)
    verdict = integrity.lot_verdict(lot, records=records, events=events, certificates=certificates)
    return Evidence(records, events, certificates, verdict, lot)


def trace_head(lot, evidence) -> str:
    """What the cached page depends on besides the lot's fixed fields: the lot's last
    signed record, whether the lot is recalled (so a recall changes the page and its
    ETag), whether it may be sold today (safety.sale_refusals: expired, pre-harvest
    review) and the verdict with the log position it was reached at."""
    records = evidence.records
    head = records[-1].hash if records else ZERO_HASH
    if getattr(lot, "recall", None) is not None:
        head += "-recalled"
    if evidence.lot is not lot:
        evidence = replace(evidence, lot=lot)
    refusals = evidence.refusals
    if refusals:
        head += "-" + "+".join(r.code for r in refusals)
    verdict = evidence.verdict
    return f"{head}-{verdict.state}-{verdict.log_size or 0}"


def head_timeout(lot) -> int:
    """How long a lot's head may be cached: HEAD_TIMEOUT, or less when the lot expires
    sooner (so its page stops offering it for sale from the first minute after)."""
    changes_at = safety.refusal_changes_at(lot)
    if changes_at is None:
        return caching.HEAD_TIMEOUT
    seconds = int((changes_at - timezone.now()).total_seconds()) + 1
    return max(1, min(caching.HEAD_TIMEOUT, seconds))


def _trace(request, *, mapping_key, find_lot, serial=None, variant="html", missing=None):
    """The trace page of the lot `find_lot()` reads (`variant`: "html", its "linkset", or
    "pip": a redirect to its product). Warm: no SQL query at all (a serial adds one
    aggregate query). A GET answered with the page is recorded as a scan. `missing(level)`
    answers when the lot ("lot") or the serial ("serial") is not found; else a 404."""
    missing = missing or (lambda level: _not_found())
    lot = evidence = None
    lot_pk = cache.get(mapping_key)
    if lot_pk is None:
        lot = find_lot()
        if lot is None:
            return missing("lot")
        lot_pk = lot.pk
        cache.set(mapping_key, lot_pk, caching.MAPPING_TIMEOUT)
    head = cache.get(caching.head_key(lot_pk))
    if head is None:
        lot = lot or _load_lot(lot_pk, mapping_key)
        if lot is None:
            return missing("lot")
        evidence = load_evidence(lot)
        head = trace_head(lot, evidence)
        cache.set(caching.head_key(lot_pk), head, head_timeout(lot))

    language = get_language() or settings.LANGUAGE_CODE
    if variant == "pip":
        lot = lot or _load_lot(lot_pk, mapping_key)
        if lot is None:
            return missing("lot")
        return _redirect(request, lot.product.get_absolute_url())
    visitor = serial_info = None
    network = ""
    if serial is not None:
        visitor = scans.visitor_hash(request)
        network = scans.network_hash(request)  # who counts as another scanner: scans.py
        serial_info = scans.serial_scans(lot_pk, serial, visitor, network)
        if serial_info is None:
            return missing("serial")
    etag = '"{}"'.format(
        hashlib.sha256(
            f"{lot_pk}:{head}:{language}:{variant}:{request.get_host()}".encode()
        ).hexdigest()[:32]
    )
    if serial_info is None and caching.etag_matches(request.headers.get("If-None-Match", ""), etag):
        return _with_headers(HttpResponseNotModified(), etag)  # not a scan

    key = caching.page_key(lot_pk, head, f"{language}-{variant}", request.get_host())
    body = cache.get(key)
    if body is None:
        lot = lot or _load_lot(lot_pk, mapping_key)
        if lot is None:
            return missing("lot")
        if variant == "linkset":
            body = _json(linkset(request, lot, language))
        else:
            evidence = evidence or load_evidence(lot)
            body = render_trace_page(request, lot, evidence, language)
        cache.set(key, body, caching.PAGE_TIMEOUT)
    if variant == "linkset":
        response = HttpResponse(body, content_type=f"{gs1.LINKSET_TYPE}; charset=utf-8")
    else:
        response = HttpResponse(scans.inject_serial(body, serial_info))
        if request.method == "GET":
            scans.schedule_scan(
                lot_id=lot_pk,
                serial_id=serial_info.serial_id if serial_info else None,
                language=language,
                visitor=visitor or scans.visitor_hash(request),
                network=network,
                batch=serial_info is None,  # a serial's count is read at once: never
            )
    response["Content-Language"] = language
    if serial_info is not None:
        response["Cache-Control"] = SERIAL_CACHE_CONTROL
        return response
    if variant == "html" and request.method == "GET":
        # traceability.middleware keeps the finished page for the next scans of this URL.
        response.trace_page = (lot_pk, head, etag, language)
    return _with_headers(response, etag)


def _with_headers(response, etag):
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _load_lot(lot_pk, mapping_key):
    lot = selectors.page_lot(pk=lot_pk)
    if lot is None:
        cache.delete(mapping_key)
    return lot


def _load_events(lot):
    return list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))


def lot_links(request, lot) -> dict:
    """Paths of the lot's pages: per language, and its Digital Link when the product has
    a GTIN."""
    gtin = product_gtin(lot.product)
    dl = digital_link_path(gtin, lot.code) if gtin else None
    return {
        "gtin": gtin,
        "digital_link": absolute_url(dl) if dl else None,
        "short": {lang: localized(short_path(lot), lang) for lang in LANGUAGE_CODES},
        "digital_link_paths": {lang: localized(dl, lang) for lang in LANGUAGE_CODES} if dl else {},
    }


def linkset(request, lot, language) -> dict:
    """The lot's linkset (RFC 9264, GS1-Conformant Resolver): the lot's level (its trace
    page as the default link, and every form of it: per language, Digital Link and short
    link) and the GTIN's level (the product page), titles in `language`."""
    links = lot_links(request, lot)
    title = lot.product.get_title()
    page_title = _("Traceability of %(product)s, lot %(lot)s") % {
        "product": title,
        "lot": lot.code,
    }
    trace = []
    for lang in [language] + [code for code in LANGUAGE_CODES if code != language]:
        for path in (links["digital_link_paths"].get(lang), links["short"][lang]):
            if path:
                trace.append(
                    {
                        "href": absolute_url(path),
                        "title": page_title,
                        "type": "text/html",
                        "hreflang": [lang],
                    }
                )
    anchor = links["digital_link"] or absolute_url(links["short"]["vi"])
    lot_entry = {
        "anchor": anchor,
        "description": title,
        gs1.GS1_VOC + "defaultLink": [{"href": trace[0]["href"], "title": page_title}],
        gs1.GS1_VOC + "traceability": trace,
        gs1.GS1_VOC + "pip": [_pip_link(request, lot.product, language)],
    }
    entries = [lot_entry]
    if links["gtin"]:
        entries.append(product_linkset_entry(request, lot.product, links["gtin"]))
    return {"linkset": entries}


def _pip_link(request, product, language) -> dict:
    return {
        "href": absolute_url(product.get_absolute_url()),
        "title": _("%(product)s on the marketplace") % {"product": product.get_title()},
        "type": "text/html",
        "hreflang": [language],
    }


def product_linkset_entry(request, product, gtin) -> dict:
    """The GTIN's level of a linkset: the product page, as its default link."""
    pip = _pip_link(request, product, get_language() or settings.LANGUAGE_CODE)
    return {
        "anchor": absolute_url(digital_link_path(gtin)),
        "description": product.get_title(),
        gs1.GS1_VOC + "defaultLink": [{"href": pip["href"], "title": pip["title"]}],
        gs1.GS1_VOC + "pip": [pip],
    }


@require_http_methods(RESOLVER_METHODS)
def resolver_description(request):
    """/.well-known/gs1resolver: what this resolver supports (GS1-Conformant Resolver)."""
    if request.method == "OPTIONS":
        return _options()
    data = {
        "name": _("Nông sản marketplace: GS1 Digital Link resolver"),
        "resolverRoot": absolute_url("/").rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": gs1.GS1_VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": gs1.LINKSET_CONTEXT,
    }
    response = HttpResponse(_json(data), content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return _cors(response)


def problem_messages(problems) -> list[str]:
    """What is wrong, in the visitor's language (the English sentences of the verifier
    are for inspectors and logs)."""
    messages_ = []
    for problem in problems:
        n = problem.seq
        code = problem.code
        if code == "lot_changed":
            text = _(
                "The lot's details (product, producer, origin, dates) differ from what was "
                "recorded."
            )
        elif code == "event_changed":
            text = _("Event number %(n)s was changed after it was recorded.") % {"n": n}
        elif code == "event_missing":
            text = _("Event number %(n)s was removed.") % {"n": n}
        elif code == "event_unrecorded":
            text = _("Event number %(n)s was added without being recorded.") % {"n": n}
        elif code in ("recall_deleted", "recall_changed", "recall_unrecorded"):
            text = _("The recall of this lot was removed or changed.")
        elif code in ("review_changed", "review_unrecorded"):
            text = _("The operator's food safety review of this lot was changed.")
        elif code in ("certificate_changed", "certificate_missing"):
            text = _("A certificate valid at harvest was changed or removed after it was recorded.")
        elif code == "no_records":
            text = _("The recorded history of this lot was deleted.")
        elif code.startswith("log_") or "checkpoint" in code:
            text = _("The marketplace's public log of records was changed.")
        elif n:
            text = _(
                "Record number %(n)s of this lot is missing or not the one the marketplace signed."
            ) % {"n": n}
        else:
            text = _("A record of this lot is missing or not the one the marketplace signed.")
        if text not in messages_:
            messages_.append(text)
    return messages_


def _ld_json(data) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_trace_page(request, lot, evidence, language) -> str:
    """The standalone trace page: one query (the photo) beyond the lot and its evidence.
    It shows the events the lot's signed records point at, and the certificates of the
    signed snapshot at harvest."""
    product, producer = lot.product, lot.producer
    if evidence.lot is not lot:
        evidence = replace(evidence, lot=lot)
    rows, pre_harvest = evidence.rows, evidence.pre_harvest
    harvested_on = services.harvest_date(rows)
    certificates = integrity.signed_certificates(evidence.records)
    certificate_day = harvested_on or lot.production_date
    if certificates is None and certificate_day is not None:  # a lot not yet in the log
        certificates = list(
            Certificate.objects.badges(on=certificate_day, product=product)
            .filter(producer=producer)
            .order_by("kind", "pk")
        )
    verdict = evidence.verdict
    refusals = evidence.refusals
    # The names as the lot's signed record states them (a shop renamed later, or a name
    # changed behind the application's back, does not change what the page states).
    signed = integrity.signed_lot(evidence.records) or {}
    product_title = (signed.get("product") or {}).get("title") or product.get_title()
    producer_name = (signed.get("producer") or {}).get("name") or producer.partner.name
    if hasattr(lot, "photo_name"):  # read with the lot (selectors.page_lot)
        image_url = PHOTO_STORAGE.url(lot.photo_name) if lot.photo_name else ""
    else:
        image = (
            ProductImage.objects.filter(product_id=product.pk)
            .order_by("display_order", "pk")
            .first()
        )
        image_url = image.original.url if image is not None else ""
    links = lot_links(request, lot)
    product_url = product.get_absolute_url()
    shop_url = trace_page.reverse_one("marketplace:producer", slug=producer.slug)
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": links["digital_link"] or absolute_url(links["short"]["vi"]),
        "name": product_title,
        "brand": {"@type": "Brand", "name": producer_name},
        "manufacturer": {
            "@type": "Organization",
            "name": producer_name,
            "url": absolute_url(shop_url),
            "address": {
                "@type": "PostalAddress",
                "streetAddress": producer.address_line,
                "addressLocality": producer.commune_name,
                "addressRegion": producer.province_name,
                "addressCountry": "VN",
            },
        },
        "countryOfOrigin": "VN",
        "url": absolute_url(product_url),
        "productionDate": lot.production_date.isoformat() if lot.production_date else None,
        "expirationDate": lot.expiry_date.isoformat() if lot.expiry_date else None,
    }
    if links["gtin"]:
        ld["gtin"] = links["gtin"]
    brand = signed.get("brand", lot.brand)
    if brand:
        ld["brand"] = {"@type": "Brand", "name": brand}
    if image_url:
        ld["image"] = absolute_url(image_url)
    ld = {k: v for k, v in ld.items() if v is not None}
    context = {
        "lot": lot,
        "product": product,
        "producer": producer,
        "rows": rows,
        "product_title": product_title,
        "producer_name": producer_name,
        "verdict": verdict,
        "verdict_messages": problem_messages(verdict.problems),
        "bundle_url": trace_page.reverse_one("traceability:bundle", short_code=lot.short_code),
        "pre_harvest": pre_harvest,
        "pre_harvest_violation": any(p.ok is False for p in pre_harvest),
        # Not sold (recalled, expired, pre-harvest interval): a warning, no "buy" link.
        "refusals": refusals,
        "standards": services.standard_list(signed.get("standards", lot.standards)),
        "brand": signed.get("brand", lot.brand),
        "harvested_on": harvested_on,
        "certificates": certificates or [],
        "image_url": image_url,
        "links": links,
        "product_url": product_url,
        "shop_url": shop_url,
        "language": language,
        "other_language": "en" if language == "vi" else "vi",
        "other_language_url": "{}?next={}".format(
            trace_page.reverse_one(
                "traceability:language", language="en" if language == "vi" else "vi"
            ),
            links["short"]["vi"],
        ),
        "ld_json": _ld_json(ld),
        "recall": getattr(lot, "recall", None),
        "serial_marker": scans.SERIAL_MARKER,
        "INPUT_APPLIED": FarmEvent.Kind.INPUT_APPLIED,
        "CORRECTION": FarmEvent.Kind.CORRECTION,
    }
    return trace_page.render(context)


# --- Farmers and staff -------------------------------------------------------------------------


@lot_manager_required
def my_lots(request):
    lots = (
        lots_for(request.user)
        .select_related("product", "producer__partner", "recall")
        .annotate(event_count=Count("events"), last_event=Max("events__event_time"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(lots, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    refusals = safety.refusals_of(rows)  # "not for sale", and why (one query)
    for lot in rows:
        lot.refusals = refusals[lot.pk]
    return render(request, "traceability/lots.html", {"page_obj": page, "lots": rows})


@lot_manager_required
def create_lot(request):
    producers = producers_for(request.user)
    records = (
        StockRecord.objects.filter(partner__producer_profile__in=producers.values("pk"))
        .select_related("product", "partner__producer_profile")
        .order_by("partner__name", "product__title", "pk")
    )
    chosen = request.POST.get("product") or request.GET.get("san_pham")
    if not chosen:
        page = Paginator(records, 50).get_page(request.GET.get("page"))
        return render(
            request, "traceability/lot_choose_product.html", {"page_obj": page, "records": page}
        )
    if parse_id(chosen) is None:
        raise Http404
    record = records.filter(product_id=parse_id(chosen)).first()
    if record is None:
        raise Http404
    product, producer = record.product, record.partner.producer_profile
    previous = (
        Lot.objects.filter(product=product, producer=producer)
        .only("standards", "brand")
        .order_by("-created_at", "-pk")
        .first()
    )
    form = LotForm(request.POST or None, producer=producer, previous=previous)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.create_lot(
                product=product, producer=producer, by=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Lot %(code)s of %(product)s is created. Now record what happens to it.")
                % {"code": lot.code, "product": product.get_title()},
            )
            return redirect("traceability:lot", pk=lot.pk)
    return render(
        request,
        "traceability/lot_form.html",
        {"form": form, "product": product, "producer": producer},
    )


def _managed_lot(request, pk):
    return get_object_or_404(
        lots_for(request.user).select_related("product", "producer__partner"), pk=pk
    )


@lot_manager_required
def lot_detail(request, pk):
    lot = _managed_lot(request, pk)
    events = list(
        FarmEvent.objects.filter(lot=lot).select_related("recorded_by").order_by("sequence")
    )
    records = integrity.load_records(lot)
    full = selectors.with_log_counts(Lot.objects.select_related(*LOT_RELATED).filter(pk=lot.pk))
    full = full.get()
    verdict = integrity.lot_verdict(
        full,
        records=records,
        events=events,
        certificates=integrity.snapshot_certificates(records),
    )
    links = lot_links(request, lot)
    on_sale_left = batches.left_of_source(lot.pk)
    return render(
        request,
        "traceability/lot_detail.html",
        {
            "lot": lot,
            "on_sale": on_sale_left is not None,
            "on_sale_left": on_sale_left,
            "on_sale_unit": sale.product_unit(lot.product) if on_sale_left is not None else "",
            "refusals": safety.sale_refusals(full, events=events),
            "rows": services.timeline(events),
            "pre_harvest": services.pre_harvest_status(lot, events),
            "verdict": verdict,
            "verdict_messages": problem_messages(verdict.problems),
            "links": links,
            "trace_url": absolute_url(links["short"][settings.LANGUAGE_CODE]),
            "kinds": FarmEvent.Kind.choices,
            "CORRECTION": FarmEvent.Kind.CORRECTION,
        },
    )


@lot_manager_required
def add_event(request, pk):
    lot = _managed_lot(request, pk)
    kind = request.POST.get("kind") or request.GET.get("loai") or ""
    if kind not in FarmEvent.Kind.values:
        return render(
            request,
            "traceability/event_choose_kind.html",
            {"lot": lot, "kinds": FarmEvent.Kind.choices},
        )
    target = None
    target_pk = request.GET.get("sua") or request.POST.get("corrects")
    if kind == FarmEvent.Kind.CORRECTION and parse_id(target_pk) is not None:
        target = (
            FarmEvent.objects.filter(lot=lot, pk=parse_id(target_pk))
            .exclude(kind=FarmEvent.Kind.CORRECTION)
            .first()
        )
    form = EventForm(request.POST or None, request.FILES or None, lot=lot, kind=kind, target=target)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.record_event(lot=lot, by=request.user, **form.service_kwargs())
        except safety.PreHarvestWarning as warning:
            form.ask_confirmation(warning)  # shown with a box to tick; nothing saved
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("%(event)s is recorded for lot %(code)s.")
                % {"event": event.get_kind_display(), "code": lot.code},
            )
            if form.cleaned_data.get("confirm_pre_harvest"):
                messages.warning(
                    request,
                    _(
                        "The lot was harvested inside a pre-harvest interval: it is not sold "
                        "until the marketplace has reviewed it."
                    ),
                )
            return redirect("traceability:lot", pk=lot.pk)
    return render(
        request,
        "traceability/event_form.html",
        {
            "lot": lot,
            "form": form,
            "kind": kind,
            "kind_label": FarmEvent.Kind(kind).label,
            "target": target,
        },
    )


# --- Producers' GLN (where EPCIS exports place them) --------------------------------------------


@lot_manager_required
def producer_glns(request):
    """The producers whose lots this user manages (their own shop, or members in the
    staff's scope), each with its GLN."""
    producers = producers_for(request.user).order_by("partner__name", "pk")
    page = Paginator(producers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "traceability/producer_glns.html", {"page_obj": page, "producers": page})


@lot_manager_required
def producer_gln(request, pk):
    producer = get_object_or_404(producers_for(request.user), pk=pk)
    form = GlnForm(request.POST or None, initial={"gln": producer.gln})
    if request.method == "POST" and form.is_valid():
        try:
            shop_services.set_producer_gln(producer_id=producer.pk, gln=form.cleaned_data["gln"])
        except ValidationError as exc:
            form.add_error("gln", exc.message_dict.get("gln", exc.messages))
        else:
            messages.success(
                request,
                _("GLN of %(producer)s saved.") % {"producer": producer.partner.name}
                if form.cleaned_data["gln"]
                else _("GLN of %(producer)s removed.") % {"producer": producer.partner.name},
            )
            return redirect("traceability:producer-glns")
    return render(request, "traceability/producer_gln.html", {"producer": producer, "form": form})
