"""The CBV 2.0 event hash (CBV 2.0 §8.9): the eventID an EPCIS event gets from its content.

``event_hash(event, context)`` returns ``ni:///sha-256;{hex}?ver=CBV2.0`` for one event of
an EPCIS 2.0 JSON-LD document whose inline ``@context`` entries are `context` (prefix →
namespace). Two systems that hash the same event get the same ID, so a consumer can check
an eventID by recomputing it, and the same event exported twice (a lot's export, its
producer's export, a corrected version re-issued in an error declaration) has one ID.

The algorithm follows GS1's reference implementation, ``epcis-event-hash-generator`` on
PyPI (pinned as a development dependency; the tests compare every kind of event this
project exports with it). The pre-hash string is:

1. ``eventType={type}``;
2. the standard fields in the CBV's order (eventTime, eventTimeZoneOffset,
   certificationInfo, …, quantityList, …, action, bizStep, disposition, readPoint,
   bizLocation), each ``name=value`` (structures: the name, then their own fields in
   order; repeated values sorted). Times in UTC with milliseconds (``…T06:00:00.000Z``);
   bare CBV terms as their web URIs (``shipping`` →
   ``https://ref.gs1.org/cbv/BizStep-shipping``);
3. every other field (ilmd, extensions) except type, eventID, recordTime and
   errorDeclaration: ``{namespace}name=value`` with the prefix the document's @context
   gives, nested values after their name, each level sorted.

Every value is canonicalised as the reference does: old CBV URNs become web URIs, numbers
lose leading/trailing zeros and "+" (``"0012"`` → ``12``, ``"2.50"`` → ``2.5``), and a
GS1 key written as a GS1 Digital Link URI on any host or as an EPC URN becomes its
canonical Digital Link (``https://id.gs1.org/01/{GTIN-14}/10/{LOT}``). This module covers
the keys this project writes or a farmer may paste (GTIN with lot or serial, GLN with
extension, party GLN); the identifiers the export itself writes are already canonical.

Known differences from the reference, none of which our exports trigger:
- the reference replaces *any* string of the document that equals a CBV term used
  elsewhere in it (a free-text note reading exactly "shipping"), so its hash of one event
  can depend on the other events of the document; here only the fields that hold CBV
  terms (bizStep, disposition) are expanded, so an event has one hash in every document;
- a time of day that rounds up to the next second is carried over (the reference skips
  the event); "inf" as a number is kept as text (the reference fails);
- only the fields listed above are supported: epcList, parentID, sensor data, business
  transactions, sources and destinations raise ValueError rather than hash wrongly.
"""

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta

CBV = "https://ref.gs1.org/cbv/"
CBV_TERM_PREFIX = {"bizStep": "BizStep-", "disposition": "Disp-"}
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
)
UNSUPPORTED = {
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "outputEPCList",
    "transformationID",
    "persistentDisposition",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
}
IGNORED = {"type", "eventID", "recordTime", "errorDeclaration"}
COMMENTS = {"#text", "rdfs:comment", "comment"}  # not part of the event
OLD_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", f"{CBV}BizStep-"),
    ("urn:epcglobal:cbv:disp:", f"{CBV}Disp-"),
    ("urn:epcglobal:cbv:btt:", f"{CBV}BTT-"),
    ("urn:epcglobal:cbv:sdt:", f"{CBV}SDT-"),
    ("urn:epcglobal:cbv:er:", f"{CBV}ER-"),
)


def event_hash(event: dict, context: dict[str, str]) -> str:
    """The CBV 2.0 event hash of `event` (a dict as exported), as an ``ni:`` URI."""
    digest = hashlib.sha256(pre_hash(event, context).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash(event: dict, context: dict[str, str]) -> str:
    """The canonical string that is hashed (module docstring)."""
    ordered = []
    for name in ORDER:
        if name not in event:
            continue
        if name in UNSUPPORTED:
            raise ValueError(f"The event hash does not support {name}.")
        ordered.append(_standard(name, event[name], context))
    rest = []
    for name, value in event.items():
        if name in ORDER or name in IGNORED or name in COMMENTS:
            continue
        if name.endswith("List"):
            raise ValueError(f"The event hash does not support the extension list {name}.")
        rest += _items(_key(name, context), value, context)
    return f"eventType={event['type']}" + "".join(ordered) + "".join(sorted(rest))


def _standard(name: str, value, context) -> str:
    if name == "eventTime":
        return f"eventTime={event_time(value)}"
    if name in QUANTITY_LISTS:
        elements = []
        for element in value:
            if set(element) - {"epcClass", "quantity", "uom"}:
                raise ValueError("The event hash does not support extensions in quantities.")
            fields = "".join(
                f"{field}={text}"
                for field in ("epcClass", "quantity", "uom")
                if field in element and (text := canonical(_text(element[field], context)))
            )
            if fields:
                elements.append("quantityElement" + fields)
        return name + "".join(sorted(elements)) if elements else ""
    if name in ("readPoint", "bizLocation"):
        if set(value) - {"id"}:
            raise ValueError(f"The event hash does not support extensions in {name}.")
        text = canonical(_text(value.get("id", ""), context))
        return f"{name}id={text}" if text else ""
    parts = []
    for item in value if isinstance(value, list) else [value]:
        text = _text(item, context)
        if name in CBV_TERM_PREFIX and text and ":" not in text:
            text = CBV + CBV_TERM_PREFIX[name] + text
        if text := canonical(text):
            parts.append(f"{name}={text}")
    return "".join(sorted(parts))


def _items(key: str, value, context) -> list[str]:
    """A field outside the standard order as pre-hash pieces: ``key=value``, or the key
    followed by its nested fields sorted; a list is the key repeated, one piece each."""
    if isinstance(value, list):
        return [piece for item in value for piece in _items(key, item, context)]
    if isinstance(value, dict):
        children = []
        for name, child in value.items():
            if name not in COMMENTS:
                children += _items(_key(name, context), child, context)
        return [key + "".join(sorted(children))]
    text = _text(value, context)
    return [f"{key}={canonical(text)}" if text else key]


def _text(value, context) -> str:
    """A JSON value as the reference reads it: a compact IRI of the document's @context
    expanded, str() of numbers and booleans, "None" for null; then stripped."""
    if isinstance(value, str):
        prefix, sep, local = value.partition(":")
        if sep and prefix in context:
            value = context[prefix] + local
    return str(value).strip()


def _key(name: str, context) -> str:
    prefix, sep, local = name.partition(":")
    if sep and prefix in context:
        return "{" + context[prefix] + "}" + local
    return name


def event_time(text: str) -> str:
    """An ISO 8601 time in UTC with milliseconds, microseconds rounded half to even as
    the reference rounds them."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    micro = round(value.microsecond, -3)
    value = value.replace(microsecond=0, tzinfo=None) + timedelta(microseconds=micro)
    return value.isoformat(timespec="milliseconds") + "Z"


def canonical(text: str) -> str:
    """A value's canonical form: CBV web URIs, numbers without padding, GS1 keys as
    canonical Digital Links (module docstring)."""
    for old, new in OLD_CBV_URNS:
        text = text.replace(old, new)
    text = _number(text)
    return digital_link(text) or text


def _number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return str(int(number)) if int(number) == number else str(number)


# GS1 AI encodable character set 82 as the reference admits it in lots, serials and
# extensions of the canonical form (percent-encoded values are left as written).
_SAFE = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_SAFE_OR_SLASH = r"[\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_GTIN = r"https://id\.gs1\.org/01/\d{14}"
_CANONICAL = [
    re.compile(r"https://id\.gs1\.org/00/\d{18}$"),
    re.compile(rf"{_GTIN}/21/{_SAFE}{{0,20}}$"),
    re.compile(rf"{_GTIN}/10/{_SAFE}{{0,20}}$"),
    re.compile(rf"{_GTIN}$"),
    re.compile(r"https://id\.gs1\.org/414/\d{13}$"),
    re.compile(rf"https://id\.gs1\.org/414/\d{{13}}/254/{_SAFE}{{0,20}}$"),
    re.compile(r"https://id\.gs1\.org/417/\d{13}$"),
]
_KEYS = ("00", "01", "414", "417")  # in the order the reference looks for them
_DL = re.compile(r"^https?:(//[^/?#]*)?[^?#]*/(00|sscc|01|gtin|414|gln|417|party)/\d{4}[^/]")
_SHORT_NAMES = (
    ("/gtin/", "/01/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/sscc/", "/00/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
)
_EPC_CHARS = (
    r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]"
    r"|[!')(*+,.0-9:;=A-Za-z_-])"
)
_PARTITIONS = "|".join(rf"\d{{{n}}}\.\d{{{13 - n}}}" for n in range(6, 13))
_GLN_PARTITIONS = "|".join(rf"\d{{{n}}}\.\d{{{12 - n}}}" for n in range(6, 13))
_SGTIN = re.compile(rf"^urn:epc:id:sgtin:({_PARTITIONS})\.({_EPC_CHARS}{{1,20}})$")
_LGTIN = re.compile(rf"^urn:epc:class:lgtin:({_PARTITIONS})\.({_EPC_CHARS}{{1,20}})$")
_SGLN = re.compile(rf"^urn:epc:id:sgln:({_GLN_PARTITIONS})\.({_EPC_CHARS}{{1,20}})$")
_PGLN = re.compile(rf"^urn:epc:id:pgln:({_GLN_PARTITIONS})$")


def _check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def _percent(text: str) -> str:
    for char in "!()*+,:":
        text = text.replace(char, f"%{ord(char):02X}")
    return text


def _gtin_from_epc(partition: str) -> str:
    company, item = partition.split(".")
    body = item[0] + company + item[1:]
    return body + _check_digit(body)


def _gln_from_epc(partition: str) -> str:
    body = partition.replace(".", "")
    return body + _check_digit(body)


def digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link of a GS1 key (GTIN with lot or serial, GLN with
    extension, party GLN, SSCC) written as a Digital Link on any host or as an EPC URN;
    None for anything else, as the reference's normaliser answers."""
    if "." not in uri:
        return None
    if match := _SGTIN.match(uri):
        return f"https://id.gs1.org/01/{_gtin_from_epc(match[1])}/21/{_percent(match[2])}"
    if match := _LGTIN.match(uri):
        return f"https://id.gs1.org/01/{_gtin_from_epc(match[1])}/10/{_percent(match[2])}"
    if match := _SGLN.match(uri):
        gln = _gln_from_epc(match[1])
        if match[2] == "0":
            return f"https://id.gs1.org/414/{gln}"
        return f"https://id.gs1.org/414/{gln}/254/{_percent(match[2])}"
    if match := _PGLN.match(uri):
        return f"https://id.gs1.org/417/{_gln_from_epc(match[1])}"
    if not _DL.match(uri):
        return None
    uri = uri.split("?", 1)[0]
    for short, ai in _SHORT_NAMES:
        uri = uri.replace(short, ai)
    if not re.match(r"https://id\.gs1\.org/(00|01|414|417)/\d{4}[^/]", uri):
        for key in _KEYS:
            if f"/{key}/" in uri:
                uri = "https://id.gs1.org" + uri[uri.find(f"/{key}/") :]
                break
    if not re.match(_GTIN, uri):
        for digits, pad in ((13, "0"), (12, "00"), (8, "000000")):
            if re.match(rf"https://id\.gs1\.org/01/\d{{{digits}}}", uri):
                uri = uri.replace("/01/", "/01/" + pad)
                break
    after_cpv = uri[uri.find("/22/") + 4 :]
    if re.match(rf"{_GTIN}/22/{_SAFE}{{0,20}}$", uri):
        uri = uri[: uri.find("/22/")]
    elif re.match(rf"{_GTIN}/22/{_SAFE_OR_SLASH}{{0,20}}$", uri):
        uri = uri[: uri.find("/22/")] + after_cpv[after_cpv.find("/") :]
    if re.match(rf"{_GTIN}/10/{_SAFE}{{0,20}}/21/{_SAFE}{{0,20}}$", uri):
        after_lot = uri[uri.find("/10/") + 4 :]
        uri = uri[: uri.find("/10/")] + after_lot[after_lot.find("/") :]
    if any(pattern.match(uri) for pattern in _CANONICAL):
        return uri
    return None
