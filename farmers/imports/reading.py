"""Reading an uploaded file: checked by its content (an .xlsx is a zip with a workbook and
no macros; anything else must be UTF-8 or UTF-16 text separated by commas, semicolons or
tabs), its size (MAX_BYTES), rows (MAX_ROWS) and columns; the header row found among
the first rows."""

import csv
import datetime
import io
import logging
import re
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


# calamine keeps a sheet as a dense grid (first to last used row and column), so a file
# with a stray cell far away would take a lot of memory. Such sheets (a cell beyond column
# BI or row 40,000, or cells and rows without their position) are read by openpyxl, which
# streams; any sheet with more than MAX_ROWS rows of data is refused by both.
_FAR_CELL = re.compile(
    rb'\sr="(?:[A-Z]{3,}|[C-Z][A-Z]|B[J-Z])\d'  # column BJ and beyond (MAX_COLUMNS is 60)
    rb'|\sr="[A-Z]{0,3}(?:[4-9]\d{4}|[1-9]\d{5,})"'  # row 40,000 and beyond
)
_UNPLACED = (b"<c>", b"<c/>", b"<row>", b"<row/>", b":c ", b":c>", b":row ", b":row>")


class _NotForCalamine(Exception):
    """A sheet better streamed by openpyxl (see _FAR_CELL)."""


def _check_grid(data: bytes) -> None:
    """Raise _NotForCalamine when a worksheet of the file could make a huge grid."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            xml = archive.read(info)
            placed = xml.count(b' r="')
            tags = xml.count(b"<c ") + xml.count(b"<row ")
            if placed < tags or _FAR_CELL.search(xml) or any(t in xml for t in _UNPLACED):
                raise _NotForCalamine(info.filename)


def _calamine_cell(value):
    """calamine's value as the other readers give it: no empty strings, whole numbers as
    int (a CCCD or phone typed as a number, 84912345678.0 → 84912345678), dates as
    datetimes (as openpyxl reads them), text exactly as typed."""
    if value == "":
        return None
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is datetime.date:
        return datetime.datetime(value.year, value.month, value.day)
    return value


def _calamine_rows(data: bytes):
    """The first sheet's cell values, read with python-calamine (several times as fast
    as openpyxl, and faster than reading the XML in Python). Raises _NotForCalamine or
    calamine's errors for a sheet it should not or cannot read; the caller then reads the
    file with openpyxl."""
    from python_calamine import CalamineWorkbook

    _check_grid(data)
    with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
        if not workbook.sheet_names:
            raise ImportFileError(_("The workbook has no sheet."))
        grid = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    rows = []
    for number, values in enumerate(grid, start=1):
        cells = _trim([_calamine_cell(v) for v in values[: MAX_COLUMNS + 1]])
        if cells:
            rows.append((number, cells))
            if len(rows) > MAX_ROWS + HEADER_SCAN:
                raise _too_many_rows()
    return rows


def _xlsx_rows(data: bytes):
    try:
        return _calamine_rows(data)
    except ImportFileError:
        raise
    except _NotForCalamine as exc:
        logger.info("%s could make a large grid; reading with openpyxl", exc)
    except Exception:  # noqa: BLE001 — anything unusual: openpyxl reads it or says why
        logger.info("calamine could not read the workbook; reading with openpyxl", exc_info=True)
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


def read_table(data: bytes, *, guess=guess_mapping, no_rows: str = "") -> Table:
    """Check and read a whole file; ImportFileError with a clear message if unusable. The
    header row is the one `guess` (headers → mapping) recognises best; `no_rows` is the
    message for a file with headers only (a member list's by default)."""
    file_format = sniff(data)
    rows = _xlsx_rows(data) if file_format == MemberImport.Format.XLSX else _csv_rows(data)
    if not rows:
        raise ImportFileError(_("The file is empty."))
    # The header row: of the first rows, the one whose cells look most like our headers.
    best, best_score = 0, 0
    for index, (_number, cells) in enumerate(rows[:HEADER_SCAN]):
        score = len(guess([_display(c) for c in cells]))
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
        raise ImportFileError(no_rows or _("The file has column headers but no member rows."))
    if len(data_rows) > MAX_ROWS:
        raise _too_many_rows()
    return Table(file_format, header_number, headers, data_rows)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
