"""Reading an uploaded file: checked by its content (an .xlsx is a zip with a workbook and
no macros; anything else must be UTF-8 or UTF-16 text separated by commas, semicolons or
tabs), its size (MAX_BYTES), rows (MAX_ROWS) and columns; the header row found among
the first rows."""

import csv
import datetime
import io
import logging
import unicodedata
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..models import MemberImport
from .common import HEADER_SCAN, MAX_BYTES, MAX_COLUMNS, MAX_ROWS, MAX_UNPACKED, ImportFileError
from .mapping import guess_mapping

logger = logging.getLogger(__name__)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


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
