"""GS1 Digital Link (uncompressed URI syntax) for lots: parse and build.

    /01/{GTIN}/10/{LOT}[/21/{SERIAL}]     (optionally /22/{VARIANT} before 10)

The GTIN may be written with 8, 12, 13 or 14 digits; it is zero-padded to 14 for lookup
and in every link we print. Key qualifiers must come in the order 22, 10, 21, each at most
once. Values are percent-decoded segment by segment, so a lot code holding "/" must be
written "%2F" in the link (and is, in every link we build).
"""

from dataclasses import dataclass
from urllib.parse import quote, unquote

from django.utils.translation import gettext_lazy as _

from marketplace.core.numbers import is_digits
from marketplace.core.validators import gtin14, has_valid_check_digit

from .models import LOT_CODE_RE

GTIN_LENGTHS = (8, 12, 13, 14)
# Key qualifiers of AI 01, in the only order GS1 Digital Link allows.
QUALIFIER_ORDER = ("22", "10", "21")


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


def _check_code(value: str, what) -> str:
    if not LOT_CODE_RE.match(value):
        raise LinkError(what)
    return value


def parse_digital_link(path: str) -> DigitalLink:
    """Parse the path of a GS1 Digital Link (percent-encoded as it came over the wire,
    with or without the leading and trailing "/"), or raise LinkError."""
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    if len(segments) < 2 or segments[0] != "01":
        raise LinkError(_("This is not a product link (GS1 Digital Link)."))
    if any(segment == "" for segment in segments):
        raise LinkError(_("A part of the link is empty."))
    if len(segments) % 2:
        raise LinkError(_("A part of the link is missing its value."))

    gtin = unquote(segments[1])
    if not is_digits(gtin) or len(gtin) not in GTIN_LENGTHS:
        raise LinkError(_("The product code (GTIN) must have 8, 12, 13 or 14 digits."))
    if not has_valid_check_digit(gtin):
        raise LinkError(_("The last digit (check digit) of the product code (GTIN) is wrong."))

    values: dict[str, str] = {}
    last_position = -1
    for key, raw_value in zip(segments[2::2], segments[3::2], strict=True):
        if key not in QUALIFIER_ORDER:
            raise LinkError(_("The link has a part we do not know: “%(key)s”.") % {"key": key})
        position = QUALIFIER_ORDER.index(key)
        if position <= last_position:
            raise LinkError(
                _(
                    "The parts of the link are in the wrong order: after the product code "
                    "come the variant (22), then the lot (10), then the serial number (21)."
                )
            )
        last_position = position
        values[key] = unquote(raw_value, errors="strict") if _utf8(raw_value) else "\ufffd"

    lot = values.get("10")
    if lot is not None:
        _check_code(
            lot,
            _(
                "The lot code must have 1 to 20 characters: letters without accents, "
                "digits and - . _ / only."
            ),
        )
    serial = values.get("21")
    if serial is not None:
        _check_code(
            serial,
            _(
                "The serial number must have 1 to 20 characters: letters without accents, "
                "digits and - . _ / only."
            ),
        )
    variant = values.get("22")
    if variant is not None:
        _check_code(
            variant,
            _(
                "The variant must have 1 to 20 characters: letters without accents, "
                "digits and - . _ / only."
            ),
        )
    return DigitalLink(gtin14=gtin14(gtin), variant=variant, lot=lot, serial=serial)


def _utf8(raw: str) -> bool:
    try:
        unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def digital_link_path(code14: str, lot_code: str, serial: str | None = None) -> str:
    """The canonical path (no trailing slash, as GS1 writes it; the resolver accepts both)."""
    path = f"/01/{code14}/10/{quote(lot_code, safe='')}"
    if serial:
        path += f"/21/{quote(serial, safe='')}"
    return path
