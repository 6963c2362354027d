"""Member import from Excel (.xlsx) or CSV: check, read, map, validate, apply, report.

Staff upload their association's own list. The file is checked by its content (an .xlsx
is a zip with a workbook and no macros; anything else must be UTF-8 text, with or
without BOM, separated by commas, semicolons or tabs), its size (MAX_BYTES) and its rows
(MAX_ROWS). The header row is found among the first rows, each column is guessed a field
from its header (with or without diacritics, Vietnamese or English), and staff confirm
or correct the mapping. The import then runs as a Celery task (farmers.tasks), eagerly
in the embedded default.

Every row goes through the rules of the member form (farmers.services.clean_member_data,
farmers.cccd, farmers.phones, the 34-province map of marketplace.core.geo) and gets one
outcome: created (a draft, with its history entry), updated (only drafts and
applications returned for changes), unchanged, skipped (with the reason) or error (with
the reason). Members are matched by the keyed hash of their CCCD, so importing the same
file again changes nothing; members outside the importer's scope are never changed and
nothing about them is shown. Each row is atomic: new members are inserted in batches
inside a savepoint, and a batch that fails is replayed row by row, each in its own
savepoint, so a bad row never leaves half a member behind nor stops the others.

The package, one module per concern (each name below is importable from
farmers.imports, as it was when this was one module):
- common: limits (MAX_BYTES, MAX_ROWS, ...), OUTCOMES, ImportFileError;
- mapping: FIELDS, header guessing (guess_mapping, guess_area_unit), check_mapping;
- reading: checking and reading a file (sniff, read_table: .xlsx with python-calamine,
  CSV);
- validation: reading a row's cells (dates, digits, areas, places, banks, branches);
- importer: Importer, which decides each row's outcome and writes it;
- jobs: may_import, create_import, start_import, run_import (the Celery task's
  work), expire_stale, retry_import;
- report: report_csv; template: template_xlsx.

The same engine imports a producer's product list (products: its fields, its importer,
keyed on the producer's own product code, through the listing rules); the parts both
use are jobs.store_upload, start_job, run_job and retry_job, reading.read_table (given
the header guess), mapping.guess_mapping and missing_columns, report.rows_csv and
template.workbook_xlsx.
"""

from .common import (
    BATCH,
    EXAMPLE_CCCD,
    HEADER_SCAN,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNPACKED,
    OUTCOMES,
    STALE_AFTER,
    ImportFileError,
)
from .importer import (
    EDITABLE_STATUSES,
    Importer,
    S,
    _changes,
    _not_editable,
)
from .jobs import (
    _counts,
    create_import,
    expire_stale,
    may_import,
    may_retry,
    retry_import,
    run_import,
    start_import,
)
from .mapping import (
    _GUESSES,
    _IGNORED_HEADERS,
    _IGNORED_PHRASES,
    FIELD_LABELS,
    FIELDS,
    REQUIRED,
    _ignored,
    _words,
    check_mapping,
    guess_area_unit,
    guess_mapping,
)
from .reading import (
    _FAR_CELL,
    _UNPLACED,
    OLE2,
    XLSX_MAIN,
    Table,
    _calamine_cell,
    _calamine_rows,
    _check_grid,
    _check_xlsx,
    _column_letter,
    _csv_rows,
    _display,
    _encoding_message,
    _not_a_table,
    _NotForCalamine,
    _openpyxl_rows,
    _too_many_rows,
    _trim,
    _xlsx_rows,
    read_table,
    sniff,
)
from .report import (
    _FORMULA_START,
    _safe,
    report_csv,
)
from .template import (
    template_example,
    template_xlsx,
)
from .validation import (
    _BRANCH_PREFIXES,
    _COMMUNE_PREFIXES,
    _DMY,
    _GENDERS,
    _MAX_LENGTHS,
    _PROVINCE_PREFIXES,
    _YMD,
    Places,
    Row,
    _digits_cell,
    _error_text,
    _label,
    _parse_area,
    _parse_date,
    _parse_decimal,
    _strip_prefix,
    _text,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_UNPACKED",
    "HEADER_SCAN",
    "BATCH",
    "STALE_AFTER",
    "EXAMPLE_CCCD",
    "OUTCOMES",
    "ImportFileError",
    "FIELDS",
    "FIELD_LABELS",
    "REQUIRED",
    "_GUESSES",
    "_IGNORED_HEADERS",
    "_IGNORED_PHRASES",
    "_ignored",
    "_words",
    "guess_mapping",
    "guess_area_unit",
    "check_mapping",
    "OLE2",
    "XLSX_MAIN",
    "Table",
    "_display",
    "sniff",
    "_not_a_table",
    "_check_xlsx",
    "_trim",
    "_too_many_rows",
    "_FAR_CELL",
    "_UNPLACED",
    "_NotForCalamine",
    "_check_grid",
    "_calamine_cell",
    "_calamine_rows",
    "_xlsx_rows",
    "_openpyxl_rows",
    "_csv_rows",
    "_encoding_message",
    "read_table",
    "_column_letter",
    "_text",
    "_digits_cell",
    "_DMY",
    "_YMD",
    "_parse_date",
    "_GENDERS",
    "_parse_area",
    "_parse_decimal",
    "_strip_prefix",
    "_PROVINCE_PREFIXES",
    "_COMMUNE_PREFIXES",
    "_BRANCH_PREFIXES",
    "Places",
    "Row",
    "_label",
    "_error_text",
    "_MAX_LENGTHS",
    "S",
    "EDITABLE_STATUSES",
    "Importer",
    "_changes",
    "_not_editable",
    "may_import",
    "create_import",
    "start_import",
    "expire_stale",
    "may_retry",
    "retry_import",
    "_counts",
    "run_import",
    "_FORMULA_START",
    "_safe",
    "report_csv",
    "template_example",
    "template_xlsx",
]
