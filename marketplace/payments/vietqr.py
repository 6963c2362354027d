"""VietQR payloads: NAPAS 247 "merchant-presented" QR codes on the EMVCo format.

A payload is a run of TLV fields, each ``ID(2 digits) LENGTH(2 digits) VALUE``:

    00 "01"                    payload format indicator
    01 "12"                    point of initiation: 12 dynamic (one order), 11 static
    38 ...                     merchant account information (VietQR):
         00 "A000000727"           NAPAS GUID
         01 ...                    beneficiary organisation:
              00 bank BIN (6 digits, e.g. 970436 Vietcombank)
              01 account number
         02 "QRIBFTTA"             service: transfer to an account
    53 "704"                   currency: Vietnamese đồng (ISO 4217)
    54 amount                  whole đồng, digits only (dynamic payloads)
    58 "VN"                    country
    62 ...                     additional data: 08 purpose of transaction (the order number)
    63 CRC                     CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over the whole
                               payload including "6304", as 4 uppercase hex digits.

Lengths count characters; banks' apps read the purpose as ASCII, so it is folded
(no diacritics, đ → d) and limited to letters, digits and spaces.
"""

import binascii
import re
from dataclasses import dataclass

from marketplace.core.numbers import is_digits
from marketplace.core.text import strip_marks

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY = "VN"
BIN_RE = re.compile(r"^\d{6}$")
ACCOUNT_RE = re.compile(r"^[0-9A-Za-z]{1,19}$")
PURPOSE_MAX = 25
MAX_AMOUNT = 10**13 - 1  # field 54 holds at most 13 characters


class VietQRError(ValueError):
    pass


def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not is_digits(tag):
        raise VietQRError(f"bad tag {tag!r}")
    if not 0 < len(value) <= 99:
        raise VietQRError(f"field {tag} must hold 1 to 99 characters, got {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE of the ASCII text, as 4 uppercase hex digits (check: "123456789"
    gives 29B1)."""
    return f"{binascii.crc_hqx(data.encode('ascii'), 0xFFFF):04X}"


def clean_purpose(text: str) -> str:
    """What a bank app shows as the transfer's content: ASCII letters, digits and single
    spaces, at most 25 characters."""
    folded = re.sub(r"[^A-Za-z0-9 ]+", " ", strip_marks(text))
    return re.sub(r"\s+", " ", folded).strip()[:PURPOSE_MAX].strip()


@dataclass(frozen=True)
class Account:
    bank_bin: str
    number: str
    holder: str = ""

    def __post_init__(self):
        if not BIN_RE.match(self.bank_bin or ""):
            raise VietQRError("the bank BIN has 6 digits")
        if not ACCOUNT_RE.match(self.number or ""):
            raise VietQRError("the account number has 1 to 19 letters or digits")


def payload(account: Account, *, amount: int | None = None, purpose: str = "") -> str:
    """The VietQR text for a transfer to `account`; dynamic when an amount is given."""
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise VietQRError("the amount is a whole number of đồng")
        if not 0 < amount <= MAX_AMOUNT:
            raise VietQRError("the amount must be positive")
    beneficiary = tlv("00", account.bank_bin) + tlv("01", account.number)
    merchant = tlv("00", NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", SERVICE_TO_ACCOUNT)
    text = tlv("00", "01") + tlv("01", "12" if amount is not None else "11")
    text += tlv("38", merchant) + tlv("53", CURRENCY_VND)
    if amount is not None:
        text += tlv("54", str(amount))
    text += tlv("58", COUNTRY)
    cleaned = clean_purpose(purpose)
    if cleaned:
        text += tlv("62", tlv("08", cleaned))
    text += "6304"
    return text + crc16_ccitt_false(text)


def parse(text: str) -> dict[str, str]:
    """Top-level fields of a payload, after checking its CRC (for tests and the statement
    import); raises VietQRError on a malformed payload or a wrong checksum."""
    if len(text) < 8 or text[-8:-4] != "6304":
        raise VietQRError("the payload does not end with a CRC field")
    if crc16_ccitt_false(text[:-4]) != text[-4:].upper():
        raise VietQRError("wrong CRC")
    return _fields(text[:-8])


def _fields(text: str) -> dict[str, str]:
    fields, i = {}, 0
    while i < len(text):
        if i + 4 > len(text) or not is_digits(text[i : i + 4]):
            raise VietQRError(f"malformed field at {i}")
        tag, length = text[i : i + 2], int(text[i + 2 : i + 4])
        value = text[i + 4 : i + 4 + length]
        if len(value) != length:
            raise VietQRError(f"field {tag} is cut short")
        fields[tag] = value
        i += 4 + length
    return fields


def subfields(value: str) -> dict[str, str]:
    return _fields(value)


def qr_svg(text: str) -> str:
    """A QR code (error correction M, 4-module quiet zone) as one SVG path."""
    import qrcode
    import qrcode.image.svg

    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        box_size=10,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(text)
    return qr.make_image().to_string(encoding="unicode")


def qr_png(text: str) -> bytes:
    """The same QR code as qr_svg, as a PNG a phone can save to its photos (a banking
    app's "scan from an image")."""
    import io

    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=8)
    qr.add_data(text)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def transfer_code(*, bank_bin: str, number: str, amount, purpose: str) -> dict | None:
    """What a banking app scans to pay `amount` into one account (a refund to a buyer, a
    payout to a producer): {"payload", "svg"}, or None if the account cannot be encoded."""
    try:
        text = payload(
            Account(bank_bin=bank_bin, number=number), amount=int(amount), purpose=purpose
        )
    except VietQRError:
        return None
    return {"payload": text, "svg": qr_svg(text)}
