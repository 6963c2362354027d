"""EPCIS 2.0 JSON-LD downloads (traceability.epcis): one lot, or all lots of a producer.

Only for the people who manage the lot or producer (traceability.access): anonymous
visitors are sent to sign in, anyone else gets 404 (we do not confirm the lot exists).
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

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


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_safe
@login_required
def lot_epcis(request, pk):
    lot = get_object_or_404(lots_for(request.user).select_related("product"), pk=pk)
    data = epcis.lot_document(lot, base_url=_base_url(request))
    return _download(data, f"epcis-{_safe_name(lot.code)}.jsonld")


@require_safe
@login_required
def producer_epcis(request, pk):
    producer = get_object_or_404(producers_for(request.user), pk=pk)
    data = epcis.producer_document(producer, base_url=_base_url(request))
    return _download(data, f"epcis-{_safe_name(producer.slug or str(producer.pk))}.jsonld")
