"""GS1 Application Identifiers as a GS1 Digital Link carries them: their formats, the check
of a value, and the decompression of a compressed Digital Link.

Sources (the facts below are written from them, not copied code):
- GS1 General Specifications, section 3 (AI formats; character set 82, figure 7.11-1);
- GS1 Digital Link URI Syntax 1.6 (which AIs are key qualifiers, what may go in the query);
- GS1 Digital Link: Compression (the binary layout: AI as hex nibbles, value encodings 0-4,
  the table of optimised AI sequences, non-GS1 key=value pairs after an "F" nibble).

An AI's format is a tuple of parts: ("N", n, fixed) n digits exactly or up to n digits,
("X", n, fixed) characters of set 82, exactly or up to n. Dates are N6 YYMMDD.
"""

import math
import re

CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

# AIs whose value is a date YYMMDD; GS1 allows day "00" (the end of the month) for these.
DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17", "7006"})


def N(n, fixed=True):  # noqa: N802 - reads like the General Specifications
    return ("N", n, fixed)


def X(n, fixed=False):  # noqa: N802
    return ("X", n, fixed)


def _table() -> dict[str, tuple]:
    table = {
        "00": (N(18),),
        "01": (N(14),),
        "02": (N(14),),
        "10": (X(20),),
        "11": (N(6),),
        "12": (N(6),),
        "13": (N(6),),
        "15": (N(6),),
        "16": (N(6),),
        "17": (N(6),),
        "20": (N(2),),
        "21": (X(20),),
        "22": (X(20),),
        "235": (X(28),),
        "240": (X(30),),
        "241": (X(30),),
        "242": (N(6, False),),
        "243": (X(20),),
        "250": (X(30),),
        "251": (X(30),),
        "253": (N(13), X(17)),
        "254": (X(20),),
        "255": (N(13), N(12, False)),
        "30": (N(8, False),),
        "37": (N(8, False),),
        "400": (X(30),),
        "401": (X(30),),
        "402": (N(17),),
        "403": (X(30),),
        "420": (X(20),),
        "421": (N(3), X(9)),
        "422": (N(3),),
        "423": (N(3), N(12, False)),
        "424": (N(3),),
        "425": (N(3), N(12, False)),
        "426": (N(3),),
        "427": (X(3),),
        "7001": (N(13),),
        "7002": (X(30),),
        "7003": (N(10),),
        "7004": (N(4, False),),
        "7005": (X(12),),
        "7006": (N(6),),
        "7007": (N(6), N(6, False)),
        "7008": (X(3),),
        "7009": (X(10),),
        "7010": (X(2),),
        "7020": (X(20),),
        "7021": (X(20),),
        "7022": (X(20),),
        "7023": (X(30),),
        "8001": (N(14),),
        "8002": (X(20),),
        "8003": (N(14), X(16)),
        "8004": (X(30),),
        "8005": (N(6),),
        "8006": (N(18),),
        "8007": (X(24),),
        "8008": (N(8), N(4, False)),
        "8009": (X(50),),
        "8010": (X(30),),
        "8011": (N(12, False),),
        "8012": (X(20),),
        "8013": (X(30),),
        "8017": (N(18),),
        "8018": (N(18),),
        "8019": (N(10, False),),
        "8020": (X(25),),
        "8026": (N(18),),
        "8110": (X(70),),
        "8111": (N(4),),
        "8112": (X(70),),
        "8200": (X(70),),
        "90": (X(30),),
    }
    for ai in range(410, 417):
        table[str(ai)] = (N(13),)
    for ai in range(91, 100):
        table[str(ai)] = (X(90),)
    for ai in range(710, 715):
        table[str(ai)] = (X(20),)
    for ai in range(7030, 7040):
        table[str(ai)] = (N(3), X(27))
    for ai in range(7230, 7240):
        table[str(ai)] = (X(30),)
    # Measures: 310n-316n, 320n-337n, 340n-357n, 360n-369n (n = decimals 0-5): N6.
    for head, tails in (("31", "0123456"), ("32", "0123456789"), ("33", "01234567")):
        for t in tails:
            for n in "012345":
                table[f"{head}{t}{n}"] = (N(6),)
    for head, tails in (("34", "0123456789"), ("35", "01234567"), ("36", "0123456789")):
        for t in tails:
            for n in "012345":
                table[f"{head}{t}{n}"] = (N(6),)
    for n in "0123456789":
        table[f"390{n}"] = (N(15, False),)
        table[f"391{n}"] = (N(3), N(15, False))
        table[f"392{n}"] = (N(15, False),)
        table[f"393{n}"] = (N(3), N(15, False))
    for n in "0123":
        table[f"394{n}"] = (N(4),)
    return table


AI_FORMATS = _table()

# How many digits an AI has, from its first two (General Specifications, and the
# compression standard's table of AI lengths).
AI_LENGTH = {
    **{f"{i:02d}": 2 for i in (0, 1, 2, 10, 11, 12, 13, 15, 16, 17, 20, 21, 22, 30, 37)},
    **{f"{i:02d}": 3 for i in (23, 24, 25, 40, 41, 42, 71)},
    **{f"{i:02d}": 4 for i in (31, 32, 33, 34, 35, 36, 39, 70, 72, 80, 81, 82)},
    **{f"{i:02d}": 2 for i in range(90, 100)},
}


def value_problem(ai: str, value: str) -> str | None:
    """None when `value` is a valid value of AI `ai`, else a short reason in English
    (the caller words it for the visitor): "unknown", "empty", "format", "date"."""
    parts = AI_FORMATS.get(ai)
    if parts is None:
        return "unknown"
    if value == "":
        return "empty"
    rest = value
    for kind, n, fixed in parts:
        if kind == "N":
            match = re.match(rf"^[0-9]{{{n}}}" if fixed else rf"^[0-9]{{1,{n}}}", rest)
        else:
            pattern = "[" + re.escape("".join(sorted(CSET82))) + "]"
            match = re.match(rf"^{pattern}{{{n}}}" if fixed else rf"^{pattern}{{1,{n}}}", rest)
        if match is None:
            return "format"
        rest = rest[match.end() :]
    if rest:
        return "format"
    if ai in DATE_AIS and not is_yymmdd(value):
        return "date"
    return None


def is_yymmdd(value: str) -> bool:
    """A GS1 date: YYMMDD, month 01-12, day 00 (end of month) or a day of that month."""
    if not re.match(r"^[0-9]{6}$", value):
        return False
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= mm <= 12:
        return False
    # GS1 General Specifications 7.12: the century is the one that puts the year nearest
    # to today (at most 49 years back, 50 ahead); only February's length depends on it.
    year = 2000 + yy
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mm - 1]
    return dd <= days


# --- Compressed GS1 Digital Links --------------------------------------------------------------

SAFE_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEX = "0123456789ABCDEF"
COMPRESSED_RE = re.compile(r"^[A-Za-z0-9_-]+$")

# Optimised sequences of AIs: one hex pair stands for several AIs, whose values follow in
# the sorted order of the AIs (as GS1's reference toolkit writes and reads them: "1A" is
# 01, 10, 21, 17 in the table but its values come as 01, 10, 17, 21).
_OPTIMISED_TABLE = {
    "0A": ("01", "22"),
    "0B": ("01", "10"),
    "0C": ("01", "21"),
    "0D": ("01", "17"),
    "0E": ("01", "7003"),
    "0F": ("01", "30"),
    "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"),
    "1C": ("01", "11"),
    "1D": ("01", "16"),
    "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
    **{f"2{c}": ("01", f"310{i}") for i, c in enumerate("ABCDEF")},
    **{f"3{c}": ("01", f"320{i}") for i, c in enumerate("ABCDEF")},
    "9A": ("8010", "8011"),
    "9B": ("8017", "8019"),
    "9C": ("8018", "8019"),
    "9D": ("414", "254"),
    **{f"A{i}": ("01", f"392{i}") for i in range(10)},
    **{f"C{i}": ("255", f"390{i}") for i in range(10)},
    **{f"C{c}": ("255", f"394{i}") for i, c in enumerate("ABCD")},
}
OPTIMISED = {code: tuple(sorted(ais)) for code, ais in _OPTIMISED_TABLE.items()}


class CompressionError(ValueError):
    pass


def _length_bits(max_length: int) -> int:
    return math.ceil(math.log2(max_length) + 0.01)


def _value_bits(digits: int) -> int:
    return math.ceil(digits * math.log2(10) + 0.01)


class _Bits:
    def __init__(self, text: str):
        self.bits = "".join(format(SAFE_BASE64.index(c), "06b") for c in text)
        self.cursor = 0

    def left(self) -> int:
        return len(self.bits) - self.cursor

    def take(self, n: int) -> int:
        if n > self.left():
            raise CompressionError("truncated")
        chunk = self.bits[self.cursor : self.cursor + n]
        self.cursor += n
        return int(chunk, 2) if chunk else 0

    def nibble(self) -> str:
        return HEX[self.take(4)]


def _digits(bits: _Bits, count: int) -> str:
    if count == 0:
        return ""
    return str(bits.take(_value_bits(count))).zfill(count)


def _characters(bits: _Bits, encoding: int, count: int) -> str:
    if encoding == 0:
        return _digits(bits, count)
    if encoding in (1, 2):
        text = "".join(HEX[bits.take(4)] for _ in range(count))
        return text.lower() if encoding == 1 else text
    if encoding == 3:
        return "".join(SAFE_BASE64[bits.take(6)] for _ in range(count))
    if encoding == 4:
        return "".join(chr(bits.take(7)) for _ in range(count))
    raise CompressionError("encoding")


def _value(bits: _Bits, ai: str) -> str:
    parts = AI_FORMATS.get(ai)
    if parts is None:
        raise CompressionError(f"unknown AI {ai}")
    value = ""
    for kind, n, fixed in parts:
        if kind == "N" and fixed:
            value += _digits(bits, n)
        elif kind == "N":
            value += _digits(bits, bits.take(_length_bits(n)))
        else:
            encoding = bits.take(3)
            count = n if fixed else bits.take(_length_bits(n))
            value += _characters(bits, encoding, count)
    return value


def decompress(text: str) -> list[tuple[str, str]]:
    """The (AI or key, value) pairs of a compressed Digital Link path segment, in order;
    raises CompressionError when it is not one."""
    if not COMPRESSED_RE.match(text):
        raise CompressionError("alphabet")
    bits = _Bits(text)
    pairs: list[tuple[str, str]] = []
    while bits.left() > 8:
        h1, h2 = bits.nibble(), bits.nibble()
        if h1 in HEX[:10] and h2 in HEX[:10]:
            length = AI_LENGTH.get(h1 + h2)
            if length is None:
                raise CompressionError("reserved AI range")
            ai = h1 + h2
            while len(ai) < length:
                nibble = bits.nibble()
                if nibble not in HEX[:10]:
                    raise CompressionError("AI not numeric")
                ai += nibble
            pairs.append((ai, _value(bits, ai)))
        elif h1 + h2 in OPTIMISED:
            for ai in OPTIMISED[h1 + h2]:
                pairs.append((ai, _value(bits, ai)))
        elif h1 == "F":
            # A non-GS1 key=value pair: 7 bits of key length (the last 4 of them in h2).
            bits.cursor -= 4
            key_length = bits.take(7)
            key = "".join(SAFE_BASE64[bits.take(6)] for _ in range(key_length))
            encoding = bits.take(3)
            count = bits.take(7)
            pairs.append((key, _characters(bits, encoding, count)))
        else:
            raise CompressionError(f"no optimisation {h1}{h2}")
    if not pairs:
        raise CompressionError("empty")
    return pairs
