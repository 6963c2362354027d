"""Public URLs of the transparency log (JSON, no sign-in), for buyers' apps and inspectors:

- /minh-bach/khoa/            the public keys that sign records and checkpoints (JSON), and
  /minh-bach/khoa.pem         the same as PEM, for traceability/verifier.py --key;
- /minh-bach/diem-kiem/       the latest signed checkpoint (tree size, root hash, time);
                              ?moi=1 asks for one covering every record now;
- /minh-bach/diem-kiem/tat-ca/  every checkpoint, newest first;
- /minh-bach/nhat-quan/{N}/   a consistency proof from the tree of size N to the latest
                              checkpoint (proves the log only grew since one kept earlier);
- /minh-bach/lo/{CODE}.json   a lot's proof bundle (?tu=N adds a consistency proof).
"""

import json

from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from marketplace.core.numbers import parse_int

from . import signing, transparency
from .models import SHORT_CODE_RE, Checkpoint, Lot

CACHE_CONTROL = "public, max-age=60"
MAX_LISTED = 1000


def _json(data, *, status=200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
        status=status,
    )
    response["Cache-Control"] = CACHE_CONTROL
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _size(value) -> int | None:
    """A tree size from the query string: ASCII digits only, or None (marketplace.core.numbers)."""
    return parse_int(value) if value is not None and len(value) <= 15 else None


def _latest() -> Checkpoint:
    return transparency.latest_checkpoint() or transparency.make_checkpoint()


@require_safe
def keys(request):
    current = signing.current_key_id()
    return _json(
        {
            "algorithm": "Ed25519",
            "keys": [
                {
                    "key_id": key_id,
                    "current": key_id == current,
                    "public_key": signing.public_base64(key),
                    "pem": signing.public_pem(key),
                }
                for key_id, key in sorted(signing.trusted_keys().items())
            ],
        }
    )


@require_safe
def keys_pem(request):
    text = "".join(signing.public_pem(key) for _id, key in sorted(signing.trusted_keys().items()))
    response = HttpResponse(text, content_type="application/x-pem-file")
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Disposition"] = 'attachment; filename="nongsan-trace-keys.pem"'
    return response


@transaction.non_atomic_requests
@require_safe
def checkpoint(request):
    """The latest checkpoint; with ?moi=1 ("new") one covering the whole log now (made if
    the log grew since the latest: at most one per new record, so asking is cheap)."""
    if request.GET.get("moi") == "1":
        return _json(transparency.make_checkpoint().as_json())
    return _json(_latest().as_json())


@require_safe
def checkpoints(request):
    rows = Checkpoint.objects.order_by("-tree_size", "-pk")[:MAX_LISTED]
    return _json({"checkpoints": [c.as_json() for c in rows]})


@transaction.non_atomic_requests
@require_safe
def consistency(request, old):
    latest = _latest()
    if old > latest.tree_size:
        return HttpResponseBadRequest(
            _("The log has only %(size)s records.") % {"size": latest.tree_size}
        )
    return _json(transparency.consistency_json(old=old, checkpoint=latest))


@transaction.non_atomic_requests
@require_safe
def bundle(request, short_code):
    code = short_code.upper()
    if not SHORT_CODE_RE.match(code):
        raise Http404
    lot = get_object_or_404(Lot, short_code=code)
    since = None
    if "tu" in request.GET:
        since = _size(request.GET["tu"])
        if since is None:
            return HttpResponseBadRequest(_("tu must be a size of the log (a whole number)."))
    data = transparency.lot_bundle(lot=lot, since=since)
    response = _json(data)
    response["Content-Disposition"] = f'inline; filename="nongsan-{lot.short_code}.json"'
    return response
