"""GS1 Digital Link (URI Syntax 1.6) for lots: parse, validate and build; and the rules of
the GS1-Conformant Resolver (1.1) that do not depend on the database.

    /01/{GTIN}[/22/{VARIANT}][/10/{LOT}][/21/{SERIAL} | /235/{TPX}][?{AI}={VALUE}&…]

- The GTIN is 14 digits in every link we print; one written with 8, 12 or 13 digits is
  padded to 14 (older links and labels use them). A wrong check digit is refused.
- Key qualifiers come in the order 22, 10, 21 (or 235 in place of 21), each at most once.
  Their values are up to 20 characters (28 for 235) of GS1's AI encodable character set 82.
- Values are percent-decoded segment by segment from the path as it came over the wire, so
  a lot code holding "/" is written "%2F" (and is, in every link we build). When the server
  gives only the decoded path (Django's runserver), a path that does not parse as written
  is read again with the "/" of a value taken as part of it: lot "A/B-2026" is found both
  ways (traceability.caching.request_path says which form a request has).
- The query string carries data attributes as AI=value pairs: each AI must be one GS1
  defines (traceability.gs1_ai), at most once, with a value of its format (a date is
  YYMMDD); key qualifiers and the GTIN belong in the path, not here. Other keys (linkType,
  context, anything non-numeric) are not AIs and are left alone.
- A compressed Digital Link (one base64url segment) is decompressed into the same link.
"""

from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_plus

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.core.numbers import is_digits
from marketplace.core.validators import gtin14, has_valid_check_digit

from . import gs1_ai

GTIN_LENGTHS = (8, 12, 13, 14)
# Key qualifiers of AI 01, in the only order GS1 Digital Link allows (21 and 235 are
# alternatives: a serial number, or a third-party controlled serialised extension).
QUALIFIER_ORDER = ("22", "10", "21", "235")
QUALIFIERS = frozenset(QUALIFIER_ORDER)

# The resolver's own query parameter, and GS1's link-type vocabulary.
LINK_TYPE_PARAM = "linkType"
GS1_VOC = "https://ref.gs1.org/voc/"
GS1_VOC_FORMS = ("https://ref.gs1.org/voc/", "https://gs1.org/voc/", "https://www.gs1.org/voc/")
LINKSET_TYPE = "application/linkset+json"
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


class LinkError(ValueError):
    """A malformed link; `message` says what is wrong, for the person who scanned it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class DigitalLink:
    gtin14: str
    variant: str | None = None
    lot: str | None = None
    serial: str | None = None
    extension: str | None = None  # AI 235, in place of a serial
    attributes: tuple = field(default=(), compare=True)  # ((AI, value), …) of the query

    def path(self) -> str:
        """The canonical (uncompressed, 14-digit) path of this link, without the query."""
        path = f"/01/{self.gtin14}"
        for ai, value in (
            ("22", self.variant),
            ("10", self.lot),
            ("21", self.serial),
            ("235", self.extension),
        ):
            if value is not None:
                path += f"/{ai}/{quote(value, safe='')}"
        return path

    def up(self) -> "DigitalLink":
        """The next less specific level: without the serial (or 235), else without the
        lot, else without the variant (GS1-Conformant Resolver: walking up the tree)."""
        if self.serial is not None or self.extension is not None:
            return DigitalLink(self.gtin14, self.variant, self.lot, attributes=self.attributes)
        if self.lot is not None:
            return DigitalLink(self.gtin14, self.variant, attributes=self.attributes)
        return DigitalLink(self.gtin14, attributes=self.attributes)


def is_gtin(code: str) -> bool:
    return is_digits(code) and len(code) in GTIN_LENGTHS and has_valid_check_digit(code)


def product_gtin(product) -> str | None:
    """The product's GTIN-14 when its UPC field holds a valid GTIN (demo products have
    codes like "NS0001" that are not GTINs: those only get /t/ links)."""
    code = (getattr(product, "upc", "") or "").strip()
    return gtin14(code) if is_gtin(code) else None


def upc_candidates(code14: str) -> list[str]:
    """The ways a GTIN-14 may be stored in Product.upc: as 14, 13, 12 or 8 digits."""
    return [code14[14 - n :] for n in (14, 13, 12, 8) if code14[: 14 - n] == "0" * (14 - n)]


def is_cset82(value: str, max_length: int = 20) -> bool:
    return 1 <= len(value) <= max_length and all(c in gs1_ai.CSET82 for c in value)


LOT_CODE_MAX_LENGTH = 20  # as traceability.models.LOT_CODE_MAX_LENGTH (the column)


def validate_lot_code(value) -> None:
    """The one rule for a lot code (AI 10), wherever one is typed, imported or read from a
    link: 1 to 20 characters of GS1's AI encodable set 82 (so "A/B-2026" or "L!(1)")."""
    if not isinstance(value, str) or not is_cset82(value, LOT_CODE_MAX_LENGTH):
        raise ValidationError(_qualifier_message("10"), code="lot_code")


def is_serial(value) -> bool:
    """A serial number (AI 21): 1 to 20 characters of set 82."""
    return isinstance(value, str) and is_cset82(value, 20)


def _qualifier_message(key):
    if key == "10":
        return _(
            "The lot code must have 1 to 20 characters of GS1's set: letters without "
            "accents, digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
        )
    if key == "21":
        return _(
            "The serial number must have 1 to 20 characters of GS1's set: letters without "
            "accents, digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
        )
    if key == "235":
        return _(
            "The serialised extension (235) must have 1 to 28 characters of GS1's set: "
            "letters without accents, digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ "
            "only."
        )
    return _(
        "The variant must have 1 to 20 characters of GS1's set: letters without accents, "
        "digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
    )


def _segments(path: str) -> list[str]:
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    return segments


def _pairs(segments: list[str], joined: bool) -> list[tuple[str, str]]:
    """(key, raw value) pairs of the qualifier segments. `joined`: a value runs on over the
    segments up to the next qualifier key that has a value after it (a decoded path)."""
    pairs = []
    i = 0
    while i < len(segments):
        if i + 1 >= len(segments):
            raise LinkError(_("A part of the link is missing its value."))
        j = i + 2
        if joined:
            while j < len(segments) and not (segments[j] in QUALIFIERS and j + 1 < len(segments)):
                j += 1
        pairs.append((segments[i], "/".join(segments[i + 1 : j])))
        i = j
    return pairs


def parse_digital_link(path: str, query: str = "", *, decoded: bool = False) -> DigitalLink:
    """Parse the path of a GS1 Digital Link (percent-encoded as it came over the wire,
    with or without the leading and trailing "/") and its query string, or raise
    LinkError. `decoded`: the server gave the path already percent-decoded."""
    segments = _segments(path)
    if len(segments) < 2 or segments[0] != "01":
        raise LinkError(_("This is not a product link (GS1 Digital Link)."))
    if any(segment == "" for segment in segments):
        raise LinkError(_("A part of the link is empty."))
    try:
        link = _parse(segments, query, joined=False, decoded=decoded)
    except LinkError:
        if not decoded or len(segments) < 5:
            raise
        return _parse(segments, query, joined=True, decoded=True)
    return link


def _parse(segments, query, *, joined, decoded=False) -> DigitalLink:
    # A decoded path is not decoded again: lot "L%2F" stays "L%2F", not "L/".
    decode = (lambda raw: raw) if decoded else _decode
    gtin = decode(segments[1])
    if not is_digits(gtin) or len(gtin) not in GTIN_LENGTHS:
        raise LinkError(_("The product code (GTIN) must have 8, 12, 13 or 14 digits."))
    if not has_valid_check_digit(gtin):
        raise LinkError(_("The last digit (check digit) of the product code (GTIN) is wrong."))

    values: dict[str, str] = {}
    last_position = -1
    for key, raw_value in _pairs(segments[2:], joined):
        if key not in QUALIFIERS:
            raise LinkError(_("The link has a part we do not know: “%(key)s”.") % {"key": key})
        position = QUALIFIER_ORDER.index(key)
        if position <= last_position or (key == "235" and "21" in values):
            raise LinkError(
                _(
                    "The parts of the link are in the wrong order: after the product code "
                    "come the variant (22), then the lot (10), then the serial number (21)."
                )
            )
        last_position = position
        value = decode(raw_value)
        if value is None or not is_cset82(value, 28 if key == "235" else 20):
            raise LinkError(_qualifier_message(key))
        values[key] = value
    return DigitalLink(
        gtin14=gtin14(gtin),
        variant=values.get("22"),
        lot=values.get("10"),
        serial=values.get("21"),
        extension=values.get("235"),
        attributes=parse_attributes(query),
    )


def _decode(raw: str) -> str | None:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None


def parse_attributes(query: str) -> tuple:
    """The ((AI, value), …) data attributes of a Digital Link's query string, validated;
    other keys are not AIs and are skipped. Raises LinkError."""
    attributes = []
    seen = set()
    for pair in (query or "").split("&"):
        if not pair:
            continue
        key, _sep, raw_value = pair.partition("=")
        key = unquote_plus(key)
        if not is_digits(key):
            continue  # linkType, context, a campaign tag…: not an AI
        try:
            value = unquote_plus(raw_value, errors="strict")
        except UnicodeDecodeError:
            value = "\ufffd"
        if key == "01" or key in QUALIFIERS:
            raise LinkError(
                _("The part (%(ai)s) belongs in the path of the link, not after “?”.") % {"ai": key}
            )
        if key in seen:
            raise LinkError(_("The link gives (%(ai)s) twice.") % {"ai": key})
        seen.add(key)
        problem = gs1_ai.value_problem(key, value)
        if problem == "unknown":
            raise LinkError(
                _("“%(ai)s” after “?” is not a GS1 Application Identifier we know.") % {"ai": key}
            )
        if problem == "empty":
            raise LinkError(_("The part (%(ai)s) of the link has no value.") % {"ai": key})
        if problem == "date":
            raise LinkError(
                _("The date (%(ai)s) “%(value)s” is not a date: write it YYMMDD, e.g. 261231.")
                % {"ai": key, "value": value}
            )
        if problem:
            raise LinkError(
                _("The value “%(value)s” of (%(ai)s) does not have the form GS1 sets for it.")
                % {"ai": key, "value": value}
            )
        attributes.append((key, value))
    return tuple(attributes)


def decompressed_link(segment: str) -> tuple[str, str]:
    """The uncompressed path and query string of a compressed Digital Link's path segment;
    raises LinkError when the segment is not a compressed product link."""
    try:
        pairs = gs1_ai.decompress(segment)
    except gs1_ai.CompressionError as exc:
        raise LinkError(_("This compressed product link cannot be read.")) from exc
    values = dict(pairs)
    if len(values) != len(pairs):
        raise LinkError(_("This compressed product link cannot be read."))
    if "01" not in values:
        raise LinkError(_("This is not a product link (GS1 Digital Link)."))
    path = f"/01/{values['01']}"
    for ai in QUALIFIER_ORDER:
        if ai in values:
            path += f"/{ai}/{quote(values[ai], safe='')}"
    query = "&".join(
        f"{quote(ai, safe='')}={quote(value, safe='')}"
        for ai, value in pairs
        if ai != "01" and ai not in QUALIFIERS
    )
    return path, query


def digital_link_path(code14: str, lot_code: str | None = None, serial: str | None = None) -> str:
    """The canonical path (no trailing slash, as GS1 writes it; the resolver accepts both)."""
    return DigitalLink(code14, lot=lot_code, serial=serial or None).path()


# --- Resolver rules ----------------------------------------------------------------------------


def link_type(value: str | None) -> str | None:
    """The GS1 link type a `linkType` parameter names, as its short name ("pip",
    "linkset"…): "gs1:pip", "pip" and the vocabulary's full URIs all name the same one."""
    if not value:
        return None
    value = value.strip()
    for prefix in ("gs1:", *GS1_VOC_FORMS):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def wants_linkset(link_type_name: str | None, accept: str) -> str | None:
    """The media type to answer a linkset with, when the request asks for the linkset:
    linkType=linkset (or the older "all"), or an Accept header that names
    application/linkset+json (or prefers application/json to HTML). Else None."""
    if link_type_name in ("linkset", "all"):
        return LINKSET_TYPE
    types = _accepted(accept)
    if LINKSET_TYPE in types:
        return LINKSET_TYPE
    if "application/json" in types and "text/html" not in types:
        return "application/json"
    return None


def _accepted(accept: str) -> dict[str, float]:
    types = {}
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            types[media.lower()] = quality
    return types


def link_header(*links: tuple[str, dict]) -> str:
    """An RFC 8288 Link header from (target, {param: value}) pairs."""
    parts = []
    for target, params in links:
        text = f"<{target}>"
        for name, value in params.items():
            text += f'; {name}="{value}"'
        parts.append(text)
    return ", ".join(parts)


def query_without_link_type(query: str) -> str:
    """The request's query string as passed on when redirecting: every key=value pair as
    it came, less the resolver's own linkType."""
    return "&".join(
        pair
        for pair in (query or "").split("&")
        if pair and unquote_plus(pair.partition("=")[0]) != LINK_TYPE_PARAM
    )


# Every resolver answer may be read by a page of any site (GS1-Conformant Resolver: CORS).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match",
    "Access-Control-Expose-Headers": "Link, Location, Content-Language, ETag",
}
