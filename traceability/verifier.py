#!/usr/bin/env python3
"""Check a nongsan trace proof bundle with nothing but the marketplace's public key.

Standalone: one file, the Python standard library and `cryptography` (pip install
cryptography). No Django, no database, no network. The marketplace itself verifies its
records with the functions below (traceability.integrity, `manage.py verify_traces`).

    python verifier.py bundle.json --key nongsan-trace.pem
    python verifier.py bundle.json --key nongsan-trace.pem --checkpoint kept-earlier.json
    python verifier.py bundle.json --key nongsan-trace.pem --lang vi      (tiếng Việt)

Exit status 0: intact; 1: something is wrong (each problem is printed); 2: bad usage.

What a bundle is (JSON, https://HOST/minh-bach/lo/{SHORT_CODE}.json):

    {"format": "nongsan-trace-bundle/1",
     "lot": {"id": 7, "code": "…", "short_code": "…"},
     "records": [{"position": 12, "body": "<canonical JSON text>", "key_id": "…",
                  "signature": "<base64>", "inclusion": ["<hex>", …]}, …],
     "checkpoint": {"origin": "…", "tree_size": 40, "root_hash": "<hex>",
                    "timestamp": "…Z", "key_id": "…", "signature": "<base64>"},
     "consistency": {"from": {checkpoint}, "proof": ["<hex>", …]}      (optional)}

A record's body is compact JSON with sorted keys (UTF-8, non-ASCII as is)::

    {"v": 1, "lot": lot id, "seq": 1, 2, 3 … within the lot,
     "prev": sha256 of the lot's previous record body (64 zeros for the first),
     "type": "lot" | "event" | "recall" | "certificates" | "review",
     "time": when logged (UTC),
     "data": what the trace page shows as fact}

Signatures: Ed25519 over b"nongsan-trace-record/1\\n" + body (a record) or
b"nongsan-trace-checkpoint/1\\n" + canonical JSON of {origin, root_hash, timestamp,
tree_size, v} (a checkpoint). key_id: the first 16 hex digits of SHA-256 of the raw
32-byte public key.

The log is a Merkle tree as in RFC 9162 (Certificate Transparency 2.0), section 2.1: leaf
hash SHA-256(0x00 || body), node hash SHA-256(0x01 || left || right); inclusion and
consistency proofs are checked with the algorithms of sections 2.1.3.2 and 2.1.4.2.
"""

import argparse
import base64
import hashlib
import json
import sys

ZERO_HASH = "0" * 64
BUNDLE_FORMAT = "nongsan-trace-bundle/1"
RECORD_CONTEXT = b"nongsan-trace-record/1\n"
CHECKPOINT_CONTEXT = b"nongsan-trace-checkpoint/1\n"
RECORD_TYPES = ("lot", "event", "recall", "certificates", "review")


# --- Canonical JSON and hashes ---------------------------------------------------------------


def canonical(obj) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 2.1.1 over leaf hashes (the empty tree: SHA-256 of nothing)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2."""
    if size1 > size2 or size1 < 0:
        return False
    if size1 == size2:
        return root1 == root2 and not proof
    if size1 == 0:
        return not proof
    if not proof:
        return False
    if size1 & (size1 - 1) == 0:  # a power of two: the old root starts the path
        proof = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


# --- Keys and signatures ---------------------------------------------------------------------


def _crypto():
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return InvalidSignature, serialization, ed25519


def raw_public_bytes(public_key) -> bytes:
    _invalid, serialization, _ed = _crypto()
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def key_id(public_key) -> str:
    return sha256_hex(raw_public_bytes(public_key))[:16]


def load_public_keys(text: str) -> dict:
    """{key id: Ed25519 public key} from PEM text (one or more PUBLIC KEY blocks) or
    lines of base64 raw 32-byte keys."""
    _invalid, serialization, ed25519 = _crypto()
    keys = {}
    marker = "-----BEGIN PUBLIC KEY-----"
    if marker in text:
        for block in text.split(marker)[1:]:
            pem = marker + block.split("-----END PUBLIC KEY-----")[0] + "-----END PUBLIC KEY-----"
            key = serialization.load_pem_public_key(pem.encode("ascii"))
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            keys[key_id(key)] = key
        return keys
    for line in text.split():
        raw = base64.b64decode(line.strip() + "=" * (-len(line.strip()) % 4), altchars=b"-_")
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        keys[key_id(key)] = key
    return keys


def signature_ok(keys: dict, kid: str, message: bytes, signature_b64: str) -> bool:
    invalid_signature, _s, _e = _crypto()
    key = keys.get(kid)
    if key is None:
        return False
    try:
        signature = base64.b64decode(signature_b64 or "", validate=True)
    except (ValueError, TypeError):
        return False
    try:
        key.verify(signature, message)
    except invalid_signature:
        return False
    return True


def checkpoint_message(checkpoint: dict) -> bytes:
    body = {
        "v": 1,
        "origin": checkpoint.get("origin"),
        "tree_size": checkpoint.get("tree_size"),
        "root_hash": checkpoint.get("root_hash"),
        "timestamp": checkpoint.get("timestamp"),
    }
    return CHECKPOINT_CONTEXT + canonical(body)


def record_message(body: bytes) -> bytes:
    return RECORD_CONTEXT + body


# --- Problems --------------------------------------------------------------------------------


# What the verifier says in Vietnamese (--lang vi), by problem code; the values in braces
# come from the problem's params.
VIETNAMESE = {
    "no_records": "Lô không có bản ghi đã ký nào (lịch sử đã bị xóa).",
    "bad_body": "Bản ghi {n} không phải là một bản ghi hợp lệ.",
    "bad_signature": "Bản ghi {n} ({type}): chữ ký không phải của sàn (khóa {key}).",
    "wrong_lot": "Bản ghi {n} thuộc về một lô khác.",
    "missing_record": "Thiếu bản ghi {n} (thấy bản ghi {found} ở vị trí của nó).",
    "broken_link": "Bản ghi {n} không nối tiếp bản ghi {prev} (có bản ghi đã bị sửa hoặc xóa).",
    "no_lot_record": "Bản ghi đầu tiên không phải bản ghi của chính lô.",
    "two_recalls": "Lô có hơn một bản ghi thu hồi.",
    "no_checkpoint": "Không có điểm kiểm.",
    "bad_checkpoint_signature": "Điểm kiểm kích thước {size} không có chữ ký bằng khóa của sàn.",
    "not_in_log": "Bản ghi {n} không nằm trong nhật ký ở vị trí {position} của điểm kiểm "
    "kích thước {size}.",
    "bad_checkpoint": "Không đọc được một điểm kiểm.",
    "log_truncated": "Nhật ký bị cắt bớt: điểm kiểm đã lưu có {old} bản ghi, điểm kiểm này "
    "có {new}.",
    "no_consistency_proof": "Gói không có bằng chứng nhất quán từ kích thước {old}: hãy tải "
    "với ?tu={old}.",
    "log_forked": "Nhật ký đã bị viết lại: điểm kiểm kích thước {new} không nối tiếp điểm "
    "kiểm kích thước {old} đã lưu.",
    "bad_bundle": "Đây không phải là gói bằng chứng truy xuất của nongsan.",
}


class Problem:
    """What is wrong, as a code (for programs and translations), where (a record's
    sequence number in the lot, or None), an English sentence, and the values in it
    (`params`, for the Vietnamese sentence: `text("vi")`)."""

    def __init__(self, code: str, message: str, seq: int | None = None, params=None):
        self.code, self.message, self.seq = code, message, seq
        self.params = dict(params or {})

    def __repr__(self):
        return f"Problem({self.code!r}, {self.message!r}, seq={self.seq!r})"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "seq": self.seq}

    def text(self, language: str = "en") -> str:
        template = VIETNAMESE.get(self.code) if language == "vi" else None
        if template is not None:
            try:
                return template.format(**self.params)
            except (KeyError, IndexError):
                pass
        return self.message


def parse_body(text: str):
    """The body as a dict, or None when it is not canonical JSON of a record."""
    try:
        body = json.loads(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(body, dict) or canonical(body).decode("utf-8") != text:
        return None
    if body.get("v") != 1 or body.get("type") not in RECORD_TYPES:
        return None
    if not isinstance(body.get("seq"), int) or not isinstance(body.get("data"), dict):
        return None
    return body


def check_records(
    records: list[dict], keys: dict, *, lot_id=None, signatures="each", bodies=None
) -> list[Problem]:
    """A lot's records, in order: each signed by a trusted key, the bodies chained from
    the first (the lot itself) with consecutive numbers, all of the same lot. `records`
    are dicts with "body" (text), "key_id" and "signature".

    `signatures="last"` checks the signature of the last record only: its body names the
    SHA-256 of the record before, whose body names the one before it, back to the first,
    so that one signature covers every body (a changed body breaks a link or that
    signature; a rewritten chain needs the key). What it leaves out is a signature
    damaged on an earlier record whose body is intact: nothing a page states changes, and
    the default ("each", what this script and `verify_traces` do) reports it.
    `bodies`: the records' bodies already parsed (parse_body), in the same order."""
    problems = []
    if not records:
        return [Problem("no_records", "The lot has no signed record at all (history deleted).")]
    if signatures not in ("each", "last"):
        raise ValueError(f"signatures: 'each' or 'last', not {signatures!r}")
    previous = ZERO_HASH
    recalls = 0
    last = len(records)
    for expected_seq, record in enumerate(records, start=1):
        text = record.get("body") or ""
        body = parse_body(text) if bodies is None else bodies[expected_seq - 1]
        if body is None:
            problems.append(
                Problem(
                    "bad_body",
                    f"Record {expected_seq} is not a valid record.",
                    expected_seq,
                    {"n": expected_seq},
                )
            )
            previous = sha256_hex(text.encode("utf-8"))
            continue
        seq = body["seq"]
        if (signatures == "each" or expected_seq == last) and not signature_ok(
            keys,
            record.get("key_id"),
            record_message(text.encode("utf-8")),
            record.get("signature"),
        ):
            problems.append(
                Problem(
                    "bad_signature",
                    f"Record {seq} ({body['type']}): the signature is not the marketplace's "
                    f"(key {record.get('key_id')!s}).",
                    seq,
                    {"n": seq, "type": body["type"], "key": record.get("key_id")},
                )
            )
        if lot_id is not None and body.get("lot") != lot_id:
            problems.append(
                Problem("wrong_lot", f"Record {seq} belongs to another lot.", seq, {"n": seq})
            )
        if seq != expected_seq:
            problems.append(
                Problem(
                    "missing_record",
                    f"Record {expected_seq} is missing (found record {seq} in its place).",
                    expected_seq,
                    {"n": expected_seq, "found": seq},
                )
            )
        elif body.get("prev") != previous:
            problems.append(
                Problem(
                    "broken_link",
                    f"Record {seq} does not follow record {seq - 1} (a record was changed or "
                    "removed).",
                    seq,
                    {"n": seq, "prev": seq - 1},
                )
            )
        if expected_seq == 1 and body["type"] != "lot":
            problems.append(
                Problem("no_lot_record", "The first record is not the lot's own record.", seq)
            )
        recalls += body["type"] == "recall"
        previous = sha256_hex(text.encode("utf-8"))
    if recalls > 1:
        problems.append(Problem("two_recalls", "The lot has more than one recall record."))
    return problems


def check_checkpoint(checkpoint: dict, keys: dict) -> list[Problem]:
    if not isinstance(checkpoint, dict):
        return [Problem("no_checkpoint", "There is no checkpoint.")]
    if not signature_ok(
        keys,
        checkpoint.get("key_id"),
        checkpoint_message(checkpoint),
        checkpoint.get("signature"),
    ):
        return [
            Problem(
                "bad_checkpoint_signature",
                f"The checkpoint of size {checkpoint.get('tree_size')} is not signed by the "
                "marketplace's key.",
                params={"size": checkpoint.get("tree_size")},
            )
        ]
    return []


def _hexes(values) -> list[bytes] | None:
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        return None


def check_bundle(bundle: dict, keys: dict, *, earlier: dict | None = None) -> list[Problem]:
    """Everything a bundle claims: the checkpoint is signed, each record is signed and in
    the signed tree (inclusion proof), the records chain, and, given a checkpoint kept
    earlier, the log only grew since (consistency proof)."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        return [Problem("bad_bundle", "This is not a nongsan trace bundle.")]
    lot = bundle.get("lot") or {}
    records = bundle.get("records") or []
    checkpoint = bundle.get("checkpoint")
    problems = check_checkpoint(checkpoint, keys)
    problems += check_records(records, keys, lot_id=lot.get("id"))
    if not problems[:1] or problems[0].code != "bad_checkpoint_signature":
        size = checkpoint.get("tree_size") if isinstance(checkpoint, dict) else None
        root = _hexes([checkpoint.get("root_hash", "")]) if isinstance(checkpoint, dict) else None
        for number, record in enumerate(records, start=1):
            proof = _hexes(record.get("inclusion") or [])
            position = record.get("position")
            ok = (
                isinstance(size, int)
                and root
                and proof is not None
                and isinstance(position, int)
                and verify_inclusion(
                    position,
                    size,
                    leaf_hash((record.get("body") or "").encode("utf-8")),
                    proof,
                    root[0],
                )
            )
            if not ok:
                problems.append(
                    Problem(
                        "not_in_log",
                        f"Record {number} is not in the log at position {position} of the "
                        f"checkpoint of size {size}.",
                        number,
                        {"n": number, "position": position, "size": size},
                    )
                )
    if earlier is not None:
        problems += check_log_grew(earlier, checkpoint, bundle.get("consistency"), keys)
    return problems


def check_log_grew(earlier: dict, later: dict, consistency, keys: dict) -> list[Problem]:
    """The log of `later` extends the log of `earlier` (both signed checkpoints)."""
    problems = check_checkpoint(earlier, keys)
    if problems:
        return problems
    size1, size2 = earlier.get("tree_size"), (later or {}).get("tree_size")
    roots = _hexes([earlier.get("root_hash", ""), (later or {}).get("root_hash", "")])
    if not isinstance(size1, int) or not isinstance(size2, int) or roots is None:
        return [Problem("bad_checkpoint", "A checkpoint is not readable.")]
    if size1 > size2:
        return [
            Problem(
                "log_truncated",
                f"The log shrank: a checkpoint kept earlier has {size1} records, this one {size2}.",
                params={"old": size1, "new": size2},
            )
        ]
    proof = None
    if isinstance(consistency, dict):
        given = consistency.get("from") or {}
        if given.get("tree_size") == size1:
            proof = _hexes(consistency.get("proof") or [])
    if proof is None and size1 != size2:
        return [
            Problem(
                "no_consistency_proof",
                f"The bundle has no consistency proof from size {size1}: fetch it with "
                f"?tu={size1}.",
                params={"old": size1},
            )
        ]
    if not verify_consistency(size1, size2, roots[0], roots[1], proof or []):
        return [
            Problem(
                "log_forked",
                f"The log was rewritten: the checkpoint of size {size2} does not extend the "
                f"one of size {size1} kept earlier.",
                params={"old": size1, "new": size2},
            )
        ]
    return []


# --- What the records say --------------------------------------------------------------------


def summary(records: list[dict]) -> list[str]:
    """Lines describing the lot as its records state it."""
    lines = []
    for record in records:
        body = parse_body(record.get("body") or "")
        if body is None:
            continue
        data = body["data"]
        if body["type"] == "lot":
            product, producer = data.get("product") or {}, data.get("producer") or {}
            lines.append(
                f"lot {data.get('code')} of {product.get('title')} by {producer.get('name')}, "
                f"origin {data.get('province_code')}/{data.get('commune_code')}, "
                f"produced {data.get('production_date')}, expires {data.get('expiry_date')}"
                + "".join(f", {key} {data[key]}" for key in ("brand", "standards") if data.get(key))
            )
        elif body["type"] == "event":
            lines.append(
                f"  #{data.get('sequence')} {data.get('kind')} at {data.get('event_time')} "
                f"(recorded {data.get('recorded_at')}) "
                + canonical(data.get("details") or {}).decode("utf-8")
            )
        elif body["type"] == "recall":
            lines.append(f"  RECALLED at {data.get('recalled_at')}: {data.get('reason')}")
        elif body["type"] == "review":
            lines.append(
                f"  safety review {data.get('decision')} at {data.get('reviewed_at')}: "
                f"{data.get('note')}"
            )
        else:
            names = ", ".join(
                f"{c.get('kind')} {c.get('number')} ({c.get('valid_from')}..{c.get('valid_until')})"
                for c in data.get("certificates") or []
            )
            lines.append(f"  certificates valid on {data.get('on')}: {names or 'none'}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a nongsan trace proof bundle.")
    parser.add_argument("bundle", help="the bundle JSON file (or - for standard input)")
    parser.add_argument(
        "--key",
        action="append",
        required=True,
        help="the marketplace's public key (PEM); repeat for keys used before a rotation",
    )
    parser.add_argument("--checkpoint", help="a checkpoint JSON you kept earlier")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    parser.add_argument(
        "--lang",
        choices=["en", "vi"],
        default="en",
        help="language of the verdict (vi: tiếng Việt)",
    )
    args = parser.parse_args(argv)
    try:
        keys = {}
        for path in args.key:
            with open(path, encoding="utf-8") as handle:
                keys.update(load_public_keys(handle.read()))
        if args.bundle == "-":
            bundle = json.load(sys.stdin)
        else:
            with open(args.bundle, encoding="utf-8") as handle:
                bundle = json.load(handle)
        earlier = None
        if args.checkpoint:
            with open(args.checkpoint, encoding="utf-8") as handle:
                earlier = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = check_bundle(bundle, keys, earlier=earlier)
    lot = bundle.get("lot") or {} if isinstance(bundle, dict) else {}
    if not args.quiet and isinstance(bundle, dict):
        for line in summary(bundle.get("records") or []):
            print(line)
    vi = args.lang == "vi"
    if problems:
        if vi:
            print(f"KHÔNG NGUYÊN VẸN (NOT INTACT): lô {lot.get('code')} ({lot.get('short_code')})")
        else:
            print(f"NOT INTACT: lot {lot.get('code')} ({lot.get('short_code')})")
        for problem in problems:
            print(f"  - {problem.text(args.lang)}")
        return 1
    checkpoint = bundle["checkpoint"]
    count = len(bundle.get("records") or [])
    if vi:
        print(
            f"NGUYÊN VẸN (INTACT): lô {lot.get('code')} ({lot.get('short_code')}), {count} bản "
            f"ghi đã ký, nằm trong nhật ký {checkpoint['tree_size']} bản ghi (điểm kiểm "
            f"{checkpoint['timestamp']})"
        )
        return 0
    print(
        f"INTACT: lot {lot.get('code')} ({lot.get('short_code')}), {count} signed records, in "
        f"the log of {checkpoint['tree_size']} records (checkpoint {checkpoint['timestamp']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
