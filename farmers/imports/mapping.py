"""Columns → our fields: the fields in template order, header guessing (with or
without diacritics, Vietnamese or English) and the check of a confirmed mapping."""

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core.text import fold

from .. import services

# Our fields, in the order of the template. Keys are the names farmers.services expects.
FIELDS = (
    ("full_name", gettext_lazy("Full name")),
    ("date_of_birth", gettext_lazy("Date of birth (dd/mm/yyyy)")),
    ("gender", gettext_lazy("Gender (male/female)")),
    ("cccd", gettext_lazy("Citizen ID (CCCD)")),
    ("phone", gettext_lazy("Phone number")),
    ("email", gettext_lazy("E-mail")),
    ("province_code", gettext_lazy("Province/city")),
    ("commune_code", gettext_lazy("Commune/ward")),
    ("street", gettext_lazy("Hamlet/village/address")),
    ("branch", gettext_lazy("Association branch")),
    ("farm_area_m2", gettext_lazy("Farm area (m²)")),
    ("main_products", gettext_lazy("Main crops/livestock")),
    ("cooperative", gettext_lazy("Cooperative")),
    ("bank_bin", gettext_lazy("Bank")),
    ("bank_account", gettext_lazy("Account number")),
    ("bank_holder", gettext_lazy("Account holder")),
)
FIELD_LABELS = dict(FIELDS)
REQUIRED = ("full_name", "date_of_birth", "cccd", "phone", "commune_code")

# Header guesses: phrases of folded words, looked for as whole words. Checked in this
# order, so that "Chủ tài khoản" is the holder before it is an account, "Tên ngân hàng" a
# bank before a name, and "Hợp tác xã" a cooperative before a commune.
_GUESSES = (
    ("bank_holder", ("chu tai khoan", "chu tk", "ten tai khoan", "ten tk", "account holder",
                     "holder", "ten chu tai khoan")),
    ("bank_account", ("so tai khoan", "stk", "so tk", "tai khoan", "account number",
                      "account no", "account")),
    ("bank_bin", ("ngan hang", "bank", "nh")),
    ("cooperative", ("htx", "hop tac xa", "cooperative", "co operative", "coop", "thanh vien htx")),
    ("cccd", ("cccd", "cmnd", "can cuoc", "dinh danh", "citizen id", "id number", "cmt",
              "so cccd")),
    ("email", ("email", "e mail", "thu dien tu", "mail")),
    ("phone", ("sdt", "so dien thoai", "dien thoai", "phone", "di dong", "so dt", "dt dd",
               "mobile", "tel")),
    ("date_of_birth", ("ngay sinh", "ngay thang nam sinh", "sinh ngay", "date of birth", "dob",
                       "birth", "birthday", "nam sinh")),
    ("gender", ("gioi tinh", "gender", "sex", "nam nu", "phai")),
    ("farm_area_m2", ("dien tich", "area", "farm area", "dien tich canh tac")),
    ("main_products", ("cay trong", "vat nuoi", "san pham", "crops", "livestock", "nganh nghe",
                       "products", "cay trong vat nuoi")),
    ("branch", ("chi hoi", "branch", "to hoi", "association branch")),
    ("commune_code", ("xa phuong", "phuong xa", "xa", "phuong", "commune", "ward", "dac khu",
                      "commune ward")),
    ("province_code", ("tinh thanh pho", "tinh thanh", "tinh", "thanh pho", "province", "tinh tp",
                       "province city")),
    ("street", ("thon", "ap", "dia chi", "buon", "to dan pho", "so nha", "street", "address",
                "village", "hamlet", "xom", "khom", "thon ap")),
    ("full_name", ("ho va ten", "ho ten", "ten", "full name", "name", "ho va ten hoi vien",
                   "ten hoi vien")),
)  # fmt: skip
_IGNORED_HEADERS = {"stt", "tt", "so tt", "no", "ghi chu", "note", "notes"}
_IGNORED_PHRASES = (" tinh trang ", " trang thai ", " status ")


def _ignored(folded: str) -> bool:
    padded = f" {folded} "
    return folded in _IGNORED_HEADERS or any(phrase in padded for phrase in _IGNORED_PHRASES)


def _words(text: str) -> str:
    return f" {fold(text)} "


def guess_mapping(headers: list[str], *, fields=FIELDS, guesses=_GUESSES) -> dict[str, int]:
    """{field: column index} guessed from header names; each field and column once. A
    member list's fields by default; a product list gives its own (imports.products)."""
    folded = [fold(h) for h in headers]
    exact = {}
    for key, label in fields:  # our template's headers, in English and the current language
        exact.setdefault(fold(str(label)), key)
        with translation.override("en"):
            exact.setdefault(fold(str(label)), key)
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for index, name in enumerate(folded):
        key = exact.get(name)
        if key and key not in mapping:
            mapping[key] = index
            used.add(index)
    for key, phrases in guesses:
        if key in mapping:
            continue
        for index, name in enumerate(folded):
            if index in used or not name or _ignored(name):
                continue
            padded = f" {name} "
            if any(f" {phrase} " in padded for phrase in phrases):
                mapping[key] = index
                used.add(index)
                break
    return mapping


def guess_area_unit(headers: list[str], mapping: dict[str, int]) -> str:
    index = mapping.get("farm_area_m2")
    if index is not None and index < len(headers):
        words = _words(headers[index])
        if " ha " in words or " hecta " in words or " hectare " in words:
            return "ha"
    return "m2"


def check_mapping(mapping: dict[str, int], *, role: str, columns: int) -> list[str]:
    """Messages for a member list's mapping that cannot work (empty when fine)."""
    required = REQUIRED
    if role == services.OPERATOR:
        required = (*REQUIRED, "province_code")
    return missing_columns(mapping, required=required, labels=FIELD_LABELS, columns=columns)


def missing_columns(mapping: dict[str, int], *, required, labels, columns: int) -> list[str]:
    """Messages for a mapping without a required field or with an unknown column."""
    problems = [
        _("Choose the column with: %(field)s.") % {"field": labels[key]}
        for key in required
        if key not in mapping
    ]
    if any(not 0 <= index < columns for index in mapping.values()):
        problems.append(_("Unknown column."))
    return problems
