"""The VietQR payment box's helpers: the QR code as a PNG data: address (the "save QR
image" link works without JavaScript and without another request)."""

import base64

from django import template

from marketplace.payments.vietqr import qr_png

register = template.Library()


@register.filter
def qr_png_data_uri(payload: str) -> str:
    if not payload:
        return ""
    return "data:image/png;base64," + base64.b64encode(qr_png(payload)).decode("ascii")
