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
- A serialised label (/21/{SERIAL}, /t/{CODE}/{SERIAL}/) reads its scans with one
  aggregate query, and warns that the code may have been copied when its scans look like
  more packages than one (see "Serialised labels" below: distinct scanners over time,
  never browsers).
- The scanner may share a province (never asked automatically): it is stored on that
  visitor's latest scan of the lot.
"""

import atexit
import functools
import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.template import loader
from django.utils import timezone

from marketplace.core import geo

from .models import Scan, SerialNumber

logger = logging.getLogger(__name__)

# How a copied code is told from a genuine label (SerialScans.suspicious):
#
# A genuine label is scanned in a few places over its life: in the shop, then at the
# buyer's home (family members share its Wi-Fi), perhaps once more at work. A scanner is
# therefore a *network*, not a browser: the scanner's address cut to its network prefix
# (IPv4 /24, IPv6 /48, NETWORK_PREFIX), keyed-hashed like `visitor`. One person reloading
# with other browsers, private windows or cleared cookies stays one scanner, whatever
# the count. A phone hopping between Wi-Fi and mobile data (or a carrier handing out
# addresses from several ranges) can show several networks within minutes: networks first
# seen less than SIGHTING_GAP after the previous counted one fold into it. So a scanner
# counts as new only when it is a network not seen before, first seen more than
# SIGHTING_GAP after the last counted one: that is what a second sale of the same code
# looks like (another buyer, elsewhere, later). From COUNTERFEIT_SIGHTINGS such sightings
# (shop + home + a third place, hours apart) the page warns the buyer.
NETWORK_PREFIX = {4: 24, 6: 48}
SIGHTING_GAP = timedelta(hours=6)
COUNTERFEIT_SIGHTINGS = 3
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
    return _client_ip(request.META)


def _client_ip(meta) -> str:
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return meta.get("REMOTE_ADDR", "") or ""


def visitor_hash(request) -> str:
    """Keyed hash of the client's IP address and user agent (64 hex digits)."""
    return visitor_hash_of(request.META)


def visitor_hash_of(meta) -> str:
    """visitor_hash from the request's META (or the WSGI environ, which it is)."""
    message = "{}\n{}".format(_client_ip(meta), meta.get("HTTP_USER_AGENT", ""))
    return hmac.new(_visitor_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()


def network_prefix(address: str) -> str:
    """The network an address belongs to ("203.0.113.0/24", "2001:db8:1::/48"); the
    address itself when it is not one."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{NETWORK_PREFIX[ip.version]}", strict=False))


def network_hash(request) -> str:
    """Keyed hash of the scanner's network prefix, without the browser (64 hex digits):
    what the counterfeit warning counts."""
    message = "network\n" + network_prefix(client_ip(request))
    return hmac.new(_visitor_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()


@shared_task(name="traceability.record_scan", ignore_result=True)
def record_scan(lot_id, serial_id, language, visitor, scanned_at, network=""):
    """One INSERT. `scanned_at` is an ISO 8601 time (the moment of the request, not of
    the worker)."""
    Scan.objects.create(
        lot_id=lot_id,
        serial_id=serial_id,
        scanned_at=datetime.fromisoformat(scanned_at),
        language=(language or "")[:10],
        visitor=visitor,
        network=network or "",
    )


def schedule_scan(*, lot_id, serial_id, language, visitor, batch=False, network="") -> None:
    """Send the scan to Celery. A broker outage must not break the trace page.

    With `batch` (every scan of a lot's page, cached or not: handing each one to the
    broker would cost more than serving the page), scans of a lot page are
    collected in the worker process and sent as one task of up to BATCH_SIZE scans, at
    the latest BATCH_SECONDS after the first, and when the process exits. Lot scan
    statistics then lag by those seconds; serial labels (whose counterfeit warning reads
    the count) are never batched. With eager tasks (tests, `make run`) nothing is batched.
    """
    item = (lot_id, serial_id, language, visitor, timezone.now().isoformat())
    if not batch or recorded_in_request():
        _send(record_scan, *item, *([network] if network else []))  # serial scans only
        return
    with _lock:
        if not _buffer:
            _buffer_started[0] = time.monotonic()
        _buffer.append(item)
        due = len(_buffer) >= BATCH_SIZE or (time.monotonic() - _buffer_started[0] >= BATCH_SECONDS)
        items = _take() if due else None
    if items:
        _send(record_scans, items)


def recorded_in_request() -> bool:
    """Whether a scan's INSERT runs inside the request (eager tasks: tests, `make run`)
    rather than in a Celery worker."""
    return settings.CELERY_TASK_ALWAYS_EAGER


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


class _ScanBatchTask(Task):
    """Sent with a short description of its arguments: Celery would otherwise write out
    the repr of every scan of the batch into the message, on the page's request."""

    def delay(self, *args, **kwargs):
        items = args[0] if args else kwargs.get("items", ())
        return self.apply_async(args, kwargs, argsrepr=f"[{len(items)} scans]", kwargsrepr="{}")


@shared_task(name="traceability.record_scans", ignore_result=True, base=_ScanBatchTask)
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


def count_sightings(first_seen) -> int:
    """How many distinct scanners, over time, the first-seen times of a label's networks
    show: each network first seen more than SIGHTING_GAP after the last counted one is a
    new sighting; the others fold into it (see COUNTERFEIT_SIGHTINGS)."""
    sightings, last = 0, None
    for moment in sorted(first_seen):
        if last is None or moment - last > SIGHTING_GAP:
            sightings += 1
            last = moment
    return sightings


@dataclass(frozen=True)
class SerialScans:
    serial_id: int
    serial: str
    count: int  # including this scan
    first_at: datetime
    sightings: int  # distinct scanners over time, including this one (count_sightings)

    @property
    def suspicious(self) -> bool:
        return self.sightings >= COUNTERFEIT_SIGHTINGS


def serial_scans(
    lot_id: int, serial: str, visitor: str, network: str = "", *, now=None
) -> SerialScans | None:
    """The serial of the lot with its scans, this scan (from `network`) included: one
    aggregate query, a row per network that scanned it (scans recorded before networks
    were, per visitor). None when the lot has no such serial."""
    now = now or timezone.now()
    rows = list(
        SerialNumber.objects.filter(lot_id=lot_id, serial=serial)
        .values("pk", "serial", "scans__network", "scans__visitor")
        .annotate(n=Count("scans"), first=Min("scans__scanned_at"))
        .order_by()
    )
    if not rows:
        return None
    first_seen: dict[str, datetime] = {}
    for row in rows:
        if row["first"] is None:  # the serial has no scan yet
            continue
        key = row["scans__network"] or f"visitor:{row['scans__visitor']}"
        first_seen[key] = min(row["first"], first_seen.get(key, row["first"]))
    key = network or f"visitor:{visitor}"
    first_seen.setdefault(key, now)
    return SerialScans(
        serial_id=rows[0]["pk"],
        serial=rows[0]["serial"],
        count=sum(row["n"] for row in rows) + 1,
        first_at=min(first_seen.values()),
        sightings=count_sightings(first_seen.values()),
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
