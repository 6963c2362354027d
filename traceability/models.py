"""Lots and their farm events, kept as an append-only hash chain.

A Lot is one batch of one product from one producer (GS1 AI 10, "batch/lot"). Its
FarmEvents (planting, sprays, harvest, packing, …) are appended, never changed: a mistake
is fixed by a *correction* event that points at the event it corrects, and both stay
visible on the trace page.

Hash chain
----------
Every event stores ``previous_hash`` (the hash of the lot's previous event, or 64 zeros
for the first) and ``hash``::

    hash = sha256( canonical_bytes(event) + previous_hash.encode("ascii") ).hexdigest()

``canonical_bytes(event)`` is the UTF-8 encoding of this JSON object, serialised with
``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
allow_nan=False)`` — keys sorted at every level (so ``details`` too), no whitespace,
non-ASCII characters as themselves::

    {
      "commune_code":   int or null,
      "corrects":       hash of the corrected event (64 hex) or null,
      "details":        the event's details object,
      "event_time":     event time in UTC, ISO 8601 with "Z", e.g. "2025-07-01T01:30:00Z"
                        (microseconds only when not zero: "…T01:30:00.250000Z"),
      "event_timezone": the offset where it happened, e.g. "+07:00",
      "kind":           e.g. "harvest",
      "location":       free text ("" when none),
      "lot":            {"code": the lot code, "product": the product's id},
      "recorded_by":    the recording user's id or null,
      "sequence":       1, 2, 3, … within the lot,
      "v":              1 (version of this canonical form)
    }

``verify_chain(lot)`` recomputes every hash from the stored rows and reports the first
sequence whose content, link or numbering does not match: anything changed in the
database behind the application's back (an UPDATE, a deleted row) shows there.

That chain has no key (anyone can recompute it after a rewrite) and nothing anchors its
end, and it covers events only. What the trace page trusts is the signed records below
(TraceRecord: the lot, each event with both times and its chain hashes, the certificates
valid at harvest, a recall), each signed with a key outside the database and a leaf of
the transparency log: see traceability.transparency, traceability.integrity and the
standalone traceability/verifier.py.
"""

import hashlib
import json
import re
from datetime import UTC

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.places import Place
from marketplace.core.storage import get_private_storage

ZERO_HASH = "0" * 64
# The name of the transparency log, signed into every checkpoint (traceability.transparency).
LOG_ORIGIN = "nongsan trace log v1"

# GS1 AI 10 (batch/lot): up to 20 characters of GS1 AI encodable character set 82 (letters,
# digits and ! " % & ' ( ) * + , - . / : ; < = > ? _). The one rule: gs1.validate_lot_code;
# links quote the code (gs1.DigitalLink.path), pages escape it, labels draw it as text.
# (forms.LotForm and services.create_lot call it; the row itself only bounds the length).
LOT_CODE_MAX_LENGTH = 20

# Short codes for https://HOST/t/{CODE}: no 0/O, 1/I/L, so that a person can type one
# from a printed label. 8 characters of 31 → about 8.5 × 10^11 codes.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
SHORT_CODE_RE = re.compile(rf"^[{SHORT_CODE_ALPHABET}]{{8,10}}$")

TIMEZONE_OFFSET_RE = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


class ImmutableEventError(Exception):
    """Farm events are append-only: record a correction instead of changing one."""


class SafetyReview(models.TextChoices):
    PENDING = "pending", _("Waiting for the operator's review")
    CLEARED = "cleared", _("Cleared for sale by the operator")
    REFUSED = "refused", _("Not for sale (operator's review)")


class Lot(Place):
    product = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("Product"),
    )
    producer = models.ForeignKey(
        "marketplace.ProducerProfile",
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("Producer"),
    )
    code = models.CharField(
        _("Lot code"),
        max_length=LOT_CODE_MAX_LENGTH,
        help_text=_("Printed on the label. Leave empty to have one made for you."),
    )
    short_code = models.CharField(_("Short code"), max_length=10, unique=True, editable=False)
    quantity = models.DecimalField(
        _("Quantity"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(0)],
    )
    unit = models.CharField(_("Unit"), max_length=20)
    province_code = models.PositiveIntegerField(_("Province"))  # Place's, without an index
    latitude = models.DecimalField(
        _("Latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("Longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    production_date = models.DateField(_("Production date"), null=True, blank=True)
    expiry_date = models.DateField(_("Expiry date"), null=True, blank=True)
    # Circular 02/2024/TT-BKHCN's consumer elements beside origin and dates: the standards
    # the product is made to (TCVN, QCVN, or the producer's own TCCS) and its brand. Set
    # when the lot is created and signed with it (traceability.transparency.lot_data).
    standards = models.CharField(
        _("Standards applied"),
        max_length=200,
        blank=True,
        help_text=_("TCVN, QCVN or TCCS numbers, separated by “;”, e.g. TCVN 5251:2015."),
    )
    brand = models.CharField(_("Brand"), max_length=120, blank=True)
    # The operator's review of a lot harvested inside a pre-harvest interval
    # (traceability.safety: such a lot is not sold until the operator clears it).
    safety_review = models.CharField(
        _("Safety review"), max_length=10, choices=SafetyReview.choices, blank=True, default=""
    )
    safety_review_note = models.TextField(_("Review note"), blank=True)
    safety_reviewed_at = models.DateTimeField(_("Reviewed at"), null=True, blank=True)
    safety_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Reviewed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Created by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Lot")
        verbose_name_plural = _("Lots")
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="lot_unique_code_per_product"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="lot_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(production_date__isnull=True)
                | models.Q(expiry_date__gt=models.F("production_date")),
                name="lot_expiry_after_production",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="lot_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="lot_longitude_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["safety_review"],
                name="lot_review_pending",
                condition=models.Q(safety_review="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.short_code})"

    def clean(self):
        errors = self.place_errors()
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude"] = _("Give both latitude and longitude, or neither.")
        if self.production_date and self.expiry_date and self.expiry_date <= self.production_date:
            errors["expiry_date"] = _("The expiry date must be after the production date.")
        if errors:
            raise ValidationError(errors)


class FarmEventQuerySet(models.QuerySet):
    """Bulk writes would slip past FarmEvent.save()/delete(): refuse them too."""

    def update(self, **kwargs):
        raise ImmutableEventError("Farm events are append-only; record a correction instead.")

    def delete(self):
        raise ImmutableEventError("Farm events are append-only; they cannot be deleted.")

    delete.queryset_only = True


class FarmEvent(models.Model):
    class Kind(models.TextChoices):
        PLANTING = "planting", _("Planting")
        GROWING_NOTE = "growing_note", _("Growing note")
        INPUT_APPLIED = "input_applied", _("Fertiliser or pesticide applied")
        HARVEST = "harvest", _("Harvest")
        PROCESSING = "processing", _("Processing")
        PACKING = "packing", _("Packing")
        SHIPPING = "shipping", _("Shipping")
        RECEIVING = "receiving", _("Receiving")
        CORRECTION = "correction", _("Correction")

    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="events", verbose_name=_("Lot")
    )
    sequence = models.PositiveIntegerField(_("Number"))
    kind = models.CharField(_("Event"), max_length=20, choices=Kind.choices)
    event_time = models.DateTimeField(_("When"))
    event_timezone = models.CharField(
        _("Time zone"),
        max_length=6,
        default="+07:00",
        validators=[RegexValidator(TIMEZONE_OFFSET_RE)],
    )
    recorded_at = models.DateTimeField(_("Recorded at"), auto_now_add=True)
    # PROTECT, not SET_NULL: the recorder is part of the hash, so it must never change.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("Recorded by"),
    )
    location = models.CharField(_("Place"), max_length=200, blank=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"), null=True, blank=True)
    details = models.JSONField(_("Details"), default=dict, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("Corrects"),
    )
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, db_index=True)

    objects = FarmEventQuerySet.as_manager()

    class Meta:
        ordering = ["lot", "sequence"]
        verbose_name = _("Farm event")
        verbose_name_plural = _("Farm events")
        constraints = [
            models.UniqueConstraint(fields=["lot", "sequence"], name="farmevent_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="farmevent_sequence_from_one"
            ),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEventError(
                "Farm events are append-only; record a correction instead of changing one."
            )
        if len(self.hash or "") != 64 or len(self.previous_hash or "") != 64:
            raise ImmutableEventError(
                "Append events with traceability.services.record_event (it sets the hashes)."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError("Farm events are append-only; they cannot be deleted.")


# --- Hash chain ------------------------------------------------------------------------------

_UNSET = object()


def utc_iso(value) -> str:
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def canonical_bytes(event: FarmEvent, *, lot: Lot | None = None, corrects_hash=_UNSET) -> bytes:
    """The event's content in the canonical form described in the module docstring.
    `lot` and `corrects_hash` may be given to avoid queries when verifying a whole chain."""
    return json.dumps(
        canonical_content(event, lot=lot, corrects_hash=corrects_hash),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def canonical_content(event: FarmEvent, *, lot: Lot | None = None, corrects_hash=_UNSET) -> dict:
    """The object canonical_bytes serialises (its values as JSON reads them back when the
    event was read from the database)."""
    lot = lot or event.lot
    if corrects_hash is _UNSET:
        corrects_hash = event.corrects.hash if event.corrects_id else None
    content = {
        "v": 1,
        "lot": {"product": lot.product_id, "code": lot.code},
        "sequence": event.sequence,
        "kind": event.kind,
        "event_time": utc_iso(event.event_time),
        "event_timezone": event.event_timezone,
        "location": event.location or "",
        "commune_code": event.commune_code,
        "details": event.details or {},
        "corrects": corrects_hash,
        "recorded_by": event.recorded_by_id,
    }
    return content


def compute_hash(event: FarmEvent, *, lot: Lot | None = None, corrects_hash=_UNSET) -> str:
    digest = hashlib.sha256(canonical_bytes(event, lot=lot, corrects_hash=corrects_hash))
    digest.update((event.previous_hash or "").encode("ascii"))
    return digest.hexdigest()


def verify_chain(lot: Lot, events=None) -> tuple[bool, int | None]:
    """Recompute the lot's chain from the database rows (one query), or from `events` when
    the caller has just read them. Returns (True, None) when intact, else (False, the first
    sequence number that does not match)."""
    if events is None:
        events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
    hashes_by_pk = {event.pk: event.hash for event in events}
    previous = ZERO_HASH
    for expected_sequence, event in enumerate(events, start=1):
        corrects_hash = None
        if event.corrects_id is not None:
            corrects_hash = hashes_by_pk.get(event.corrects_id)
            if corrects_hash is None:  # a correction must point inside its own lot
                return False, event.sequence
        if (
            event.sequence != expected_sequence
            or event.previous_hash != previous
            or compute_hash(event, lot=lot, corrects_hash=corrects_hash) != event.hash
        ):
            return False, event.sequence
        previous = event.hash
    return True, None


# --- Labels, scans, recalls, order lines -----------------------------------------------------


class LabelSheet(models.Model):
    """A printable A4 PDF of QR labels for one lot, made by a Celery task
    (traceability.tasks.make_label_sheet), optionally with one serial number per label."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    lot = models.ForeignKey(
        Lot, on_delete=models.CASCADE, related_name="label_sheets", verbose_name=_("Lot")
    )
    size = models.CharField(_("Label size"), max_length=20)
    count = models.PositiveIntegerField(
        _("Number of labels"), validators=[MinValueValidator(1), MaxValueValidator(5000)]
    )
    serialised = models.BooleanField(_("One serial number per label"), default=False)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveIntegerField(_("Labels done"), default=0)
    # Private storage: served only by the lot's checked view (views_labels.sheet_pdf).
    file = models.FileField(_("PDF"), upload_to="labels/", storage=get_private_storage, blank=True)
    error = models.TextField(_("Error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Created by"),
    )
    created_at = models.DateTimeField(_("Created at"), auto_now_add=True)
    # The worker that makes it (marketplace.core.jobs): when it started, its last sign of
    # life, how many times a worker took it up, and which one ("host:pid").
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(_("Finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Label sheet")
        verbose_name_plural = _("Label sheets")

    def __str__(self):
        return f"{self.lot.code} × {self.count}"


class SerialNumber(models.Model):
    """GS1 AI 21: one printed label of a lot, /01/{GTIN}/10/{LOT}/21/{SERIAL}."""

    lot = models.ForeignKey(
        Lot, on_delete=models.CASCADE, related_name="serials", verbose_name=_("Lot")
    )
    serial = models.CharField(_("Serial number"), max_length=20)
    sheet = models.ForeignKey(
        LabelSheet,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="serials",
        verbose_name=_("Label sheet"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Serial number")
        verbose_name_plural = _("Serial numbers")
        constraints = [
            models.UniqueConstraint(fields=["lot", "serial"], name="serial_unique_per_lot"),
        ]

    def __str__(self):
        return f"{self.lot.code}/{self.serial}"


class Scan(models.Model):
    """One opening of a trace page from a QR code. No IP address is stored: `visitor` is
    a keyed hash (HMAC) that counts distinct scanners without identifying them."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="scans")
    serial = models.ForeignKey(
        SerialNumber, on_delete=models.CASCADE, null=True, blank=True, related_name="scans"
    )
    scanned_at = models.DateTimeField(_("Scanned at"))
    language = models.CharField(_("Language"), max_length=10, blank=True)
    province_code = models.PositiveIntegerField(_("Province"), null=True, blank=True)
    visitor = models.CharField(max_length=64)
    # Keyed hash of the scanner's network (IPv4 /24, IPv6 /48), without the browser: what
    # the counterfeit warning counts (traceability.scans). "" for scans recorded before.
    network = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("Scan")
        verbose_name_plural = _("Scans")
        indexes = [
            models.Index(fields=["lot", "scanned_at"], name="scan_lot_time"),
            models.Index(fields=["serial", "scanned_at"], name="scan_serial_time"),
        ]

    def __str__(self):
        return f"{self.lot_id} @ {self.scanned_at:%Y-%m-%d %H:%M}"


class Recall(models.Model):
    """A lot taken off the market. At most one per lot; it cannot be undone."""

    lot = models.OneToOneField(
        Lot, on_delete=models.PROTECT, related_name="recall", verbose_name=_("Lot")
    )
    reason = models.TextField(_("Reason"))
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Recalled by"),
    )
    recalled_at = models.DateTimeField(_("Recalled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Recall")
        verbose_name_plural = _("Recalls")

    def __str__(self):
        return str(self.lot)


class RecallNotice(models.Model):
    """One notification of a recall to the buyer of one order: made once, sent once."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="notices")
    order = models.ForeignKey("order.Order", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recall", "order"], name="recallnotice_once"),
        ]

    def __str__(self):
        return f"{self.recall_id} → {self.order_id}"


class LineLot(models.Model):
    """The lot an order line was packed from, chosen by the producer when packing."""

    line = models.OneToOneField(
        "order.Line", on_delete=models.CASCADE, related_name="trace_lot", verbose_name=_("Line")
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("Lot")
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Lot of an order line")
        verbose_name_plural = _("Lots of order lines")

    def __str__(self):
        return f"{self.line_id} ← {self.lot_id}"


# --- Signed trace records and the transparency log -------------------------------------------


class AppendOnlyQuerySet(models.QuerySet):
    """Signed records and checkpoints are appended, never changed: refuse bulk writes."""

    def update(self, **kwargs):
        raise ImmutableEventError("Trace records are append-only.")

    def delete(self):
        raise ImmutableEventError("Trace records are append-only; they cannot be deleted.")

    delete.queryset_only = True


class TraceRecord(models.Model):
    """One signed statement about a lot (the lot itself, an event, the certificates valid
    at harvest, a recall), and one leaf of the transparency log (traceability.transparency).

    `body` is the exact text that is signed and logged (canonical JSON, see
    traceability.verifier); the other columns are there to find and order records."""

    class Type(models.TextChoices):
        LOT = "lot", _("Lot")
        EVENT = "event", _("Event")
        RECALL = "recall", _("Recall")
        CERTIFICATES = "certificates", _("Certificates")
        REVIEW = "review", _("Safety review")

    position = models.PositiveBigIntegerField(unique=True)  # leaf index in the log, from 0
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="records")
    seq = models.PositiveIntegerField()  # 1, 2, 3 … within the lot
    type = models.CharField(max_length=20, choices=Type.choices)
    event = models.OneToOneField(
        FarmEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="record"
    )
    body = models.TextField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    hash = models.CharField(max_length=64)  # SHA-256 of body: the next record's "prev"
    logged_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "seq"], name="tracerecord_unique_seq"),
        ]

    def __str__(self):
        return f"{self.position}: {self.lot_id}#{self.seq} {self.type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEventError("Trace records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError("Trace records are append-only; they cannot be deleted.")

    def as_signed(self) -> dict:
        return {"body": self.body, "key_id": self.key_id, "signature": self.signature}


class Checkpoint(models.Model):
    """A signed tree head of the log: its size, root hash and time (RFC 9162 §4.10)."""

    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    timestamp = models.CharField(max_length=40)  # exactly as signed, ISO 8601 UTC
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-tree_size", "-pk"]
        get_latest_by = "tree_size"

    def __str__(self):
        return f"{self.tree_size} @ {self.timestamp}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEventError("Checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEventError("Checkpoints are append-only; they cannot be deleted.")

    def as_json(self) -> dict:
        return {
            "origin": LOG_ORIGIN,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }


# --- Banned active ingredients ------------------------------------------------------------------


class BannedIngredient(models.Model):
    """An active ingredient banned from use in Vietnam. Seeded from
    traceability/data/banned_ingredients.csv (which cites its sources) by a data
    migration; the operator keeps the list current in the admin. A fertiliser or
    pesticide whose name or active ingredient contains one is refused
    (traceability.safety.banned_ingredient)."""

    name = models.CharField(_("Active ingredient"), max_length=100, unique=True)
    aliases = models.CharField(
        _("Other names"),
        max_length=500,
        blank=True,
        help_text=_("Other spellings and trade names, separated by “;”."),
    )
    group = models.CharField(_("Group"), max_length=100, blank=True)
    source = models.CharField(_("Legal source"), max_length=300)
    note = models.TextField(_("Note"), blank=True)
    active = models.BooleanField(_("In force"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Banned active ingredient")
        verbose_name_plural = _("Banned active ingredients")

    def __str__(self):
        return self.name

    def names(self) -> list[str]:
        return [self.name] + [a.strip() for a in self.aliases.split(";") if a.strip()]
