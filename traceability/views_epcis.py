"""EPCIS 2.0 JSON-LD downloads (traceability.epcis): one lot, or all lots of a producer;
and the producer locations the exports name.

Downloads are only for the people who manage the lot or producer (traceability.access):
anonymous visitors are sent to sign in, anyone else gets 404 (we do not confirm the lot
exists). The documents' identifiers come from SITE_BASE_URL, never from the request, and
the URIs of ours they use can be looked up: the vocabulary, communes and producers (public).
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from marketplace.models import ProducerProfile

from . import epcis
from .access import lots_for, producers_for

CONTENT_TYPE = "application/ld+json"


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "lot"


def _download(data: dict, filename: str) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, indent=1)
    response = HttpResponse(body.encode("utf-8"), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def lot_epcis(request, pk):
    lots = lots_for(request.user).select_related("product", "producer")
    lot = get_object_or_404(lots, pk=pk)
    return _download(epcis.lot_document(lot), f"epcis-{_safe_name(lot.code)}.jsonld")


@require_safe
@login_required
def producer_epcis(request, pk):
    producer = get_object_or_404(producers_for(request.user), pk=pk)
    name = _safe_name(producer.slug or str(producer.pk))
    return _download(epcis.producer_document(producer), f"epcis-{name}.jsonld")


@require_safe
def producer_location(request, pk):
    """The location URI of a producer without a GLN (epcis.producer_location) leads to
    its public page."""
    producer = get_object_or_404(ProducerProfile, pk=pk)
    return redirect("marketplace:producer", slug=producer.slug)


def _json_ld(data: dict) -> JsonResponse:
    response = JsonResponse(
        data, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def vocabulary(request):
    """Our private business steps and extension properties (epcis.vocabulary_document)."""
    return _json_ld(epcis.vocabulary_document())


@require_safe
def vocabulary_term(request, term):
    """A term of ours (``/epcis/voc/BizStep-planting``) leads to its entry."""
    return redirect(reverse("traceability:epcis-vocabulary") + f"#{term}")


@require_safe
def commune_location(request, code):
    """What a commune location URI of the exports names (epcis.commune_document)."""
    data = epcis.commune_document(code)
    if data is None:
        raise Http404
    return _json_ld(data)
