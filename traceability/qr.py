"""QR codes for lots: the link a label encodes, its QR matrix, PNG and SVG.

The link is a GS1 Digital Link when the product has a GTIN::

    https://HOST/01/{GTIN-14}/10/{LOT}[/21/{SERIAL}]

and otherwise the lot's short link::

    https://HOST/t/{SHORT_CODE}/[{SERIAL}/]

HOST is the site's one configured address, SITE_BASE_URL (`base_url()`, from
marketplace.core.links), never the host the request came to: a label printed from any
address of the site encodes the same link. A Celery task is given the base URL too.

Every QR uses error correction M and a 4-module quiet zone (ISO/IEC 18004 minimum), so
that it scans from a crumpled bag at a market.
"""

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from marketplace.core.links import absolute_url

from .gs1 import digital_link_path, product_gtin

ERROR_CORRECTION = ERROR_CORRECT_M
QUIET_ZONE = 4  # modules of white around the symbol
PNG_MODULE_PIXELS = 10


def base_url() -> str:
    """ "https://host" (no trailing slash): the site's configured address."""
    return absolute_url("/").rstrip("/")


def label_path(lot, serial: str | None = None, *, gtin: str | None = None) -> str:
    """The path part of the lot's label link. `gtin` may be passed to skip the lookup
    (it is the same for every label of a sheet)."""
    if gtin is None:
        gtin = product_gtin(lot.product)
    if gtin:
        return digital_link_path(gtin, lot.code, serial)
    if serial:
        return f"/t/{lot.short_code}/{serial}/"
    return f"/t/{lot.short_code}/"


def label_url(lot, base: str, serial: str | None = None, *, gtin: str | None = None) -> str:
    return base.rstrip("/") + label_path(lot, serial, gtin=gtin)


def matrix(data: str) -> list[list[bool]]:
    """The QR symbol for `data` as rows of booleans (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def runs(rows: list[list[bool]]):
    """(x, y, length) for every horizontal run of dark modules, y counted from the top.
    Drawing runs instead of single modules makes a QR about three times fewer shapes."""
    for y, row in enumerate(rows):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                yield start, y, x - start
            else:
                x += 1


def png(data: str, module_pixels: int = PNG_MODULE_PIXELS) -> bytes:
    """A black-on-white PNG, `module_pixels` per module, quiet zone included."""
    from PIL import Image, ImageDraw

    rows = matrix(data)
    size = len(rows) * module_pixels
    image = Image.new("1", (size, size), 1)
    draw = ImageDraw.Draw(image)
    for x, y, length in runs(rows):
        draw.rectangle(
            (
                x * module_pixels,
                y * module_pixels,
                (x + length) * module_pixels - 1,
                (y + 1) * module_pixels - 1,
            ),
            fill=0,
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg(data: str, module_mm: float = 0.5) -> bytes:
    """A scalable SVG: one white square (the quiet zone included) and one black path, in
    module units; printed at `module_mm` millimetres per module by default."""
    rows = matrix(data)
    n = len(rows)
    path = "".join(f"M{x} {y}h{length}v1h-{length}z" for x, y, length in runs(rows))
    size = f"{n * module_mm:g}mm"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{size}" '
        f'height="{size}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )
    return text.encode("utf-8")
