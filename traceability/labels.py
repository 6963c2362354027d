"""Printable A4 sheets of QR labels for a lot, made by a Celery task.

A farmer (or staff on their behalf) asks for N labels of one of three standard A4 layouts
(`LAYOUTS`, real Avery sizes), optionally with one serial number per label. The view calls
`request_sheet`, which saves a LabelSheet and enqueues `make_label_sheet` after the
transaction commits. The task:

1. makes the serial numbers (`ensure_serials`: random, from the short-code alphabet that
   has no 0/O or 1/I/L, unique per lot, created in bulk, and reused if the task runs again
   for the same sheet, so a retried task never makes a second set);
2. draws the PDF with reportlab (`render_pdf`): each QR is one filled vector path of
   horizontal runs drawn from the qrcode matrix (no images), beside the product name,
   lot code and producer in DejaVu Sans Condensed, a font with every Vietnamese letter
   (vendored in static/fonts with its licence). The parts that are the same on every
   label are drawn once as a PDF form and reused;
3. stores the file, in the private storage under a random name, and sets the sheet done,
   or failed with a readable error. It never stays "running": the task is retried when its
   worker dies, and a screen that sees no heartbeat for two minutes fails it with the true
   reason and offers to make it again (`expire_stale`, `retry_sheet`,
   marketplace.core.jobs).
"""

import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache, partial
from io import BytesIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core import jobs

from . import qr
from .gs1 import product_gtin
from .models import SHORT_CODE_ALPHABET, LabelSheet, Lot, SerialNumber

logger = logging.getLogger(__name__)

MAX_LABELS = 5000
SERIAL_ALPHABET = SHORT_CODE_ALPHABET  # no 0/O, 1/I/L: readable off a label
SERIAL_LENGTH = 10  # 31^10 ≈ 8 × 10^14 serials per lot; GS1 AI 21 allows up to 20
PROGRESS_EVERY = 100  # labels between two progress writes
FONT = "NongsanLabel"
FONT_BOLD = "NongsanLabel-Bold"
FONT_DIR = os.path.join(settings.BASE_DIR, "static", "fonts")
MM = 72 / 25.4  # PDF points per millimetre
A4 = (210 * MM, 297 * MM)


@dataclass(frozen=True)
class Layout:
    """An A4 label sheet; lengths in millimetres, from the top-left corner of the page."""

    key: str
    label: str
    columns: int
    rows: int
    width: float
    height: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float
    font_size: float  # points
    padding: float = 1.5

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


LAYOUTS = {
    layout.key: layout
    for layout in (
        Layout(
            "L7651",
            gettext_lazy("65 per sheet, 38.1 × 21.2 mm (Avery L7651)"),
            5, 13, 38.1, 21.2, 4.7, 10.7, 40.6, 21.2, 5.2,
        ),
        Layout(
            "L7159",
            gettext_lazy("24 per sheet, 63.5 × 33.9 mm (Avery L7159)"),
            3, 8, 63.5, 33.9, 7.25, 12.9, 66.0, 33.9, 7.5,
        ),
        Layout(
            "L7165",
            gettext_lazy("8 per sheet, 99.1 × 67.7 mm (Avery L7165)"),
            2, 4, 99.1, 67.7, 4.65, 13.1, 101.6, 67.7, 12,
        ),
    )
}  # fmt: skip
LAYOUT_CHOICES = [(layout.key, layout.label) for layout in LAYOUTS.values()]
DEFAULT_LAYOUT = "L7651"


# --- Serial numbers ----------------------------------------------------------------------------


def random_serial() -> str:
    return "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_LENGTH))


def ensure_serials(sheet: LabelSheet) -> list[str]:
    """The sheet's `count` serial numbers, oldest first: those it already has (a task run
    again reuses them) topped up with new random ones, unique within the lot."""
    have = list(sheet.serials.order_by("pk").values_list("serial", flat=True))
    while len(have) < sheet.count:
        wanted = {random_serial() for _ in range(sheet.count - len(have))}
        candidates = list(wanted)
        for start in range(0, len(candidates), 900):
            chunk = candidates[start : start + 900]
            wanted -= set(
                SerialNumber.objects.filter(lot_id=sheet.lot_id, serial__in=chunk).values_list(
                    "serial", flat=True
                )
            )
        # ignore_conflicts: a serial taken meanwhile by another sheet of the lot is skipped
        # (the unique constraint decides) and the loop draws a replacement.
        SerialNumber.objects.bulk_create(
            [SerialNumber(lot_id=sheet.lot_id, sheet=sheet, serial=s) for s in sorted(wanted)],
            batch_size=500,
            ignore_conflicts=True,
        )
        have = list(sheet.serials.order_by("pk").values_list("serial", flat=True))
    return have[: sheet.count]


# --- PDF -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str]:
    """Register the label fonts with reportlab once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, os.path.join(FONT_DIR, "DejaVuSansCondensed.ttf")))
    pdfmetrics.registerFont(
        TTFont(FONT_BOLD, os.path.join(FONT_DIR, "DejaVuSansCondensed-Bold.ttf"))
    )
    return FONT, FONT_BOLD


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """`text` broken into at most `max_lines` lines of at most `width` points; the last
    line ends with "…" when the text does not fit."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def fits(line):
        return stringWidth(line, font, size) <= width

    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while not fits(current) and len(current) > 1:  # a word wider than the line
            cut = len(current)
            while cut > 1 and not fits(current[:cut]):
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and not fits(last + "…"):
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last.rstrip() + "…"]
    return lines


def _draw_qr(canvas, rows, x, y, side):
    """The QR `rows` (quiet zone included) as one filled path in the square of side `side`
    points whose lower-left corner is (x, y)."""
    n = len(rows)
    canvas.saveState()
    canvas.translate(x, y + side)
    canvas.scale(side / n, -side / n)  # module units, y down like the matrix
    canvas.setFillGray(0)
    # Whole-module coordinates written as integers: the same operators as reportlab's
    # path.rect() and drawPath(fill=1), without formatting ~200 floats per label.
    canvas.addLiteral(
        " ".join(f"{mx} {my} {length} 1 re" for mx, my, length in qr.runs(rows)) + " f n"
    )
    canvas.restoreState()


@dataclass
class LabelText:
    product: str
    lot_code: str
    producer: str


def render_pdf(layout: Layout, text: LabelText, urls, *, serials=None, progress=None) -> bytes:
    """The PDF of one label per URL in `urls` (the same URL object repeated for an
    unserialised sheet: its QR is then encoded and drawn once). `progress(n)` is called
    every PROGRESS_EVERY labels."""
    from reportlab.pdfgen.canvas import Canvas

    font, bold = register_fonts()
    out = BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{text.product} · {text.lot_code}")
    canvas.setCreator("nongsan")

    pad = layout.padding * MM
    width, height = layout.width * MM, layout.height * MM
    side = min(height - 2 * pad, width / 2)
    text_x = pad + side
    text_width = width - text_x - pad
    size = layout.font_size
    leading = size * 1.2
    serial_lines = 1 if serials else 0
    budget = int((height - 2 * pad) // leading)  # lines that fit on the label
    lot_line = _("Lot %(code)s") % {"code": text.lot_code}
    name_lines = wrap(text.product, bold, size, text_width, max(1, min(3, budget - 3)))
    producer_budget = max(1, budget - len(name_lines) - 1 - serial_lines)
    producer_lines = wrap(text.producer, font, size, text_width, min(2, producer_budget))

    # What every label shares, drawn once: the texts, and the QR when it is the same.
    urls = list(urls)
    same_qr = len(set(urls)) == 1
    canvas.beginForm("label")
    y = height - pad - size
    for line in name_lines:
        canvas.setFont(bold, size)
        canvas.drawString(text_x, y, line)
        y -= leading
    canvas.setFont(font, size)
    canvas.drawString(text_x, y, lot_line)
    y -= leading
    for line in producer_lines:
        canvas.drawString(text_x, y, line)
        y -= leading
    if same_qr and urls:
        _draw_qr(canvas, qr.matrix(urls[0]), pad, (height - side) / 2, side)
    canvas.endForm()
    serial_y = y

    for index, url in enumerate(urls):
        slot = index % layout.per_page
        if index and slot == 0:
            canvas.showPage()
        row, column = divmod(slot, layout.columns)
        x0 = (layout.left + column * layout.pitch_x) * MM
        y0 = A4[1] - (layout.top + row * layout.pitch_y + layout.height) * MM
        canvas.saveState()
        canvas.translate(x0, y0)
        canvas.doForm("label")
        if not same_qr:
            _draw_qr(canvas, qr.matrix(url), pad, (height - side) / 2, side)
        if serials:
            canvas.setFont(font, size)
            canvas.drawString(text_x, serial_y, _("No. %(serial)s") % {"serial": serials[index]})
        canvas.restoreState()
        if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


# --- The sheet: request, task, status ------------------------------------------------------


def request_sheet(
    *, lot: Lot, size: str, count: int, serialised: bool, by, base_url: str, language: str
) -> LabelSheet:
    """Save a sheet to make and enqueue its task once the transaction commits."""
    if size not in LAYOUTS:
        raise ValueError(f"unknown label size {size!r}")
    if not 1 <= count <= MAX_LABELS:
        raise ValueError(f"count {count} outside 1..{MAX_LABELS}")
    with transaction.atomic():
        sheet = LabelSheet.objects.create(
            lot=lot, size=size, count=count, serialised=serialised, created_by=by
        )
        _enqueue(sheet, base_url, language)
    return sheet


def _enqueue(sheet: LabelSheet, base_url: str, language: str) -> None:
    from . import tasks  # the task wraps make_label_sheet below

    transaction.on_commit(partial(tasks.make_label_sheet.delay, sheet.pk, base_url, language))


def retry_sheet(*, sheet: LabelSheet, base_url: str, language: str) -> bool:
    """Make a failed sheet again (its serial numbers are kept). False if it had not failed."""
    with transaction.atomic():
        updated = LabelSheet.objects.filter(pk=sheet.pk, status=LabelSheet.Status.FAILED).update(
            status=LabelSheet.Status.PENDING,
            error="",
            progress=0,
            attempts=0,
            worker="",
            started_at=None,
            heartbeat_at=timezone.now(),  # queued now: "no worker took it up" counts from here
            finished_at=None,
        )
        if updated:
            _enqueue(sheet, base_url, language)
    return bool(updated)


def _readable(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return _("It took too long and was stopped.")
    detail = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {detail}"[:500]


def build_sheet(sheet: LabelSheet, base_url: str) -> None:
    """Make the sheet's serials and PDF and store it (the task's work, synchronously)."""
    lot = sheet.lot
    layout = LAYOUTS.get(sheet.size)
    if layout is None:
        raise ValueError(_("Unknown label size “%(size)s”.") % {"size": sheet.size})
    gtin = product_gtin(lot.product)
    if sheet.serialised:
        serials = ensure_serials(sheet)
        urls = [qr.label_url(lot, base_url, s, gtin=gtin) for s in serials]
    else:
        serials = None
        urls = [qr.label_url(lot, base_url, gtin=gtin)] * sheet.count
    text = LabelText(
        product=lot.product.get_title(), lot_code=lot.code, producer=lot.producer.partner.name
    )

    def progress(done):
        LabelSheet.objects.filter(pk=sheet.pk).update(progress=done, heartbeat_at=timezone.now())

    pdf = render_pdf(layout, text, urls, serials=serials, progress=progress)
    if sheet.file:
        sheet.file.delete(save=False)
    # A random name: the file is served through a view that checks scope, and its media
    # path cannot be guessed either.
    sheet.file.save(f"{lot.pk}-{secrets.token_urlsafe(18)}.pdf", ContentFile(pdf), save=False)
    LabelSheet.objects.filter(pk=sheet.pk).update(
        file=sheet.file.name,
        status=LabelSheet.Status.DONE,
        progress=sheet.count,
        error="",
        finished_at=timezone.now(),
    )


def make_label_sheet(sheet_id: int, base_url: str, language: str = "vi") -> str:
    """Make one label sheet (the work of the task traceability.tasks.make_label_sheet).
    Safe to run again: a finished sheet is left alone, one a live worker is making too, and
    a sheet whose worker died is taken up again with its serial numbers reused
    (marketplace.core.jobs.claim). Never raises for a broken sheet: the error goes into the
    sheet for the farmer to read."""
    if jobs.claim(LabelSheet, sheet_id) is None:
        return "skipped"
    sheet = LabelSheet.objects.select_related("lot__product", "lot__producer__partner").get(
        pk=sheet_id
    )
    LabelSheet.objects.filter(pk=sheet.pk).update(progress=0, error="")
    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            build_sheet(sheet, base_url)
        except Exception as exc:  # recorded on the sheet, never left "running"
            logger.exception("label sheet %s failed", sheet_id)
            LabelSheet.objects.filter(pk=sheet.pk).update(
                status=LabelSheet.Status.FAILED,
                error=_readable(exc),
                finished_at=timezone.now(),
            )
            return "failed"
    return "done"


def expire_stale(sheet: LabelSheet) -> LabelSheet:
    """For the sheet's screens: a sheet whose worker died (no heartbeat for
    jobs.DEAD_AFTER) or that no worker took up is failed with that reason, so the farmer
    sees why and can make it again (retry_sheet)."""
    return jobs.fail_stalled(LabelSheet, sheet)


# --- Demo ----------------------------------------------------------------------------------------


def seed_demo(stdout=None, base_url: str | None = None) -> list[str]:
    """For settings.DEMO_SEEDERS (after traceability.demo.seed): one small serialised sheet
    (24 labels, 24/A4) for the first demo lot whose product has a GTIN. Idempotent: the
    sheet is made once and reused. Returns the lines `seed_demo` prints (none when no demo
    product has a GTIN). The QR codes encode the site's configured address (qr.base_url)."""
    base_url = base_url or qr.base_url()
    sheet = demo_sheet(base_url)
    if sheet is None:
        return []
    path = f"/lo-hang/{sheet.lot_id}/nhan/{sheet.pk}/"
    return [
        f"  Labels    {base_url}{path} ({sheet.count} serialised, {sheet.get_status_display()})"
    ]


def demo_sheet(base_url: str | None = None) -> LabelSheet | None:
    base_url = base_url or qr.base_url()
    lot = next(
        (
            lot
            for lot in Lot.objects.select_related("product", "producer__partner").order_by("pk")
            if product_gtin(lot.product)
        ),
        None,
    )
    if lot is None:
        return None
    sheet = lot.label_sheets.filter(serialised=True, size="L7159", count=24).first()
    if sheet is None:
        sheet = LabelSheet.objects.create(lot=lot, size="L7159", count=24, serialised=True)
    if sheet.status != LabelSheet.Status.DONE:
        make_label_sheet(sheet.pk, base_url, settings.LANGUAGE_CODE)
        sheet.refresh_from_db()
    return sheet
