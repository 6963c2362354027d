"""The template workbook: our columns, their headers and one example row."""

import datetime
import io

from django.utils.translation import gettext as _

from marketplace.core import geo

from .. import selectors
from .common import EXAMPLE_CCCD
from .mapping import FIELDS


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
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    example = template_example(user, membership)

    def style(sheet, index, key):
        letter = get_column_letter(index)
        if key == "date_of_birth":
            sheet.column_dimensions[letter].number_format = "DD/MM/YYYY"
            sheet.cell(row=2, column=index).number_format = "DD/MM/YYYY"
        if key == "gender":
            rule = DataValidation(type="list", formula1='"Nam,Nữ"', allow_blank=True)
            sheet.add_data_validation(rule)
            rule.add(f"{letter}2:{letter}20001")

    return workbook_xlsx(
        title=_("Members"),
        fields=FIELDS,
        rows=[[example[key] for key, _label in FIELDS]],
        text_columns=("cccd", "phone", "bank_account"),
        notes=(
            _("One member per row, from row 2. Delete the grey example row (it is never "
              "imported)."),
            _("Required: full name, date of birth, citizen ID (12 digits), phone, "
              "commune/ward."),
            _("Date of birth: dd/mm/yyyy. Gender: Nam or Nữ (if empty, read from the citizen "
              "ID)."),
            _("Province and branch may stay empty: yours are used. Communes by their name, "
              "e.g. Xã Ea Kiết."),
            _("Bank: short name (e.g. Agribank, Vietcombank); give bank, account number and "
              "holder together."),
            _("Importing the same file again changes nothing; members already submitted are "
              "never changed by an import."),
        ),
        style=style,
    )  # fmt: skip


def workbook_xlsx(*, title, fields, rows, text_columns=(), notes=(), style=None, grey_rows=1):
    """A template workbook: a sheet `title` with the headers of `fields` ((key, label),
    ...) and `rows` under them (the first `grey_rows` greyed as examples), columns in
    `text_columns` kept as text (leading zeros), and a sheet of instructions `notes`.
    `style(sheet, column, key)` adds a column's own format."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = str(title)[:31]
    keys = [key for key, _label in fields]
    labels = dict(fields)
    sheet.append([str(label) for _key, label in fields])
    for row in rows:
        sheet.append(row)
    bold, grey = Font(bold=True), Font(italic=True, color="808080")
    fill = PatternFill("solid", fgColor="E2EFDA")
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(row=1, column=index)
        head.font, head.fill = bold, fill
        for number in range(2, 2 + min(grey_rows, len(rows))):
            sheet.cell(row=number, column=index).font = grey
        sheet.column_dimensions[letter].width = max(14, len(str(labels[key])) + 4)
        if key in text_columns:
            # Text columns: Excel keeps the leading zeros of what people type in them.
            sheet.column_dimensions[letter].number_format = "@"
            for number in range(2, 2 + len(rows)):
                sheet.cell(row=number, column=index).number_format = "@"
        if style is not None:
            style(sheet, index, key)
    sheet.freeze_panes = "A2"
    instructions = workbook.create_sheet(_("Instructions")[:31])
    instructions.column_dimensions["A"].width = 110
    for line in notes:
        instructions.append([line])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
