"""Signed trace records and the transparency log (RFC 9162 style).

Every fact the trace page shows is appended as a signed record (traceability.models
.TraceRecord) when it is written:

- "lot": the lot itself (product, producer, origin, GPS, quantity, dates, expiry), by
  services.create_lot;
- "event": each farm event with both its times (when it happened, when it was recorded)
  and its place in the old per-lot hash chain, by services.record_event;
- "certificates": the producer's certificates valid for the product on the production
  date (at creation) and on the day of the first harvest: the snapshot the page shows;
- "recall": the recall and its reason, by recalls.recall_lot;
- "review": the operator's safety review of a lot harvested inside a pre-harvest interval
  (cleared or refused, the reason, who and when), by safety.review_lot.

A record's body (canonical JSON, traceability.verifier) names its lot, its number in the
lot and the SHA-256 of the lot's previous record, so a lot's records form a chain; the
body is signed with the marketplace's Ed25519 key (traceability.signing) and becomes the
next leaf of one Merkle tree over all records (position 0, 1, 2 …). Checkpoints (signed
tree heads: size, root, time) are made daily by Celery beat (tasks.make_checkpoint) and
on demand (`manage.py trace_checkpoint`, or when a proof bundle needs a newer one).

Lots recorded before the log existed are sealed (their records written from the rows as
they are) by services.seal_unrecorded, which the checkpoint task and command run first.

Proofs are computed from the leaves read in one query (O(n) hashing): fine for this
marketplace's size; storing the tree's complete subtrees would make them O(log n).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from . import caching, signing, verifier
from .models import (
    LOG_ORIGIN,
    Checkpoint,
    FarmEvent,
    Lot,
    Recall,
    TraceRecord,
    canonical_content,
    utc_iso,
)

ADVISORY_LOCK = 0x6E6F6E67  # "nong": serialises appends to the log on PostgreSQL
LOG_STATE_KEY = "trace:log-state"
LOG_STATE_TIMEOUT = 2 * 24 * 3600
Type = TraceRecord.Type


# --- What the records say --------------------------------------------------------------------


def _decimal(value) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def _date(value) -> str | None:
    return value.isoformat() if value else None


def product_title(product) -> str:
    return product.get_title()


def lot_data(lot: Lot) -> dict:
    product, producer = lot.product, lot.producer
    data = {
        "code": lot.code,
        "short_code": lot.short_code,
        "product": {"id": lot.product_id, "title": product_title(product), "gtin": product.upc},
        "producer": {"id": lot.producer_id, "name": producer.partner.name},
        "quantity": _decimal(lot.quantity),
        "unit": lot.unit,
        "province_code": lot.province_code,
        "commune_code": lot.commune_code,
        "latitude": _decimal(lot.latitude),
        "longitude": _decimal(lot.longitude),
        "production_date": _date(lot.production_date),
        "expiry_date": _date(lot.expiry_date),
    }
    # Circular 02/2024's standards and brand: stated only when given, so that the records
    # of lots made before these fields existed still read as they were signed.
    for key in ("standards", "brand"):
        if getattr(lot, key, ""):
            data[key] = getattr(lot, key)
    return data


# Names change legitimately (a shop renamed, a product retitled, a GTIN added): the records
# keep them as they were, and what is compared with the rows are the facts of the lot.
NOT_COMPARED = {"product": ("title", "gtin"), "producer": ("name",)}


def lot_facts(data: dict) -> dict:
    facts = dict(data)
    for key, names in NOT_COMPARED.items():
        facts[key] = {k: v for k, v in (data.get(key) or {}).items() if k not in names}
    return facts


def event_data(event: FarmEvent, *, lot: Lot, corrects_hash) -> dict:
    # The event's canonical content without a round trip through its text: a row's
    # details are JSON already, and what is signed is serialised by verifier.canonical.
    data = canonical_content(event, lot=lot, corrects_hash=corrects_hash)
    data["recorded_at"] = utc_iso(event.recorded_at)
    data["previous_hash"] = event.previous_hash
    data["hash"] = event.hash
    return data


def recall_data(recall: Recall) -> dict:
    return {
        "reason": recall.reason,
        "recalled_at": utc_iso(recall.recalled_at),
        "recalled_by": recall.recalled_by_id,
    }


def review_data(lot: Lot) -> dict:
    return {
        "decision": lot.safety_review,
        "note": lot.safety_review_note,
        "reviewed_at": utc_iso(lot.safety_reviewed_at) if lot.safety_reviewed_at else None,
        "reviewed_by": lot.safety_reviewed_by_id,
    }


def certificate_data(certificate) -> dict:
    return {
        "id": certificate.pk,
        "kind": certificate.kind,
        "ocop_stars": certificate.ocop_stars,
        "number": certificate.number,
        "issuer": certificate.issuer,
        "valid_from": _date(certificate.valid_from),
        "valid_until": _date(certificate.valid_until),
    }


def certificates_on(lot: Lot, on) -> list:
    from marketplace.models import Certificate

    return list(
        Certificate.objects.badges(on=on, product=lot.product_id)
        .filter(producer_id=lot.producer_id)
        .order_by("kind", "pk")
    )


def certificates_data(lot: Lot, on) -> dict:
    return {
        "on": on.isoformat(),
        "certificates": [certificate_data(c) for c in certificates_on(lot, on)],
    }


# --- Appending -------------------------------------------------------------------------------


def lock_log() -> None:
    """Serialise appends (one position each, in order). SQLite serialises writers itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])


def _now_text() -> str:
    return utc_iso(timezone.now().replace(microsecond=0))


@transaction.atomic
def append(*, lot: Lot, type: str, data: dict, event: FarmEvent | None = None) -> TraceRecord:
    """Sign `data` as the lot's next record and add it to the log. The caller holds the
    lot's row lock (services, recalls do) so the lot's numbering cannot race."""
    lock_log()
    last = TraceRecord.objects.filter(lot_id=lot.pk).order_by("-seq").only("seq", "hash").first()
    last_position = TraceRecord.objects.aggregate(m=Max("position"))["m"]
    position = 0 if last_position is None else last_position + 1
    seq = last.seq + 1 if last else 1
    logged_at = _now_text()
    body = {
        "v": 1,
        "lot": lot.pk,
        "seq": seq,
        "prev": last.hash if last else verifier.ZERO_HASH,
        "type": type,
        "time": logged_at,
        "data": data,
    }
    text = verifier.canonical(body)
    key_id, signature = signing.sign(verifier.record_message(text))
    return TraceRecord.objects.create(
        position=position,
        lot_id=lot.pk,
        seq=seq,
        type=type,
        event=event,
        body=text.decode("utf-8"),
        key_id=key_id,
        signature=signature,
        hash=verifier.sha256_hex(text),
        logged_at=datetime.fromisoformat(logged_at.replace("Z", "+00:00")),
    )


def record_lot(*, lot: Lot) -> None:
    append(lot=lot, type=Type.LOT, data=lot_data(lot))
    if lot.production_date:
        append(lot=lot, type=Type.CERTIFICATES, data=certificates_data(lot, lot.production_date))


def record_event(*, lot: Lot, event: FarmEvent, harvested_on=None) -> None:
    corrects_hash = event.corrects.hash if event.corrects_id else None
    append(
        lot=lot,
        type=Type.EVENT,
        data=event_data(event, lot=lot, corrects_hash=corrects_hash),
        event=event,
    )
    if harvested_on is not None:
        append(lot=lot, type=Type.CERTIFICATES, data=certificates_data(lot, harvested_on))


def record_recall(*, lot: Lot, recall: Recall) -> None:
    append(lot=lot, type=Type.RECALL, data=recall_data(recall))


def record_review(*, lot: Lot) -> None:
    append(lot=lot, type=Type.REVIEW, data=review_data(lot))


# --- The Merkle tree -------------------------------------------------------------------------


class Tree:
    """RFC 9162 Merkle tree over leaf hashes, with its complete subtrees kept per level."""

    def __init__(self, leaves: list[bytes]):
        self.size = len(leaves)
        self.levels = [list(leaves)]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            self.levels.append(
                [verifier.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            )

    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return verifier.merkle_root([])
        if n & (n - 1) == 0 and start % n == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = verifier.largest_power_of_two_below(n)
        return verifier.node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        return self.mth(0, self.size if size is None else size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """PATH(m, D[0:n]) of RFC 9162 2.1.3.1."""

        def path(m, start, end):
            n = end - start
            if n <= 1:
                return []
            k = verifier.largest_power_of_two_below(n)
            if m < k:
                return [*path(m, start, start + k), self.mth(start + k, end)]
            return [*path(m - k, start + k, end), self.mth(start, start + k)]

        return path(index, 0, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        """PROOF(m, D[0:n]) of RFC 9162 2.1.4.1."""

        def subproof(m, start, end, whole):
            n = end - start
            if m == n:
                return [] if whole else [self.mth(start, end)]
            k = verifier.largest_power_of_two_below(n)
            if m <= k:
                return [*subproof(m, start, start + k, whole), self.mth(start + k, end)]
            return [*subproof(m - k, start + k, end, False), self.mth(start, start + k)]

        if old == 0 or old == new:
            return []
        return subproof(old, 0, new, True)


def log_rows(size: int | None = None) -> list[tuple[int, str]]:
    rows = TraceRecord.objects.order_by("position").values_list("position", "body")
    if size is not None:
        rows = rows.filter(position__lt=size)
    return list(rows)


def tree_of(rows) -> Tree:
    return Tree([verifier.leaf_hash(body.encode("utf-8")) for _position, body in rows])


# --- Checkpoints -----------------------------------------------------------------------------


def sign_checkpoint(*, tree_size: int, root_hash: str, timestamp: str) -> tuple[str, str]:
    message = verifier.checkpoint_message(
        {
            "origin": LOG_ORIGIN,
            "tree_size": tree_size,
            "root_hash": root_hash,
            "timestamp": timestamp,
        }
    )
    return signing.sign(message)


@transaction.atomic
def make_checkpoint(*, max_age: timedelta = timedelta(hours=1)) -> Checkpoint:
    """Sign the log's current size and root (run services.seal_unrecorded first to bring
    in lots recorded before the log). A checkpoint of the same size made less than
    `max_age` ago is returned instead (so the task is idempotent, and asking twice makes
    one)."""
    lock_log()
    rows = log_rows()
    size = len(rows)
    latest = Checkpoint.objects.order_by("-tree_size", "-pk").first()
    if (
        latest is not None
        and latest.tree_size == size
        and latest.created_at >= timezone.now() - max_age
    ):
        return latest
    root = tree_of(rows).root().hex()
    timestamp = _now_text()
    key_id, signature = sign_checkpoint(tree_size=size, root_hash=root, timestamp=timestamp)
    return Checkpoint.objects.create(
        tree_size=size, root_hash=root, timestamp=timestamp, key_id=key_id, signature=signature
    )


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size", "-pk").first()


def consistency_json(*, old: int, checkpoint: Checkpoint, tree: Tree | None = None) -> dict:
    if old < 0 or old > checkpoint.tree_size:
        raise ValueError("size out of range")
    tree = tree or tree_of(log_rows(checkpoint.tree_size))
    earlier = Checkpoint.objects.filter(tree_size=old).order_by("-pk").first()
    return {
        "from": earlier.as_json() if earlier is not None else {"tree_size": old},
        "to": checkpoint.as_json(),
        "proof": [h.hex() for h in tree.consistency(old, checkpoint.tree_size)],
    }


def lot_bundle(*, lot: Lot, since: int | None = None) -> dict:
    """The proof bundle of a lot: its signed records, each with its inclusion proof in the
    latest checkpoint (made now if the lot's newest record is not in one yet), the
    checkpoint, and with `since` a consistency proof from that earlier size."""
    records = list(TraceRecord.objects.filter(lot_id=lot.pk).order_by("seq"))
    checkpoint = latest_checkpoint()
    needed = max((r.position for r in records), default=-1) + 1
    if checkpoint is None or checkpoint.tree_size < needed:
        checkpoint = make_checkpoint()
    tree = tree_of(log_rows(checkpoint.tree_size))
    bundle = {
        "format": verifier.BUNDLE_FORMAT,
        "lot": {"id": lot.pk, "code": lot.code, "short_code": lot.short_code},
        "records": [
            {
                "position": r.position,
                **r.as_signed(),
                "inclusion": [h.hex() for h in tree.inclusion(r.position, checkpoint.tree_size)]
                if r.position < tree.size
                else [],
            }
            for r in records
        ],
        "checkpoint": checkpoint.as_json(),
    }
    if since is not None and 0 <= since <= checkpoint.tree_size:
        bundle["consistency"] = consistency_json(old=since, checkpoint=checkpoint, tree=tree)
    return bundle


# --- Verifying the whole log -----------------------------------------------------------------


@dataclass
class LogReport:
    size: int
    root: str
    problems: list = field(default_factory=list)
    checkpoints: int = 0
    checked_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(*, kept: list[dict] | None = None) -> LogReport:
    """The log as stored: positions 0 … n-1 without a gap; every stored checkpoint signed
    by a trusted key and matching the tree of its size; and each checkpoint in `kept` (kept
    elsewhere, e.g. by an inspector) likewise. Caches the result with the log size, for the
    trace page (integrity.log_problems), and drops every cached trace page when the log is
    found broken (or was, and is whole again)."""
    from django.core.cache import cache

    keys = signing.trusted_keys()
    rows = log_rows()
    problems = []
    missing = [i for i, (position, _body) in enumerate(rows) if position != i]
    if missing:
        problems.append(
            verifier.Problem(
                "log_gap",
                f"Records are missing from the log: position {missing[0]} is not the "
                f"{missing[0] + 1}th record.",
            )
        )
    tree = tree_of(rows)
    checkpoints = [c.as_json() for c in Checkpoint.objects.order_by("tree_size", "pk")]
    for checkpoint in [*checkpoints, *(kept or [])]:
        problems += verifier.check_checkpoint(checkpoint, keys)
        size = checkpoint.get("tree_size")
        if not isinstance(size, int) or size > tree.size:
            problems.append(
                verifier.Problem(
                    "log_truncated",
                    f"The log was truncated: a checkpoint signed {size} records, the log "
                    f"has {tree.size}.",
                )
            )
        elif tree.root(size).hex() != checkpoint.get("root_hash"):
            problems.append(
                verifier.Problem(
                    "log_forked",
                    f"The log was rewritten: its first {size} records no longer match the "
                    f"checkpoint signed at {checkpoint.get('timestamp')}.",
                )
            )
    report = LogReport(
        size=tree.size,
        root=tree.root().hex(),
        problems=problems,
        checkpoints=len(checkpoints),
        checked_at=utc_iso(datetime.now(UTC).replace(microsecond=0)),
    )
    previous = cache.get(LOG_STATE_KEY)
    cache.set(
        LOG_STATE_KEY,
        {"size": report.size, "ok": report.ok, "problems": [p.as_dict() for p in problems]},
        LOG_STATE_TIMEOUT,
    )
    if not report.ok or (previous and not previous.get("ok")):
        # Every page's verdict depends on the log: drop the cached pages (their heads).
        for lot_pk in Lot.objects.values_list("pk", flat=True).iterator(chunk_size=2000):
            caching.invalidate_lot(lot_pk)
    return report
