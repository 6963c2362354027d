"""Traceability pages.

Public (no sign-in, no JavaScript): the GS1 Digital Link resolver /01/{GTIN}/10/{LOT}…
and the short link /t/{CODE}/, which render the same light trace page, cached whole.

Farmers and staff (phone first): my lots, create a lot, a lot's timeline, add an event.
Who may do what: traceability.access.
"""

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

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
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.core.numbers import parse_id
from marketplace.core.redirects import safe_next
from marketplace.models import Certificate

from . import caching, integrity, scans, services
from .access import lot_manager_required, lots_for, producers_for
from .forms import EventForm, LotForm
from .gs1 import LinkError, digital_link_path, parse_digital_link, product_gtin, upc_candidates
from .models import LOT_CODE_RE, SHORT_CODE_RE, ZERO_HASH, FarmEvent, Lot

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

CACHE_CONTROL = "public, max-age=300"
# A serialised label's page carries its own scan count: never shared by caches.
SERIAL_CACHE_CONTROL = "private, no-cache"
LOT_RELATED = ("product", "producer__partner", "recall")
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


def _raw_link_path(request) -> str:
    """The link's path as it came over the wire (percent-encoded, so that "%2F" inside a
    lot code stays one segment) when the server passes it on (gunicorn: RAW_URI; others:
    REQUEST_URI); else Django's decoded path, re-quoted."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    raw = urlsplit(raw).path if raw else quote(request.path_info, safe="/")
    index = raw.find("/01/")
    return raw[index:] if index >= 0 else raw


def _bad_link(message) -> HttpResponse:
    html = loader.get_template("traceability/bad_link.html").render({"message": message})
    return HttpResponse(html, status=400)


def _not_found() -> HttpResponse:
    html = loader.get_template("traceability/not_found.html").render({})
    return HttpResponse(html, status=404)


@transaction.non_atomic_requests
@require_safe
def digital_link(request, rest=""):
    try:
        link = parse_digital_link(_raw_link_path(request))
    except LinkError as exc:
        return _bad_link(exc.message)
    candidates = upc_candidates(link.gtin14)
    if link.lot is None:
        # A GTIN without a lot: the product page, if we sell it.
        product = Product.objects.filter(upc__in=candidates, is_public=True).first()
        if product is None:
            return _not_found()
        return redirect(product.get_absolute_url())
    return _trace(
        request,
        mapping_key=caching.digital_link_key(link.gtin14, link.lot),
        queryset=Lot.objects.filter(code=link.lot, product__upc__in=candidates),
        serial=link.serial,
    )


@transaction.non_atomic_requests
@require_safe
def short_link(request, short_code, serial=None):
    """/t/{CODE}/, and /t/{CODE}/{SERIAL}/ for a serialised label."""
    code = short_code.upper()
    if not SHORT_CODE_RE.match(code):
        return _not_found()
    if serial is not None and not LOT_CODE_RE.match(serial):
        return _not_found()
    return _trace(
        request,
        mapping_key=caching.short_key(code),
        queryset=Lot.objects.filter(short_code=code),
        serial=serial,
    )


@dataclass
class Evidence:
    """What the cold trace page reads about a lot, and the verdict on it."""

    records: list
    events: list
    certificates: dict  # {id: Certificate} of the snapshot, for the comparison
    verdict: integrity.Verdict


def load_evidence(lot) -> Evidence:
    """The lot's signed records with their events (one query) and the certificates of its
    snapshot (one query when it names any), verified (integrity.verify_lot)."""
    records = integrity.load_records(lot)
    events = integrity.signed_events(records) if records else _load_events(lot)
    certificates = integrity.snapshot_certificates(records)
    verdict = integrity.lot_verdict(lot, records=records, events=events, certificates=certificates)
    return Evidence(records, events, certificates, verdict)


def trace_head(lot, evidence) -> str:
    """What the cached page depends on besides the lot's fixed fields: the lot's last
    signed record, whether the lot is recalled (so a recall changes the page and its
    ETag), and the verdict with the log position it was reached at."""
    records = evidence.records
    head = records[-1].hash if records else ZERO_HASH
    if getattr(lot, "recall", None) is not None:
        head += "-recalled"
    verdict = evidence.verdict
    return f"{head}-{verdict.state}-{verdict.log_size or 0}"


def _trace(request, *, mapping_key, queryset, serial=None):
    """The trace page of the lot `queryset` finds. Warm: no SQL query at all (a serial
    adds one aggregate query). A GET answered with the page is recorded as a scan."""
    lot = evidence = None
    lot_pk = cache.get(mapping_key)
    if lot_pk is None:
        lot = integrity.with_log_counts(queryset.select_related(*LOT_RELATED)).first()
        if lot is None:
            return _not_found()
        lot_pk = lot.pk
        cache.set(mapping_key, lot_pk, caching.MAPPING_TIMEOUT)
    head = cache.get(caching.head_key(lot_pk))
    if head is None:
        lot = lot or _load_lot(lot_pk, mapping_key)
        if lot is None:
            return _not_found()
        evidence = load_evidence(lot)
        head = trace_head(lot, evidence)
        cache.set(caching.head_key(lot_pk), head, caching.HEAD_TIMEOUT)

    language = get_language() or settings.LANGUAGE_CODE
    link_type = request.GET.get("linkType", "")
    if link_type in ("gs1:pip", "pip"):
        lot = lot or _load_lot(lot_pk, mapping_key)
        if lot is None:
            return _not_found()
        return redirect(lot.product.get_absolute_url())
    variant = "linkset" if link_type == "all" else "html"
    visitor = serial_info = None
    if serial is not None:
        visitor = scans.visitor_hash(request)
        serial_info = scans.serial_scans(lot_pk, serial, visitor)
        if serial_info is None:
            return _not_found()
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
            return _not_found()
        if variant == "linkset":
            body = json.dumps(linkset(request, lot), ensure_ascii=False, indent=1)
        else:
            evidence = evidence or load_evidence(lot)
            body = render_trace_page(request, lot, evidence, language)
        cache.set(key, body, caching.PAGE_TIMEOUT)
    if variant == "linkset":
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        response = HttpResponse(scans.inject_serial(body, serial_info))
        if request.method == "GET":
            scans.schedule_scan(
                lot_id=lot_pk,
                serial_id=serial_info.serial_id if serial_info else None,
                language=language,
                visitor=visitor or scans.visitor_hash(request),
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
    lot = integrity.with_log_counts(
        Lot.objects.select_related(*LOT_RELATED).filter(pk=lot_pk)
    ).first()
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
        "digital_link": request.build_absolute_uri(dl) if dl else None,
        "short": {lang: localized(short_path(lot), lang) for lang in LANGUAGE_CODES},
        "digital_link_paths": {lang: localized(dl, lang) for lang in LANGUAGE_CODES} if dl else {},
    }


def linkset(request, lot) -> dict:
    """GS1 linkset (`?linkType=all`): where this lot's link can take you."""
    links = lot_links(request, lot)
    trace = []
    for lang in LANGUAGE_CODES:
        for path in (links["digital_link_paths"].get(lang), links["short"][lang]):
            if path:
                trace.append(
                    {
                        "href": request.build_absolute_uri(path),
                        "hreflang": [lang],
                        "type": "text/html",
                        "title": lot.product.get_title(),
                    }
                )
    product_url = request.build_absolute_uri(lot.product.get_absolute_url())
    anchor = links["digital_link"] or request.build_absolute_uri(links["short"]["vi"])
    return {
        "linkset": [
            {
                "anchor": anchor,
                "itemDescription": lot.product.get_title(),
                "https://gs1.org/voc/defaultLink": [trace[0]],
                "https://gs1.org/voc/traceability": trace,
                "https://gs1.org/voc/pip": [
                    {"href": product_url, "type": "text/html", "title": lot.product.get_title()}
                ],
            }
        ]
    }


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
    events = evidence.events
    rows = services.timeline(events)
    pre_harvest = services.pre_harvest_status(lot, events)
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
    # The names as the lot's signed record states them (a shop renamed later, or a name
    # changed behind the application's back, does not change what the page states).
    signed = integrity.signed_lot(evidence.records) or {}
    product_title = (signed.get("product") or {}).get("title") or product.get_title()
    producer_name = (signed.get("producer") or {}).get("name") or producer.partner.name
    image = (
        ProductImage.objects.filter(product_id=product.pk).order_by("display_order", "pk").first()
    )
    links = lot_links(request, lot)
    product_url = product.get_absolute_url()
    shop_url = reverse("marketplace:producer", kwargs={"slug": producer.slug})
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": links["digital_link"] or request.build_absolute_uri(links["short"]["vi"]),
        "name": product_title,
        "brand": {"@type": "Brand", "name": producer_name},
        "manufacturer": {
            "@type": "Organization",
            "name": producer_name,
            "url": request.build_absolute_uri(shop_url),
            "address": {
                "@type": "PostalAddress",
                "streetAddress": producer.address_line,
                "addressLocality": producer.commune_name,
                "addressRegion": producer.province_name,
                "addressCountry": "VN",
            },
        },
        "countryOfOrigin": "VN",
        "url": request.build_absolute_uri(product_url),
        "productionDate": lot.production_date.isoformat() if lot.production_date else None,
        "expirationDate": lot.expiry_date.isoformat() if lot.expiry_date else None,
    }
    if links["gtin"]:
        ld["gtin"] = links["gtin"]
    if image is not None:
        ld["image"] = request.build_absolute_uri(image.original.url)
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
        "bundle_url": reverse("traceability:bundle", kwargs={"short_code": lot.short_code}),
        "checkpoint_url": reverse("traceability:checkpoint"),
        "pre_harvest": pre_harvest,
        "pre_harvest_violation": any(p.ok is False for p in pre_harvest),
        "harvested_on": harvested_on,
        "certificates": certificates or [],
        "image_url": image.original.url if image is not None else "",
        "links": links,
        "product_url": product_url,
        "shop_url": shop_url,
        "language": language,
        "other_language": "en" if language == "vi" else "vi",
        "other_language_url": "{}?next={}".format(
            reverse(
                "traceability:language",
                kwargs={"language": "en" if language == "vi" else "vi"},
            ),
            links["short"]["vi"],
        ),
        "ld_json": _ld_json(ld),
        "recall": getattr(lot, "recall", None),
        "province_choices": geo.province_choices(),
        "serial_marker": scans.SERIAL_MARKER,
        "INPUT_APPLIED": FarmEvent.Kind.INPUT_APPLIED,
        "CORRECTION": FarmEvent.Kind.CORRECTION,
    }
    return loader.get_template("traceability/trace.html").render(context)


# --- Farmers and staff -------------------------------------------------------------------------


@lot_manager_required
def my_lots(request):
    lots = (
        lots_for(request.user)
        .select_related("product", "producer__partner")
        .annotate(event_count=Count("events"), last_event=Max("events__event_time"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(lots, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "traceability/lots.html", {"page_obj": page, "lots": page.object_list})


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
    form = LotForm(request.POST or None, producer=producer)
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
    verdict = integrity.lot_verdict(
        integrity.with_log_counts(Lot.objects.select_related(*LOT_RELATED).filter(pk=lot.pk)).get(),
        records=records,
        events=events,
        certificates=integrity.snapshot_certificates(records),
    )
    links = lot_links(request, lot)
    return render(
        request,
        "traceability/lot_detail.html",
        {
            "lot": lot,
            "rows": services.timeline(events),
            "pre_harvest": services.pre_harvest_status(lot, events),
            "verdict": verdict,
            "verdict_messages": problem_messages(verdict.problems),
            "links": links,
            "trace_url": request.build_absolute_uri(links["short"][settings.LANGUAGE_CODE]),
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
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("%(event)s is recorded for lot %(code)s.")
                % {"event": event.get_kind_display(), "code": lot.code},
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
