"""Member import from Excel (.xlsx) or CSV: check, read, map, validate, apply, report.

Staff upload their association's own list. The file is checked by its content (an .xlsx
is a zip with a workbook and no macros; anything else must be UTF-8 text, with or
without BOM, separated by commas, semicolons or tabs), its size (MAX_BYTES) and its rows
(MAX_ROWS). The header row is found among the first rows, each column is guessed a field
from its header (with or without diacritics, Vietnamese or English), and staff confirm
or correct the mapping. The import then runs as a Celery task (farmers.tasks), eagerly
in the embedded default.

Every row goes through the rules of the member form (farmers.services.clean_member_data,
farmers.cccd, farmers.phones, the 34-province map of marketplace.geo) and gets one
outcome: created (a draft, with its history entry), updated (only drafts and
applications returned for changes), unchanged, skipped (with the reason) or error (with
the reason). Members are matched by the keyed hash of their CCCD, so importing the same
file again changes nothing; members outside the importer's scope are never changed and
nothing about them is shown. Each row is atomic: new members are inserted in batches
inside a savepoint, and a batch that fails is replayed row by row, each in its own
savepoint, so a bad row never leaves half a member behind nor stops the others.
"""

import csv
import datetime
import io
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace import geo
from marketplace.text import fold

from . import banks, cccd, crypto, selectors, services
from .models import Member, MemberEvent, MemberImport, Organisation

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 60
MAX_UNPACKED = 150 * 1024 * 1024  # an .xlsx of 20,000 rows unpacks to a few tens of MB
HEADER_SCAN = 10  # the header row is looked for among the first rows (titles come first)
BATCH = 500
STALE_AFTER = datetime.timedelta(minutes=30)
EXAMPLE_CCCD = "001080012345"  # the template's example row: never imported

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

S = Member.Status
EDITABLE_STATUSES = (S.DRAFT, S.RETURNED)

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

OUTCOMES = {
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "skipped": gettext_lazy("Skipped"),
    "error": gettext_lazy("Error"),
}

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


class ImportFileError(Exception):
    """A file that cannot be imported, with the message staff read."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


# --- Reading files ---------------------------------------------------------------------------


@dataclass
class Table:
    file_format: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number as the spreadsheet shows it, cells)

    @property
    def samples(self) -> list[list[str]]:
        """The first three data rows as text, per column (for the mapping page)."""
        out = []
        for index in range(len(self.headers)):
            values = []
            for _number, cells in self.rows[:3]:
                value = cells[index] if index < len(cells) else None
                values.append(_display(value))
            out.append(values)
        return out


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:60]


def sniff(data: bytes) -> str:
    """ "xlsx" or "csv" from the content (not the name); ImportFileError otherwise."""
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB. Split it into several files."))
    if data[:8] == OLE2:
        raise ImportFileError(
            _(
                "This is an old Excel file (.xls) or a password-protected workbook. Open it "
                "in Excel and save it as “Excel Workbook (.xlsx)”, without a password."
            )
        )
    if data[:4] == b"PK\x03\x04":
        _check_xlsx(data)
        return MemberImport.Format.XLSX
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return MemberImport.Format.CSV  # "Unicode text" saved by Excel: UTF-16, tabs
    if b"\x00" in data[:65536] or data[:5] == b"%PDF-" or data[:4] == b"\x89PNG":
        raise ImportFileError(_not_a_table())
    return MemberImport.Format.CSV


def _not_a_table():
    return _(
        "This file is not an Excel workbook (.xlsx) nor a CSV file. Save the list from "
        "Excel as “Excel Workbook (.xlsx)” or “CSV UTF-8”."
    )


def _check_xlsx(data: bytes) -> None:
    damaged = _("The Excel file cannot be read: it is damaged or incomplete. Save it again.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ImportFileError(_not_a_table())
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
            raise ImportFileError(
                _("The Excel file is too large once unpacked. Split it into several files.")
            )
        content_types = archive.read("[Content_Types].xml")[:1_000_000].decode("utf-8", "replace")
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError, ValueError):
        raise ImportFileError(damaged) from None
    if "xl/vbaProject.bin" in names or "macroEnabled" in content_types:
        raise ImportFileError(
            _(
                "Workbooks with macros (.xlsm) are not accepted. Save the list as “Excel "
                "Workbook (.xlsx)”."
            )
        )
    if XLSX_MAIN not in content_types:
        raise ImportFileError(_not_a_table())


def _trim(cells) -> list:
    cells = [c.strip() if isinstance(c, str) else c for c in cells]
    cells = [None if c == "" else c for c in cells]
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _too_many_rows():
    return ImportFileError(
        _("The file has more than %(max)s rows. Split it into several files.")
        % {"max": f"{MAX_ROWS:,}".replace(",", ".")}
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fast_xlsx_rows(data: bytes):
    """The first sheet's cell values, read straight from the XML (about four times as fast
    as openpyxl's read-only mode): shared and inline strings, numbers, booleans, and
    numbers in a date format as datetimes (1900 and 1904 date systems). Raises on anything
    unexpected; the caller then reads the file with openpyxl."""
    import posixpath
    import xml.etree.ElementTree as ET

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    epoch = CALENDAR_WINDOWS_1900
    first_sheet = None
    for element in workbook.iter():
        name = _local(element.tag)
        if name == "workbookPr" and element.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif name == "sheet" and first_sheet is None:
            first_sheet = next(v for k, v in element.attrib.items() if _local(k) == "id")
    targets, shared_path, styles_path = {}, "xl/sharedStrings.xml", "xl/styles.xml"
    for rel in ET.fromstring(archive.read("xl/_rels/workbook.xml.rels")):
        target = rel.get("Target", "")
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        targets[rel.get("Id")] = path
        if rel.get("Type", "").endswith("/sharedStrings"):
            shared_path = path
        elif rel.get("Type", "").endswith("/styles"):
            styles_path = path
    sheet_path = targets[first_sheet]

    def text_of(element) -> str:
        parts = []
        for child in element:
            name = _local(child.tag)
            if name == "t":
                parts.append(child.text or "")
            elif name == "r":
                parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
        return "".join(parts)

    shared = []
    if shared_path in names:
        for element in ET.fromstring(archive.read(shared_path)):
            if _local(element.tag) == "si":
                shared.append(text_of(element))
    date_styles = set()
    if styles_path in names:
        styles = ET.fromstring(archive.read(styles_path))
        custom = {}
        for element in styles.iter():
            if _local(element.tag) == "numFmt":
                custom[int(element.get("numFmtId"))] = element.get("formatCode", "")
        for element in styles:
            if _local(element.tag) == "cellXfs":
                for index, xf in enumerate(x for x in element if _local(x.tag) == "xf"):
                    fmt_id = int(xf.get("numFmtId", 0))
                    code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, ""))
                    if is_date_format(code) or 14 <= fmt_id <= 22 or 45 <= fmt_id <= 47:
                        date_styles.add(str(index))
    columns: dict[str, int] = {}
    rows, cells, number, column = [], {}, 0, 0
    for _event, element in ET.iterparse(archive.open(sheet_path)):
        name = _local(element.tag)
        if name == "c":
            ref = element.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                column = columns.get(letters)
                if column is None:
                    column = columns[letters] = column_index_from_string(letters) - 1
            else:
                column += 1
            kind = element.get("t", "n")
            raw, value = None, None
            for child in element:
                child_name = _local(child.tag)
                if child_name == "v":
                    raw = child.text
                elif child_name == "is":
                    raw = text_of(child)
            if raw is not None:
                if kind == "s":
                    value = shared[int(raw)]
                elif kind in ("inlineStr", "str"):
                    value = raw
                elif kind == "b":
                    value = raw.strip() == "1"
                elif kind == "d":
                    value = datetime.datetime.fromisoformat(raw)
                elif kind == "e":
                    value = None
                else:
                    value = float(raw) if any(c in raw for c in ".eE") else int(raw)
                    if element.get("s") in date_styles:
                        value = from_excel(value, epoch)
            if value is not None and column <= MAX_COLUMNS:
                cells[column] = value
            element.clear()
        elif name == "row":
            ref = element.get("r")
            number = int(ref) if ref else number + 1
            if cells:
                width = max(cells) + 1
                row = _trim([cells.get(i) for i in range(width)])
                if row:
                    rows.append((number, row))
                    if len(rows) > MAX_ROWS + HEADER_SCAN:
                        raise _too_many_rows()
            cells, column = {}, -1
            element.clear()
    return rows


def _xlsx_rows(data: bytes):
    try:
        return _fast_xlsx_rows(data)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 — anything unusual: openpyxl reads it or says why
        logger.info("fast .xlsx reader gave up; reading with openpyxl", exc_info=True)
    return _openpyxl_rows(data)


def _openpyxl_rows(data: bytes):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception:  # noqa: BLE001 — any failure of a broken workbook is the same to staff
        raise ImportFileError(
            _("The Excel file cannot be read: it is damaged or incomplete. Save it again.")
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write wrong dimensions: read all cells
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = _trim(values[: MAX_COLUMNS + 1])
            if cells:
                rows.append((number, cells))
                if len(rows) > MAX_ROWS + HEADER_SCAN:
                    raise _too_many_rows()
        return rows
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001
        raise ImportFileError(
            _("The Excel file cannot be read: it is damaged or incomplete. Save it again.")
        ) from None
    finally:
        workbook.close()


def _csv_rows(data: bytes):
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError(_encoding_message()) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError(_encoding_message()) from None
    controls = sum(
        1 for ch in text[:65536] if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t"
    )
    if controls > 5:
        raise ImportFileError(_not_a_table())
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(("\t", ";", ","), key=first.count)
    if not first.count(delimiter):
        delimiter = ","
    rows = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, values in enumerate(reader, start=1):
            cells = _trim(values[: MAX_COLUMNS + 1])
            if cells:
                rows.append((number, cells))
                if len(rows) > MAX_ROWS + HEADER_SCAN:
                    raise _too_many_rows()
    except csv.Error:
        raise ImportFileError(_not_a_table()) from None
    return rows


def _encoding_message():
    return _(
        "The file is not in UTF-8 (Vietnamese letters would be garbled). In Excel, choose "
        "“Save As” → “CSV UTF-8 (Comma delimited)”, or upload the .xlsx file itself."
    )


def read_table(data: bytes) -> Table:
    """Check and read a whole file; ImportFileError with a clear message if unusable."""
    file_format = sniff(data)
    rows = _xlsx_rows(data) if file_format == MemberImport.Format.XLSX else _csv_rows(data)
    if not rows:
        raise ImportFileError(_("The file is empty."))
    # The header row: of the first rows, the one whose cells look most like our headers.
    best, best_score = 0, 0
    for index, (_number, cells) in enumerate(rows[:HEADER_SCAN]):
        score = len(guess_mapping([_display(c) for c in cells]))
        if score > best_score:
            best, best_score = index, score
    header_number, header_cells = rows[best]
    if len(header_cells) > MAX_COLUMNS:
        raise ImportFileError(_("The file has more than %(max)s columns.") % {"max": MAX_COLUMNS})
    headers = [
        _display(cell) or _("Column %(letter)s") % {"letter": _column_letter(index)}
        for index, cell in enumerate(header_cells)
    ]
    data_rows = rows[best + 1 :]
    if not data_rows:
        raise ImportFileError(_("The file has column headers but no member rows."))
    if len(data_rows) > MAX_ROWS:
        raise _too_many_rows()
    return Table(file_format, header_number, headers, data_rows)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# --- Mapping -----------------------------------------------------------------------------------


def _words(text: str) -> str:
    return f" {fold(text)} "


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """{field: column index} guessed from header names; each field and column once."""
    folded = [fold(h) for h in headers]
    exact = {}
    for key, label in FIELDS:  # our template's headers, in English and the current language
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
    for key, phrases in _GUESSES:
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
    """Messages for a mapping that cannot work (empty when fine)."""
    problems = []
    for key in REQUIRED:
        if key not in mapping:
            problems.append(_("Choose the column with: %(field)s.") % {"field": FIELD_LABELS[key]})
    if role == services.OPERATOR and "province_code" not in mapping:
        problems.append(
            _("Choose the column with: %(field)s.") % {"field": FIELD_LABELS["province_code"]}
        )
    if any(not 0 <= index < columns for index in mapping.values()):
        problems.append(_("Unknown column."))
    return problems


# --- Creating and starting an import --------------------------------------------------------------


def may_import(role: str | None) -> bool:
    return role in services.STAFF_ROLES


def imports_in_scope(user, membership=None):
    """Imports a staff user may see: those of their organisation (a provincial association
    also its branches'); the operator all; everyone else none."""
    imports = MemberImport.objects.select_related("created_by", "organisation")
    if not user.is_authenticated:
        return imports.none()
    if user.is_superuser:
        return imports
    membership = membership or selectors.membership_for(user)
    if membership is None:
        return imports.none()
    org = membership.organisation
    return imports.filter(Q(organisation=org) | Q(organisation__parent=org))


@transaction.atomic
def create_import(*, actor, role: str, membership, upload, language: str = "vi") -> MemberImport:
    """Check and store an uploaded file and read its headers; the import then waits for
    its column mapping (start_import). ImportFileError if the file cannot be used."""
    if not may_import(role):
        raise ImportFileError(_("Your role may not import members."))
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB. Split it into several files."))
    data = upload.read(MAX_BYTES + 1)
    table = read_table(data)
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    record = MemberImport(
        created_by=actor,
        organisation=membership.organisation if membership else None,
        actor_role=role,
        original_name=name or f"import.{table.file_format}",
        file_format=table.file_format,
        file_size=len(data),
        language=(language or "vi")[:10],
        header_row=table.header_row,
        headers=table.headers,
        samples=table.samples,
        total_rows=len(table.rows),
    )
    record.file.save(f"import.{table.file_format}", ContentFile(data), save=False)
    record.save()
    return record


@transaction.atomic
def start_import(*, record: MemberImport, mapping: dict[str, int], options=None) -> MemberImport:
    """Save the confirmed mapping and enqueue the import once the transaction commits."""
    from . import tasks

    record = MemberImport.objects.select_for_update().get(pk=record.pk)
    if not record.awaiting_mapping:
        raise ValidationError(_("This import has already started."))
    problems = check_mapping(mapping, role=record.actor_role, columns=len(record.headers))
    if problems:
        raise ValidationError(problems)
    record.mapping = {key: int(index) for key, index in mapping.items()}
    record.options = dict(options or {})
    record.queued_at = timezone.now()
    record.save(update_fields=["mapping", "options", "queued_at"])
    transaction.on_commit(partial(tasks.run_member_import.delay, record.pk))
    return record


def expire_stale(record: MemberImport) -> MemberImport:
    """An import queued or running without news for STALE_AFTER lost its worker."""
    if record.finished or record.queued_at is None:
        return record
    last = record.heartbeat_at or record.started_at or record.queued_at
    if last < timezone.now() - STALE_AFTER:
        was = record.status
        with translation.override(record.language):
            message = _("The import stopped before the end. Upload the file again.")
        updated = MemberImport.objects.filter(pk=record.pk, status=was).update(
            status=MemberImport.Status.FAILED, error=message, finished_at=timezone.now()
        )
        if updated:
            record.status, record.error = MemberImport.Status.FAILED, message
    return record


# --- Reading a row -------------------------------------------------------------------------------


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
        if text.isdigit() and geo.is_valid_province(int(text)):
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
        if text.isdigit() and geo.commune_in_province(int(text), province):
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


def _error_text(errors: dict) -> str:
    parts = []
    for key, messages in errors.items():
        text = " ".join(messages)
        parts.append(text if key == "__all__" else f"{_label(key)}: {text}")
    return "; ".join(parts)


_MAX_LENGTHS = {
    name: Member._meta.get_field(name).max_length
    for name in ("full_name", "street", "main_products", "cooperative", "bank_holder", "email")
}


class Importer:
    """Runs one import: validates rows, writes them, keeps the counts and the report."""

    def __init__(self, record: MemberImport, *, user, role: str, membership):
        self.record = record
        self.user = user
        self.role = role
        self.membership = membership
        self.org = membership.organisation if membership else None
        self.mapping = {key: int(index) for key, index in record.mapping.items()}
        self.area_unit = (record.options or {}).get("area_unit", "m2")
        branches = list(selectors.branches_for(user, membership))
        all_names = Organisation.objects.filter(
            kind=Organisation.Kind.ASSOCIATION_BRANCH
        ).values_list("name", flat=True)
        self.places = Places(branches, all_names)
        self.scope = selectors.members_in_scope(user, membership)
        self.seen: dict[str, int] = {}
        self.report: list[dict] = []
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.note = _("Imported from “%(file)s” (import #%(number)s).") % {
            "file": record.original_name,
            "number": record.pk,
        }

    # -- reading -------------------------------------------------------------------------------

    def _cell(self, row: Row, key):
        index = self.mapping.get(key)
        if index is None or index >= len(row.cells):
            return None
        value = row.cells[index]
        return None if value == "" else value

    def read_identity(self, row: Row) -> None:
        row.name = _text(self._cell(row, "full_name"))[:120]
        raw = _digits_cell(self._cell(row, "cccd"))
        number = cccd.normalise(raw)
        if number.isdigit() and len(number) == 11 and not number.startswith("0"):
            number = "0" + number  # Excel dropped the leading zero
        row.cccd = number
        if not number:
            row.fail("cccd", _("Enter the citizen ID number."))
        elif number.isdigit() and len(number) == 12:
            row.digest = crypto.keyed_hash(number)

    def read_fields(self, row: Row) -> None:
        """Cells → service data; blank cells are left out (they never erase a value)."""
        data, member = row.data, row.member
        for key in ("full_name", "street", "main_products", "cooperative", "bank_holder"):
            value = _text(self._cell(row, key))
            if value:
                if len(value) > _MAX_LENGTHS[key]:
                    row.fail(key, _("At most %(max)s characters.") % {"max": _MAX_LENGTHS[key]})
                data[key] = value
        if (value := self._cell(row, "date_of_birth")) is not None:
            try:
                data["date_of_birth"] = _parse_date(value)
            except (ValueError, TypeError, OverflowError):
                row.fail("date_of_birth", _("Write the date as dd/mm/yyyy, e.g. 12/03/1978."))
        if (value := self._cell(row, "gender")) is not None:
            data["gender"] = _GENDERS.get(fold(_text(value)), _text(value))
        elif member is None and row.cccd.isdigit() and len(row.cccd) == 12:
            data["gender"] = "male" if int(row.cccd[3]) % 2 == 0 else "female"
        if (value := self._cell(row, "phone")) is not None:
            data["phone"] = _digits_cell(value)
        if (value := self._cell(row, "email")) is not None:
            email = _text(value).lower()
            try:
                validate_email(email)
            except ValidationError:
                row.fail("email", _("Enter a valid e-mail address."))
            else:
                if len(email) > _MAX_LENGTHS["email"]:
                    row.fail("email", _("At most %(max)s characters.") % {"max": 254})
                data["email"] = email
        province = None
        if (value := self._cell(row, "province_code")) is not None:
            try:
                province = data["province_code"] = self.places.province(value)
            except LookupError as exc:
                row.fail("province_code", exc)
        elif member is not None:
            province = member.province_code
        elif self.org is not None:
            province = data["province_code"] = self.org.province_code
        if (value := self._cell(row, "commune_code")) is not None and province:
            try:
                data["commune_code"] = self.places.commune(value, province)
            except LookupError as exc:
                row.fail("commune_code", exc)
        if (value := self._cell(row, "farm_area_m2")) is not None:
            try:
                data["farm_area_m2"] = _parse_area(value, self.area_unit)
            except (ValueError, OverflowError):
                row.fail(
                    "farm_area_m2",
                    _("Write the farm area as a number, e.g. 1500 (m²) or 1,5 ha."),
                )
        if (value := self._cell(row, "bank_bin")) is not None:
            try:
                data["bank_bin"] = self.places.bank(value)
            except LookupError as exc:
                row.fail("bank_bin", exc)
        if (value := self._cell(row, "bank_account")) is not None:
            data["bank_account"] = _digits_cell(value).replace(".", "").replace("-", "")
        if (value := self._cell(row, "branch")) is not None:
            try:
                data["branch"] = self.places.branch(value)
            except LookupError as exc:
                row.fail("branch", exc)
        elif member is None:
            self._default_branch(row)

    def _default_branch(self, row: Row) -> None:
        if self.org is not None and self.org.kind == Organisation.Kind.ASSOCIATION_BRANCH:
            row.data["branch"] = self.places.in_scope.get(self.org.pk) or self.org
            return
        commune = row.data.get("commune_code")
        if commune is None:
            return  # clean_member_data says the commune is missing
        found = self.places.by_commune.get(commune, [])
        if len(found) == 1:
            row.data["branch"] = found[0]
        elif found:
            row.fail("branch", _("Several branches cover this commune: give the branch."))
        else:
            row.fail("branch", _("None of your branches covers this commune: give the branch."))

    # -- deciding --------------------------------------------------------------------------------

    def decide(self, row: Row, existing: dict, in_scope: set) -> None:
        """Set the row's outcome, or leave it to be created or updated (clean is set).
        The row's identity is read already (read_identity)."""
        if row.cccd == EXAMPLE_CCCD:
            return self._done(row, "skipped", _("The template's example row: not imported."))
        if row.digest:
            first = self.seen.get(row.digest)
            if first is not None:
                return self._done(
                    row,
                    "error",
                    _("The same citizen ID is already in row %(row)s.") % {"row": first},
                )
            self.seen[row.digest] = row.number
            row.member = existing.get(row.digest)
        member = row.member
        if member is not None and member.pk not in in_scope:
            return self._done(
                row,
                "skipped",
                _("A member with this citizen ID is registered outside your scope: not changed."),
            )
        self.read_fields(row)
        if member is None and row.cccd:
            dob = row.data.get("date_of_birth")
            try:
                cccd.validate(row.cccd, date_of_birth=dob, gender=row.data.get("gender"))
            except ValidationError as exc:
                row.fail("cccd", exc.messages[0])
        base = {} if member is None else {
            f: getattr(member, f) for f in services.MEMBER_FIELDS if f != "cccd"
        }  # fmt: skip
        try:
            clean = services.clean_member_data({**base, **row.data})
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in row.errors:  # a cell that could not be read says so already
                    continue
                if key == "branch" and "commune_code" in row.errors and "branch" not in row.data:
                    continue  # the branch follows from the commune: one message is enough
                row.errors[key] = messages
        if row.errors:
            return self._done(row, "error", _error_text(row.errors), member)
        if member is None:
            clean["cccd"] = row.cccd
            row.clean = clean
            return None
        if not _changes(member, clean):
            return self._done(row, "unchanged", "", member)
        if member.status not in EDITABLE_STATUSES:
            return self._done(row, "skipped", _not_editable(member), member)
        row.clean = clean
        return None

    def _done(self, row: Row, outcome: str, message: str = "", member=None):
        """Record the row's outcome. `member` only when it is in the importer's scope:
        nothing about a member outside it reaches the report."""
        row.outcome, row.message = outcome, str(message)
        row.member_id = member.pk if member is not None else None
        self.counts[outcome] += 1
        self.report.append(
            {
                "row": row.number,
                "outcome": outcome,
                "name": row.name,
                "cccd": cccd.mask(row.cccd) if len(row.cccd) >= 3 else "",
                "member": row.member_id,
                "message": row.message,
            }
        )

    # -- writing ---------------------------------------------------------------------------------

    def _new_member(self, clean: dict) -> Member:
        member = Member(created_by=self.user, status=S.DRAFT)
        services._apply(member, clean)  # noqa: SLF001 — the same normalisation as register
        return member

    def _new_event(self, member: Member) -> MemberEvent:
        return MemberEvent(
            member=member,
            actor=self.user,
            actor_role=self.role,
            action="registered",
            to_status=S.DRAFT,
            reason=self.note,
        )

    def create_batch(self, rows: list[Row]) -> None:
        if not rows:
            return
        members = [self._new_member(row.clean) for row in rows]
        try:
            with transaction.atomic():
                Member.objects.bulk_create(members, batch_size=BATCH)
                if any(m.pk is None for m in members):
                    raise DatabaseError("no primary keys from bulk insert")
                MemberEvent.objects.bulk_create(
                    [self._new_event(m) for m in members], batch_size=BATCH
                )
        except (DatabaseError, ValidationError):
            for row in rows:  # replay one by one: a bad row fails alone
                self.create_one(row)
            return
        for row, member in zip(rows, members, strict=True):
            self._done(row, "created", "", member)

    def create_one(self, row: Row) -> None:
        try:
            with transaction.atomic():
                member = self._new_member(row.clean)
                member.save()
                self._new_event(member).save()
        except IntegrityError:
            # Someone registered this CCCD meanwhile (another import, a clerk): decide again.
            member = Member.objects.select_related("branch").filter(cccd_hash=row.digest).first()
            if member is None:
                return self._done(row, "error", _("The row could not be saved."))
            self.seen.pop(row.digest, None)
            retry = Row(number=row.number, cells=row.cells)
            self.read_identity(retry)
            in_scope = set(self.scope.filter(pk=member.pk).values_list("pk", flat=True))
            self.decide(retry, {row.digest: member}, in_scope)
            if not retry.outcome:
                self.update_one(retry)
            return None
        except Exception:  # noqa: BLE001 — reported on the row; the others go on
            logger.exception("import %s: row %s failed", self.record.pk, row.number)
            return self._done(row, "error", _("The row could not be saved."))
        return self._done(row, "created", "", member)

    def update_one(self, row: Row) -> None:
        try:
            with transaction.atomic():
                member = Member.objects.select_for_update().get(pk=row.member.pk)
                if member.status not in EDITABLE_STATUSES:
                    return self._done(row, "skipped", _not_editable(member), member)
                changed = services.update_member(
                    actor=self.user, role=self.role, member=member, data=row.data
                )
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return self._done(row, "error", _error_text(messages), row.member)
        except Exception:  # noqa: BLE001
            logger.exception("import %s: row %s failed", self.record.pk, row.number)
            return self._done(row, "error", _("The row could not be saved."), row.member)
        if not changed:
            return self._done(row, "unchanged", "", row.member)
        fields = ", ".join(_label(name) for name in changed)
        return self._done(row, "updated", _("Changed: %(fields)s.") % {"fields": fields}, member)

    # -- the whole file ------------------------------------------------------------------------

    def run(self, rows: list[tuple[int, list]], progress=None) -> None:
        done = 0
        for start in range(0, len(rows), BATCH):
            chunk = [Row(number=n, cells=c) for n, c in rows[start : start + BATCH]]
            digests = set()
            for row in chunk:
                self.read_identity(row)
                if row.digest:
                    digests.add(row.digest)
            existing = {
                m.cccd_hash: m
                for m in Member.objects.select_related("branch").filter(cccd_hash__in=digests)
            }
            in_scope = set()
            if existing:
                in_scope = set(
                    self.scope.filter(pk__in=[m.pk for m in existing.values()]).values_list(
                        "pk", flat=True
                    )
                )
            to_create, to_update = [], []
            for row in chunk:
                self.decide(row, existing, in_scope)
                if row.outcome:
                    continue
                (to_update if row.member is not None else to_create).append(row)
            self.create_batch(to_create)
            for row in to_update:
                self.update_one(row)
            done += len(chunk)
            if progress is not None:
                progress(done)
        self.report.sort(key=lambda entry: entry["row"])


def _changes(member: Member, clean: dict) -> list[str]:
    return [
        name
        for name in services.MEMBER_FIELDS
        if name != "cccd" and name in clean and getattr(member, name) != clean[name]
    ]


def _not_editable(member: Member) -> str:
    return _(
        "The application is “%(status)s”: an import changes only drafts and applications "
        "returned for changes. Edit the member's record instead."
    ) % {"status": member.get_status_display()}


# --- Running ------------------------------------------------------------------------------------


def _counts(importer: Importer) -> dict:
    c = importer.counts
    return {
        "created_count": c["created"],
        "updated_count": c["updated"],
        "unchanged_count": c["unchanged"],
        "skipped_count": c["skipped"],
        "error_count": c["error"],
    }


def run_import(import_id: int) -> str:
    """Run a queued import (the Celery task's work). Never raises: a failure is written
    on the import. Runs once: an import that is not queued and waiting is left alone."""
    now = timezone.now()
    claimed = MemberImport.objects.filter(
        pk=import_id, status=MemberImport.Status.PENDING, queued_at__isnull=False
    ).update(status=MemberImport.Status.RUNNING, started_at=now, heartbeat_at=now)
    if not claimed:
        return "skipped"
    record = MemberImport.objects.select_related("created_by", "organisation").get(pk=import_id)
    importer = None
    with translation.override(record.language or "vi"):
        try:
            user = record.created_by
            membership = selectors.membership_for(user) if user is not None else None
            role = selectors.role_for(user, membership) if user is not None else None
            if user is None or not user.is_active or not may_import(role):
                raise ImportFileError(
                    _("The person who uploaded this file may not import any more.")
                )
            with record.file.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
            table = read_table(data)
            MemberImport.objects.filter(pk=record.pk).update(total_rows=len(table.rows))
            importer = Importer(record, user=user, role=role, membership=membership)

            def progress(done):
                MemberImport.objects.filter(pk=record.pk).update(
                    processed_rows=done, heartbeat_at=timezone.now(), **_counts(importer)
                )

            importer.run(table.rows, progress)
        except Exception as exc:  # recorded on the import, never left running
            if isinstance(exc, ImportFileError):
                message = exc.message
            else:
                logger.exception("member import %s failed", import_id)
                message = _("The import stopped because of an unexpected error.")
            extra = _counts(importer) if importer is not None else {}
            MemberImport.objects.filter(pk=record.pk).update(
                status=MemberImport.Status.FAILED,
                error=message,
                finished_at=timezone.now(),
                report=importer.report if importer is not None else [],
                **extra,
            )
            return "failed"
        MemberImport.objects.filter(pk=record.pk).update(
            status=MemberImport.Status.DONE,
            processed_rows=len(table.rows),
            report=importer.report,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            **_counts(importer),
        )
    return "done"


# --- Report, template --------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    """Spreadsheet-safe text: a cell starting like a formula is not run by Excel."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(record: MemberImport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Result"), _("Full name"), _("Citizen ID"), _("Reason"),
                     _("Member number")])  # fmt: skip
    for entry in record.report or []:
        writer.writerow(
            [
                entry.get("row"),
                str(OUTCOMES.get(entry.get("outcome"), entry.get("outcome"))),
                _safe(entry.get("name")),
                _safe(entry.get("cccd")),
                _safe(entry.get("message")),
                entry.get("member") or "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def template_example(user, membership) -> dict:
    """The template's example row, in the staff member's own province and branch."""
    branch = selectors.branches_for(user, membership).order_by("pk").first()
    if branch is not None:
        province, commune = branch.province_code, branch.commune_code
    elif membership is not None:
        province = membership.organisation.province_code
        commune = next(
            (code for code, (_n, prov) in geo._communes().items() if prov == province),  # noqa: SLF001
            None,
        )
    else:
        province, commune = 66, None
    return {
        "full_name": "Nguyễn Văn Mẫu",
        "date_of_birth": datetime.date(1980, 5, 20),
        "gender": "Nam",
        "cccd": EXAMPLE_CCCD,
        "phone": "0912 345 678",
        "email": "",
        "province_code": geo.province_name(province),
        "commune_code": geo.commune_name(commune),
        "street": "Thôn 1",
        "branch": branch.name if branch is not None else "",
        "farm_area_m2": 5000,
        "main_products": "Cà phê, hồ tiêu",
        "cooperative": "",
        "bank_bin": "Agribank",
        "bank_account": "5100205123456",
        "bank_holder": "NGUYEN VAN MAU",
    }


def template_xlsx(user, membership) -> bytes:
    """Our columns with their headers and one example row (skipped if left in)."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Members")[:31]
    keys = [key for key, _label in FIELDS]
    sheet.append([str(label) for _key, label in FIELDS])
    example = template_example(user, membership)
    sheet.append([example[key] for key in keys])
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    fill = PatternFill("solid", fgColor="E2EFDA")
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(row=1, column=index)
        head.font, head.fill = bold, fill
        sheet.cell(row=2, column=index).font = grey
        sheet.column_dimensions[letter].width = max(14, len(str(FIELD_LABELS[key])) + 4)
        if key in ("cccd", "phone", "bank_account"):
            # Text columns: Excel keeps the leading zeros of what staff type in them.
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        if key == "date_of_birth":
            sheet.column_dimensions[letter].number_format = "DD/MM/YYYY"
            sheet.cell(row=2, column=index).number_format = "DD/MM/YYYY"
        if key == "gender":
            rule = DataValidation(type="list", formula1='"Nam,Nữ"', allow_blank=True)
            sheet.add_data_validation(rule)
            rule.add(f"{letter}2:{letter}20001")
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(_("Instructions")[:31])
    notes.column_dimensions["A"].width = 110
    for line in (
        _("One member per row, from row 2. Delete the grey example row (it is never imported)."),
        _("Required: full name, date of birth, citizen ID (12 digits), phone, commune/ward."),
        _("Date of birth: dd/mm/yyyy. Gender: Nam or Nữ (if empty, read from the citizen ID)."),
        _("Province and branch may stay empty: yours are used. Communes by their name, "
          "e.g. Xã Ea Kiết."),
        _("Bank: short name (e.g. Agribank, Vietcombank); give bank, account number and "
          "holder together."),
        _("Importing the same file again changes nothing; members already submitted are "
          "never changed by an import."),
    ):  # fmt: skip
        notes.append([line])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
