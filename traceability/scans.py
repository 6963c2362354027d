"""Scan records: who opened a trace page from a QR code, counted without identifying them.

- Every GET of a trace page (GS1 Digital Link or short link, with or without a serial)
  that answers 200 with the HTML page is a scan. A 304 (the browser already has the page),
  `?linkType=all` (machines asking for the list of links), HEAD and redirects are not.
- `visitor` is HMAC-SHA256 over the client's IP address and user agent, keyed with a
  secret derived from settings.SECRET_KEY: the same phone gives the same visitor, but the
  IP address is never stored and cannot be recovered from the hash.
- The scan is written by the Celery task `traceability.record_scan`, sent with `.delay()`:
  in production the broker takes it and the trace page request makes no SQL query at all;
  with eager tasks (tests, `make run`) the task's single INSERT runs inside the request.
- A serialised label (/21/{SERIAL}, /t/{CODE}/{SERIAL}/) reads its scan count with one
  aggregate query; past COUNTERFEIT_SCANS scans from more than one visitor the page warns
  that the code may have been copied.
- The scanner may share a province (never asked automatically): it is stored on that
  visitor's latest scan of the lot.
"""

import atexit
import functools
import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.template import loader
from django.utils import timezone

from marketplace.core import geo

from .models import Scan, SerialNumber

logger = logging.getLogger(__name__)

# A genuine label is scanned a few times: in the shop, by the buyer, by family at home.
# A code scanned more than this many times by more than one phone has probably been
# printed on more packages than one: the page then warns the buyer. One visitor opening
# their own label again and again is not suspicious, whatever the count.
COUNTERFEIT_SCANS = 5
COUNTERFEIT_VISITORS = 1
# Where the trace page leaves room for the per-serial part (the cached body is shared
# by every serial of the lot; this marker is replaced per request).
SERIAL_MARKER = "<!--nongsan:serial-->"
CHART_DAYS = 30


def _visitor_key() -> bytes:
    # A key of its own, derived from SECRET_KEY, so the hash cannot be replayed against
    # anything else signed with SECRET_KEY. Derived once per SECRET_KEY (hot path).
    return _derive_visitor_key(settings.SECRET_KEY)


@functools.cache
def _derive_visitor_key(secret: str) -> bytes:
    return hashlib.sha256(b"nongsan.traceability.scan-visitor:" + secret.encode()).digest()


def client_ip(request) -> str:
    """The scanner's address as our reverse proxy saw it: the last X-Forwarded-For hop
    (the one the proxy appended), else REMOTE_ADDR. A client forging the header only
    changes its own visitor hash, which it could do as well by changing its user agent."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "") or ""


def visitor_hash(request) -> str:
    """Keyed hash of the client's IP address and user agent (64 hex digits)."""
    message = "{}\n{}".format(client_ip(request), request.META.get("HTTP_USER_AGENT", ""))
    return hmac.new(_visitor_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()


@shared_task(name="traceability.record_scan", ignore_result=True)
def record_scan(lot_id, serial_id, language, visitor, scanned_at):
    """One INSERT. `scanned_at` is an ISO 8601 time (the moment of the request, not of
    the worker)."""
    Scan.objects.create(
        lot_id=lot_id,
        serial_id=serial_id,
        scanned_at=datetime.fromisoformat(scanned_at),
        language=(language or "")[:10],
        visitor=visitor,
    )


def schedule_scan(*, lot_id, serial_id, language, visitor, batch=False) -> None:
    """Send the scan to Celery. A broker outage must not break the trace page.

    With `batch` (the cached-page shortcut in traceability.middleware, where handing each
    scan to the broker would cost more than serving the page), scans of a lot page are
    collected in the worker process and sent as one task of up to BATCH_SIZE scans, at
    the latest BATCH_SECONDS after the first, and when the process exits. Lot scan
    statistics then lag by those seconds; serial labels (whose counterfeit warning reads
    the count) are never batched. With eager tasks (tests, `make run`) nothing is batched.
    """
    item = (lot_id, serial_id, language, visitor, timezone.now().isoformat())
    if not batch or settings.CELERY_TASK_ALWAYS_EAGER:
        _send(record_scan, *item)
        return
    with _lock:
        if not _buffer:
            _buffer_started[0] = time.monotonic()
        _buffer.append(item)
        due = len(_buffer) >= BATCH_SIZE or (time.monotonic() - _buffer_started[0] >= BATCH_SECONDS)
        items = _take() if due else None
    if items:
        _send(record_scans, items)


BATCH_SIZE = 50
BATCH_SECONDS = 2.0
_buffer: list = []
_buffer_started = [0.0]
_lock = threading.Lock()


def _take() -> list:
    items = list(_buffer)
    _buffer.clear()
    return items


def flush_scans() -> None:
    """Send what the process has collected (called at exit, and by tests)."""
    with _lock:
        items = _take()
    if items:
        _send(record_scans, items)


atexit.register(flush_scans)


def _send(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - counting a scan is never worth an error page
        logger.warning("could not record scans (%s)", task.name, exc_info=True)


@shared_task(name="traceability.record_scans", ignore_result=True)
def record_scans(items):
    """Many scans in one INSERT: items of (lot_id, serial_id, language, visitor, time)."""
    Scan.objects.bulk_create(
        Scan(
            lot_id=lot_id,
            serial_id=serial_id,
            scanned_at=datetime.fromisoformat(scanned_at),
            language=(language or "")[:10],
            visitor=visitor,
        )
        for lot_id, serial_id, language, visitor, scanned_at in items
    )


# --- Serialised labels ------------------------------------------------------------------------


@dataclass(frozen=True)
class SerialScans:
    serial_id: int
    serial: str
    count: int  # including this scan
    first_at: datetime
    visitors: int  # distinct, including this visitor

    @property
    def suspicious(self) -> bool:
        return self.count > COUNTERFEIT_SCANS and self.visitors > COUNTERFEIT_VISITORS


def serial_scans(lot_id: int, serial: str, visitor: str) -> SerialScans | None:
    """The serial of the lot with its scan counts, this scan included (one query);
    None when the lot has no such serial."""
    row = (
        SerialNumber.objects.filter(lot_id=lot_id, serial=serial)
        .annotate(
            n=Count("scans"),
            first=Min("scans__scanned_at"),
            visitors=Count("scans__visitor", distinct=True),
            mine=Count("scans", filter=Q(scans__visitor=visitor)),
        )
        .values("pk", "serial", "n", "first", "visitors", "mine")
        .first()
    )
    if row is None:
        return None
    return SerialScans(
        serial_id=row["pk"],
        serial=row["serial"],
        count=row["n"] + 1,
        first_at=row["first"] or timezone.now(),
        visitors=row["visitors"] + (0 if row["mine"] else 1),
    )


def inject_serial(body: str, info: SerialScans | None) -> str:
    """The cached page with its per-serial part (the serial, and the counterfeit warning
    when due); without a serial the marker just goes."""
    if info is None:
        return body.replace(SERIAL_MARKER, "", 1)
    part = loader.get_template("traceability/scan_serial.html").render({"info": info})
    return body.replace(SERIAL_MARKER, part, 1)


# --- Sharing a province -------------------------------------------------------------------------


def share_province(*, lot_id: int, visitor: str, province_code: int) -> bool:
    """Store the province on this visitor's latest scan of the lot. False when there is
    none (or the code is not a province)."""
    if not geo.is_valid_province(province_code):
        return False
    latest = (
        Scan.objects.filter(lot_id=lot_id, visitor=visitor)
        .order_by("-scanned_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return False
    Scan.objects.filter(pk=latest).update(province_code=province_code)
    return True


# --- What the producer sees -----------------------------------------------------------------------


@dataclass
class DayBar:
    day: object
    count: int
    percent: int


def lot_scan_summary(lot_id: int, *, days: int = CHART_DAYS) -> dict:
    """Total scans, distinct scanners, provinces shared and scans per day for the last
    `days` days (local dates, oldest first): three queries."""
    scans = Scan.objects.filter(lot_id=lot_id)
    totals = scans.aggregate(total=Count("pk"), visitors=Count("visitor", distinct=True))
    today = timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    per_day = {
        row["day"]: row["n"]
        for row in scans.filter(scanned_at__gte=since)
        .annotate(day=TruncDate("scanned_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    }
    top = max(per_day.values(), default=0)
    bars = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        count = per_day.get(day, 0)
        bars.append(DayBar(day=day, count=count, percent=round(100 * count / top) if top else 0))
    provinces = [
        (geo.province_name(row["province_code"]) or str(row["province_code"]), row["n"])
        for row in scans.exclude(province_code=None)
        .values("province_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "province_code")
    ]
    return {
        "total": totals["total"],
        "visitors": totals["visitors"],
        "bars": bars,
        "last_30": sum(bar.count for bar in bars),
        "top": top,
        "provinces": provinces,
        "provinces_shared": sum(n for _name, n in provinces),
    }
