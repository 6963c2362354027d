"""Reading a row's cells: text, digits (CCCD, phone, account), dates, genders, areas,
and names of provinces, communes, banks and branches → codes; the row being imported
and its error text."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from marketplace.core import geo
from marketplace.core.numbers import is_digits, parse_int
from marketplace.core.text import fold

from .. import banks
from ..models import Member
from .mapping import FIELD_LABELS


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


def _digits_cell(value) -> str:
    """A number column (CCCD, account): Excel turns them into numbers and drops the
    leading zero; give it back for a CCCD (every CCCD starts with 0)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _text(value)


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if 1 <= value < 2_958_466:  # an Excel date serial number in a general cell
            try:
                result = from_excel(value)
            except (ValueError, OverflowError):
                result = None
            if result is not None:
                return result.date() if isinstance(result, datetime.datetime) else result
        raise ValueError
    text = _text(value).split(" ")[0]
    if match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _YMD.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise ValueError
    return datetime.date(year, month, day)


_GENDERS = {
    "nam": "male", "male": "male", "m": "male", "trai": "male",
    "nu": "female", "female": "female", "f": "female", "gai": "female",
    "khac": "other", "other": "other",
}  # fmt: skip


def _parse_area(value, unit: str) -> int:
    factor = 10_000 if unit == "ha" else 1
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _text(value).lower().replace("m²", "m2").replace(" ", "")
        match = re.match(r"^([\d.,]+)(ha|hecta|m2|m)?$", text)
        if not match:
            raise ValueError
        raw, suffix = match.groups()
        if suffix in ("ha", "hecta"):
            factor = 10_000
        elif suffix in ("m2", "m"):
            factor = 1
        number = _parse_decimal(raw)
    return round(number * factor)


def _parse_decimal(raw: str) -> float:
    """1.500 and 1,500 are thousands; 1,5 and 1.5 decimals; 1.500,5 and 1,500.5 both."""
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        raw = raw.replace(thousands, "").replace(decimal, ".")
    elif "," in raw or "." in raw:
        sep = "," if "," in raw else "."
        parts = raw.split(sep)
        if len(parts) > 2 or (len(parts[-1]) == 3 and parts[0] not in ("", "0")):
            raw = raw.replace(sep, "")
        else:
            raw = raw.replace(sep, ".")
    return float(raw)


def _strip_prefix(name: str, prefixes) -> str:
    for prefix in prefixes:
        if name.startswith(prefix + " "):
            return name[len(prefix) + 1 :]
    return name


_PROVINCE_PREFIXES = ("thanh pho", "tinh", "tp")
_COMMUNE_PREFIXES = ("xa", "phuong", "dac khu", "thi tran", "p")
_BRANCH_PREFIXES = ("chi hoi nong dan", "chi hoi nd", "chi hoi", "hoi nong dan", "hoi nd")


class Places:
    """Province, commune, bank and branch names → codes, built once per import."""

    def __init__(self, branches_in_scope, all_branches):
        self.provinces: dict[str, int] = {}
        for code, name in geo.province_choices():
            self.provinces[fold(name)] = code
            self.provinces[_strip_prefix(fold(name), _PROVINCE_PREFIXES)] = code
        self.provinces.update({"hcm": 79, "tp hcm": 79, "sai gon": 79, "hn": 1})
        self.communes: dict[int, dict[str, list[int]]] = {}
        self.communes_exact: dict[int, dict[str, int]] = {}
        for code, (name, province) in geo._communes().items():  # noqa: SLF001
            exact = self.communes_exact.setdefault(province, {})
            exact[unicodedata.normalize("NFC", name).lower()] = code
            folded = fold(name)
            index = self.communes.setdefault(province, {})
            for key in {folded, _strip_prefix(folded, _COMMUNE_PREFIXES)}:
                index.setdefault(key, []).append(code)
        self.banks: dict[str, str] = {}
        for bin_, short, full in banks.BANKS:
            for key in (bin_, fold(short), fold(full), fold(short).replace(" ", "")):
                self.banks[key] = bin_
        self.in_scope = {b.pk: b for b in branches_in_scope}
        self.branch_keys: dict[str, list] = {}
        for branch in branches_in_scope:
            for key in self._branch_keys(branch.name):
                self.branch_keys.setdefault(key, []).append(branch)
        self.other_branch_keys = set()
        for name in all_branches:
            self.other_branch_keys.update(self._branch_keys(name))
        self.by_commune: dict[int, list] = {}
        for branch in branches_in_scope:
            self.by_commune.setdefault(branch.commune_code, []).append(branch)

    @staticmethod
    def _branch_keys(name: str) -> set[str]:
        folded = fold(name)
        stripped = _strip_prefix(folded, _BRANCH_PREFIXES)
        return {folded, stripped, _strip_prefix(stripped, _COMMUNE_PREFIXES)}

    def province(self, value) -> int:
        text = _text(value)
        if is_digits(text) and geo.is_valid_province(parse_int(text)):
            return int(text)
        folded = fold(text)
        code = self.provinces.get(folded) or self.provinces.get(
            _strip_prefix(folded, _PROVINCE_PREFIXES)
        )
        if code is None:
            raise LookupError(_("Unknown province “%(name)s”.") % {"name": text})
        return code

    def commune(self, value, province: int) -> int:
        text = _text(value)
        if is_digits(text) and geo.commune_in_province(parse_int(text), province):
            return int(text)
        exact = self.communes_exact.get(province, {})
        nfc = unicodedata.normalize("NFC", text).lower()
        for candidate in (nfc, *(f"{p} {nfc}" for p in ("xã", "phường", "đặc khu"))):
            if candidate in exact:
                return exact[candidate]
        folded = fold(text)
        index = self.communes.get(province, {})
        codes = index.get(folded) or index.get(_strip_prefix(folded, _COMMUNE_PREFIXES)) or []
        if len(codes) == 1:
            return codes[0]
        names = {"name": text, "province": geo.province_name(province)}
        if codes:
            raise LookupError(
                _("Several communes of %(province)s are called “%(name)s”: write the name "
                  "with its accents, e.g. “Xã …” or “Phường …”.") % names
            )  # fmt: skip
        raise LookupError(_("There is no commune or ward “%(name)s” in %(province)s.") % names)

    def bank(self, value) -> str:
        text = _text(value)
        folded = fold(text)
        code = (
            self.banks.get(text)
            or self.banks.get(folded)
            or self.banks.get(folded.replace(" ", ""))
            or self.banks.get(_strip_prefix(folded, ("ngan hang", "nh")))
        )
        if code is None:
            raise LookupError(
                _("Unknown bank “%(name)s”: write its short name, e.g. Agribank.") % {"name": text}
            )
        return code

    def branch(self, value):
        text = _text(value)
        folded = fold(text)
        keys = [folded, _strip_prefix(folded, _BRANCH_PREFIXES)]
        keys.append(_strip_prefix(keys[-1], _COMMUNE_PREFIXES))
        for key in keys:
            found = self.branch_keys.get(key)
            if found and len(found) == 1:
                return found[0]
            if found:
                raise LookupError(
                    _("Several branches match “%(name)s”: write the branch's full name.")
                    % {"name": text}
                )
        if any(key in self.other_branch_keys for key in keys):
            raise LookupError(_("The branch “%(name)s” is outside your scope.") % {"name": text})
        raise LookupError(_("Unknown association branch “%(name)s”.") % {"name": text})


@dataclass
class Row:
    number: int
    cells: list
    name: str = ""
    cccd: str = ""
    digest: str = ""
    data: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    clean: dict | None = None
    member: Member | None = None
    outcome: str = ""
    message: str = ""
    member_id: int | None = None

    def fail(self, key, message):
        self.errors.setdefault(key, []).append(str(message))


def _label(key: str) -> str:
    if key == "cccd":
        return _("Citizen ID")
    try:
        return str(Member._meta.get_field(key).verbose_name)
    except Exception:  # noqa: BLE001 — not a member field
        return str(FIELD_LABELS.get(key, key))


def _error_text(errors: dict, *, label=_label) -> str:
    """{field: [messages]} as one line, each field named by `label(field)`."""
    parts = []
    for key, messages in errors.items():
        text = " ".join(messages)
        parts.append(text if key == "__all__" else f"{label(key)}: {text}")
    return "; ".join(parts)


_MAX_LENGTHS = {
    name: Member._meta.get_field(name).max_length
    for name in ("full_name", "street", "main_products", "cooperative", "bank_holder", "email")
}
