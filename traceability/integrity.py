"""Is what the database holds about a lot what the marketplace signed and logged?

`verify_lot` is the one check, used by the trace page (cold, then cached with the log
position: traceability.views), the farmer's lot page and `manage.py verify_traces`. It runs
the standalone verifier's record checks (signatures by a trusted key, the chain of the lot's
records from its first, traceability.verifier.check_records) and then compares the signed
facts with the rows the page shows: the lot, each event (both times), the recall, the
certificates valid at harvest. The whole log (checkpoints, Merkle roots) is checked by
transparency.verify_log; the page reads its cached result and two cheap counts.
"""

import json
from dataclasses import dataclass, field
from datetime import date

from django.core.cache import cache

from . import selectors, signing, transparency, verifier
from .models import SafetyReview, TraceRecord

INTACT, CHANGED, PENDING = "intact", "changed", "pending"


@dataclass
class Verdict:
    """`problems`: verifier.Problem; their `seq` is a record's number in the lot, or for
    the event problems (event_*) the event's number."""

    state: str
    problems: list = field(default_factory=list)
    log_size: int | None = None

    @property
    def ok(self) -> bool:
        return self.state == INTACT

    def as_cache(self) -> dict:
        return {
            "state": self.state,
            "problems": [p.as_dict() for p in self.problems],
            "log_size": self.log_size,
        }


def parsed_body(record) -> dict | None:
    """The record's body as verifier.parse_body reads it, parsed once per row read."""
    try:
        return record._parsed_body
    except AttributeError:
        record._parsed_body = body = verifier.parse_body(record.body)
        return body


def _bodies(records) -> list[dict | None]:
    return [parsed_body(r) for r in records]


def _differs(what: str, seq, code="changed") -> verifier.Problem:
    return verifier.Problem(code, what, seq)


def compare_facts(lot, bodies, *, events, recall, certificates) -> list:
    """The signed facts against the rows. `events`: the lot's FarmEvent rows (all of them,
    or those joined to the records); `certificates`: {id: Certificate} of the snapshot."""
    problems = []
    events_by_sequence = {e.sequence: e for e in events}
    hashes = {e.pk: e.hash for e in events}
    recorded_sequences = set()
    recalls = []
    reviews = []
    snapshot = None
    for body in bodies:
        if body is None:
            continue
        data, seq = body["data"], body["seq"]
        if body["type"] == TraceRecord.Type.LOT:
            signed = transparency.lot_facts(data)
            actual = transparency.lot_facts(transparency.lot_data(lot))
            changed = sorted(k for k in set(signed) | set(actual) if signed.get(k) != actual.get(k))
            if changed:
                problems.append(
                    _differs(
                        f"The lot's {', '.join(changed)} differ from what was recorded.",
                        seq,
                        "lot_changed",
                    )
                )
        elif body["type"] == TraceRecord.Type.EVENT:
            sequence = data.get("sequence")
            recorded_sequences.add(sequence)
            event = events_by_sequence.get(sequence)
            if event is None:
                problems.append(
                    _differs(
                        f"Event {sequence} was removed from the database.",
                        sequence,
                        "event_missing",
                    )
                )
                continue
            corrects_hash = hashes.get(event.corrects_id) if event.corrects_id else None
            actual = transparency.event_data(event, lot=lot, corrects_hash=corrects_hash)
            if actual != data:
                changed = sorted(k for k in set(actual) | set(data) if actual.get(k) != data.get(k))
                problems.append(
                    _differs(
                        f"Event {sequence} was changed ({', '.join(changed)}).",
                        sequence,
                        "event_changed",
                    )
                )
        elif body["type"] == TraceRecord.Type.RECALL:
            recalls.append((seq, data))
        elif body["type"] == TraceRecord.Type.REVIEW:
            reviews.append((seq, data))
        elif body["type"] == TraceRecord.Type.CERTIFICATES:
            snapshot = (seq, data)
    for sequence in sorted(set(events_by_sequence) - recorded_sequences):
        problems.append(
            _differs(
                f"Event {sequence} is in the database but was never recorded.",
                sequence,
                "event_unrecorded",
            )
        )
    if recalls and recall is None:
        problems.append(
            _differs(
                "The lot's recall was removed from the database.", recalls[0][0], "recall_deleted"
            )
        )
    elif recalls and transparency.recall_data(recall) != recalls[0][1]:
        problems.append(_differs("The lot's recall was changed.", recalls[0][0], "recall_changed"))
    elif recall is not None and not recalls:
        problems.append(
            _differs("The recall in the database was never recorded.", None, "recall_unrecorded")
        )
    problems += _review_problems(lot, reviews)
    if snapshot is not None:
        seq, data = snapshot
        for item in data.get("certificates") or []:
            row = certificates.get(item.get("id"))
            if row is None:
                problems.append(
                    _differs(
                        f"Certificate {item.get('number')} was removed from the database.",
                        seq,
                        "certificate_missing",
                    )
                )
            elif transparency.certificate_data(row) != item:
                problems.append(
                    _differs(
                        f"Certificate {item.get('number')} was changed after it was recorded "
                        "(validity, number or issuer).",
                        seq,
                        "certificate_changed",
                    )
                )
    return problems


def _review_problems(lot, reviews) -> list:
    """The operator's safety decision on the lot's row against its signed record (the last
    one: a lot is reviewed once, a decision is never rewritten)."""
    decided = getattr(lot, "safety_review", None) in (SafetyReview.CLEARED, SafetyReview.REFUSED)
    if reviews:
        seq, data = reviews[-1]
        if transparency.review_data(lot) != data:
            return [_differs("The operator's safety review was changed.", seq, "review_changed")]
    elif decided:
        return [
            _differs(
                "The operator's safety review in the database was never recorded.",
                None,
                "review_unrecorded",
            )
        ]
    return []


def snapshot_ids(bodies) -> list[int]:
    for body in reversed(bodies):
        if body is not None and body["type"] == TraceRecord.Type.CERTIFICATES:
            return [c.get("id") for c in body["data"].get("certificates") or []]
    return []


def log_problems(*, log_count=None, log_last=None, checkpoint_size=None) -> list:
    """Cheap checks of the whole log (two counts the page reads with the lot), and the
    cached result of the last full check (transparency.verify_log)."""
    problems = []
    if log_count is not None and log_last is not None and log_count != log_last + 1:
        problems.append(verifier.Problem("log_gap", "Records are missing from the log."))
    if checkpoint_size is not None and log_count is not None and checkpoint_size > log_count:
        problems.append(
            verifier.Problem(
                "log_truncated",
                f"The log was truncated: a checkpoint signed {checkpoint_size} records, the "
                f"log has {log_count}.",
            )
        )
    state = cache.get(transparency.LOG_STATE_KEY)
    if state and not state.get("ok"):
        for item in state.get("problems") or []:
            problems.append(verifier.Problem(item["code"], item["message"], item.get("seq")))
    return problems


def verify_lot(
    lot,
    *,
    records,
    events,
    certificates: dict,
    log_count=None,
    log_last=None,
    checkpoint_size=None,
    checkpoint_after_lot=False,
    include_log=True,
    signatures="each",
) -> Verdict:
    """The verdict on one lot (no query: everything is passed in). `records`: its
    TraceRecords by seq; `events`: its FarmEvent rows; `certificates`: {id: Certificate}
    for the ids of its certificate snapshot (integrity.snapshot_ids). `signatures`:
    "each" record's (verify_traces), or the "last" one's, which covers every body through
    the chain's links (the pages: verifier.check_records says what that leaves out)."""
    problems = []
    if include_log:
        problems = log_problems(
            log_count=log_count, log_last=log_last, checkpoint_size=checkpoint_size
        )
    if not records:
        if problems or checkpoint_after_lot:
            return Verdict(
                CHANGED,
                [
                    verifier.Problem("no_records", "The lot's signed history was deleted."),
                    *problems,
                ],
                log_count,
            )
        return Verdict(PENDING, [], log_count)
    records = sorted(records, key=lambda r: r.seq)
    bodies = _bodies(records)
    problems += verifier.check_records(
        [r.as_signed() for r in records],
        signing.trusted_keys(),
        lot_id=lot.pk,
        signatures=signatures,
        bodies=bodies,
    )
    problems += compare_facts(
        lot,
        bodies,
        events=events,
        recall=getattr(lot, "recall", None),
        certificates=certificates,
    )
    return Verdict(CHANGED if problems else INTACT, problems, log_count)


# --- What the page shows from the records ----------------------------------------------------


@dataclass
class SignedCertificate:
    """A certificate as the snapshot at harvest recorded it."""

    kind: str
    ocop_stars: int | None
    number: str
    issuer: str
    valid_from: date | None
    valid_until: date | None

    @property
    def badge_label(self) -> str:
        from marketplace.models import Certificate

        if self.kind == Certificate.Kind.OCOP and self.ocop_stars:
            return f"OCOP {self.ocop_stars}★"
        try:
            return str(Certificate.Kind(self.kind).label)
        except ValueError:
            return self.kind


def signed_lot(records) -> dict | None:
    """The data of the lot's own signed record (names as they were when recorded)."""
    for record in records:
        if record.type == TraceRecord.Type.LOT:
            body = parsed_body(record)
            return body["data"] if body is not None else None
    return None


def signed_certificates(records) -> list[SignedCertificate] | None:
    """The certificates of the lot's latest snapshot, or None when it has none."""
    for record in sorted(records, key=lambda r: r.seq, reverse=True):
        if record.type != TraceRecord.Type.CERTIFICATES:
            continue
        try:
            data = json.loads(record.body)["data"]
        except (ValueError, KeyError, TypeError):
            return []
        out = []
        for c in data.get("certificates") or []:
            out.append(
                SignedCertificate(
                    kind=c.get("kind", ""),
                    ocop_stars=c.get("ocop_stars"),
                    number=c.get("number", ""),
                    issuer=c.get("issuer", ""),
                    valid_from=date.fromisoformat(c["valid_from"]) if c.get("valid_from") else None,
                    valid_until=date.fromisoformat(c["valid_until"])
                    if c.get("valid_until")
                    else None,
                )
            )
        return out
    return None


# --- Loading a lot's evidence (the page's queries: traceability.selectors) -------------------


def load_records(lot) -> list:
    """The lot's records with their events joined (one query)."""
    return selectors.lot_records(lot.pk)


def signed_events(records) -> list:
    """The lot's events the records point at, in order (what the trace page shows)."""
    return sorted(
        (r.event for r in records if r.event_id is not None and r.event is not None),
        key=lambda e: e.sequence,
    )


def snapshot_certificates(records) -> dict:
    """{id: Certificate} of the lot's latest certificate snapshot (one query, none when the
    snapshot is empty)."""
    return selectors.certificates_by_id(snapshot_ids(_bodies(records)))


def lot_verdict(lot, *, records, events, certificates) -> Verdict:
    """verify_lot as the pages run it: with the log counts the lot was read with (when it
    was: selectors.with_log_counts), the chain's signature checked on its last record."""
    return verify_lot(
        lot,
        records=records,
        events=events,
        certificates=certificates,
        signatures="last",
        log_count=getattr(lot, "log_count", None),
        log_last=getattr(lot, "log_last", None),
        checkpoint_size=getattr(lot, "checkpoint_size", None),
        checkpoint_after_lot=bool(getattr(lot, "checkpoints_after_lot", 0)),
    )
