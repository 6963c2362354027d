"""Member import from Excel/CSV: files good and bad, rows good and bad, the mapping step,
idempotent re-imports, per-row atomicity, the report, the template round trip, the
progress JSON and the query budget of the list. Scope is in test_import_scope.py."""

import csv
import datetime
import io
import threading
import unicodedata
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from farmers import crypto, imports, selectors, services, tasks
from farmers.models import Member, MemberEvent, MemberImport

HEADERS = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "SĐT", "Xã/Phường",
           "Thôn/Ấp", "Chi hội", "Diện tích (m2)", "Cây trồng chính", "Ngân hàng",
           "Số tài khoản", "Chủ tài khoản"]  # fmt: skip


def person(i: int, **overrides) -> list:
    """A valid row of HEADERS for a member of Ea Kiết (Đắk Lắk): CCCD matches the date
    of birth and gender; the phone is a valid Vietnamese mobile number."""
    year = 1950 + i % 50
    male = i % 2 == 0
    values = {
        "STT": i,
        "Họ và tên": f"Nguyễn Văn Thử {i}",
        "Ngày sinh": f"{1 + i % 28:02d}/{1 + i % 12:02d}/{year}",
        "Giới tính": "Nam" if male else "Nữ",
        "Số CCCD": f"066{0 if male else 1}{year % 100:02d}{i:06d}",
        "SĐT": f"0912{i:06d}",
        "Xã/Phường": "Ea Kiết",
        "Thôn/Ấp": f"Thôn {i % 9 + 1}",
        "Chi hội": "",
        "Diện tích (m2)": 1000 + i,
        "Cây trồng chính": "Cà phê",
        "Ngân hàng": "",
        "Số tài khoản": "",
        "Chủ tài khoản": "",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def xlsx(rows, headers=HEADERS, title=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, delimiter=",", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode(encoding)


def run_file(world, capture, data, *, role="branch", name="danh-sach.xlsx", mapping=None):
    """Upload through the pages, accept the guessed mapping (with `mapping` changes),
    run the (eager) task on commit and return the import."""
    client = world.client(role)
    response = client.post(reverse("farmers:import-new"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    post = {field: form[field].value() or "" for field in form.fields}
    post.update(mapping or {})
    with capture(execute=True):
        started = client.post(response["Location"], post)
    assert started.status_code == 302, started.content.decode()[:3000]
    record = MemberImport.objects.latest("pk")
    assert started["Location"] == reverse("farmers:import-detail", args=[record.pk])
    return record


def outcomes(record) -> dict:
    return {entry["row"]: entry["outcome"] for entry in record.report}


def messages_of(record) -> dict:
    return {entry["row"]: entry["message"] for entry in record.report}


# --- Guessing, reading cells ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["STT", "Họ và tên", "Số CCCD", "SĐT", "Ngày sinh", "Giới tính", "Tỉnh/Thành phố",
             "Xã/Phường", "Thôn/Ấp/Địa chỉ", "Chi hội", "Diện tích", "Cây trồng/vật nuôi chính",
             "HTX", "Ngân hàng", "Số tài khoản", "Chủ tài khoản"],
            {"full_name": 1, "cccd": 2, "phone": 3, "date_of_birth": 4, "gender": 5,
             "province_code": 6, "commune_code": 7, "street": 8, "branch": 9, "farm_area_m2": 10,
             "main_products": 11, "cooperative": 12, "bank_bin": 13, "bank_account": 14,
             "bank_holder": 15},
        ),
        (
            ["ho ten", "so cccd", "dien thoai", "ngay sinh", "gioi tinh", "xa phuong",
             "ten ngan hang", "STK", "Ten chu TK", "Hợp tác xã", "Tình trạng"],
            {"full_name": 0, "cccd": 1, "phone": 2, "date_of_birth": 3, "gender": 4,
             "commune_code": 5, "bank_bin": 6, "bank_account": 7, "bank_holder": 8,
             "cooperative": 9},
        ),
        (
            ["Full name", "Citizen ID", "Phone", "Date of birth", "Commune/ward", "E-mail"],
            {"full_name": 0, "cccd": 1, "phone": 2, "date_of_birth": 3, "commune_code": 4,
             "email": 5},
        ),
    ],
)  # fmt: skip
def test_the_mapping_is_guessed_from_headers_with_or_without_diacritics(headers, expected):
    assert imports.guess_mapping(headers) == expected


def test_our_template_headers_are_recognised_in_both_languages():
    for language in ("vi", "en"):
        with translation.override(language):
            headers = [str(label) for _key, label in imports.FIELDS]
            assert imports.guess_mapping(headers) == {
                key: index for index, (key, _label) in enumerate(imports.FIELDS)
            }


def test_dates_areas_and_numbers_are_read_as_vietnamese_lists_write_them():
    day = datetime.date(1978, 3, 12)
    for value in ("12/03/1978", "12/3/1978", "1978-03-12", "12-03-1978", "12.03.1978",
                  datetime.datetime(1978, 3, 12), day, 28561, "1978-03-12 00:00:00"):  # fmt: skip
        assert imports._parse_date(value) == day, value
    for value in ("31/02/1978", "78", "12/03/78", "hôm qua", True):
        with pytest.raises((ValueError, TypeError)):
            imports._parse_date(value)
    assert imports._parse_area("1,5 ha", "m2") == 15000
    assert imports._parse_area("1.5", "ha") == 15000
    assert imports._parse_area("15.000", "m2") == 15000
    assert imports._parse_area("2000 m²", "ha") == 2000
    assert imports._parse_area(0.3, "ha") == 3000
    assert imports._parse_area("1.234,4", "m2") == 1234
    with pytest.raises(ValueError):
        imports._parse_area("2 sào", "m2")


# --- Good files ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_excel_list_becomes_draft_members_with_their_history(
    world, django_capture_on_commit_callbacks
):
    rows = [person(1), person(2, **{"Số CCCD": int("066052000002"), "SĐT": 912000002}),
            person(3, **{"Ngày sinh": datetime.datetime(1953, 4, 4), "Diện tích (m2)": "1,5 ha",
                         "Ngân hàng": "agribank", "Số tài khoản": 5100205123403,
                         "Chủ tài khoản": "Nguyễn Văn Thử 3"})]  # fmt: skip
    record = run_file(world, django_capture_on_commit_callbacks, xlsx(rows, title="DANH SÁCH"))
    assert record.status == "done", record.error
    assert record.header_row == 3  # the title rows above the headers are skipped
    assert (record.total_rows, record.processed_rows, record.created_count) == (3, 3, 3), (
        messages_of(record)
    )
    assert set(outcomes(record).values()) == {"created"}
    members = {
        m.full_name: m for m in Member.objects.filter(full_name__startswith="Nguyễn Văn Thử")
    }
    assert len(members) == 3
    second, third = members["Nguyễn Văn Thử 2"], members["Nguyễn Văn Thử 3"]
    # Excel dropped the leading zeros of the numbers: given back.
    assert second.cccd_last3 == "002" and second.phone == "+84912000002"
    assert (third.date_of_birth, third.farm_area_m2) == (datetime.date(1953, 4, 4), 15000)
    assert (third.bank_bin, third.bank_account, third.bank_holder) == (
        "970405", "5100205123403", "NGUYEN VAN THU 3",
    )  # fmt: skip
    for member in members.values():
        assert member.status == "draft" and member.branch == world.ea_kiet
        assert member.created_by == world.users["branch"]
        (event,) = member.events.all()
        assert (event.action, event.actor, event.actor_role, event.to_status) == (
            "registered", world.users["branch"], "branch", "draft",
        )  # fmt: skip
        with translation.override(record.language):
            note = gettext("Imported from “%(file)s” (import #%(number)s).")
        assert event.reason == note % {"file": "danh-sach.xlsx", "number": record.pk}
    assert {entry["member"] for entry in record.report} == {m.pk for m in members.values()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom"),
    [(",", "utf-8", False), (";", "utf-8", True), ("\t", "utf-16", False), (",", "utf-8", True)],
)
def test_csv_with_or_without_bom_and_with_semicolons_is_read(
    world, django_capture_on_commit_callbacks, delimiter, encoding, bom
):
    data = csv_bytes([person(11), person(12)], delimiter=delimiter, encoding=encoding)
    if bom:
        data = "\ufeff".encode() + data
    record = run_file(world, django_capture_on_commit_callbacks, data, name="ds.csv")
    assert record.file_format == "csv"
    assert (record.status, record.created_count, record.error_count) == ("done", 2, 0)
    assert Member.objects.filter(
        full_name="Nguyễn Văn Thử 12", commune_code=world.ea_kiet.commune_code
    ).exists()


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_nothing(world, django_capture_on_commit_callbacks):
    data = xlsx([person(i) for i in range(20, 30)] + [person(
        0, **{"Họ và tên": "Nguyễn Thị Lan", "Ngày sinh": "12/03/1978", "Giới tính": "Nữ",
              "Số CCCD": "066178001234", "SĐT": "0905123404", "Thôn/Ấp": "Thôn 3",
              "Diện tích (m2)": 15000, "Ngân hàng": "970405", "Số tài khoản": "5100205123404",
              "Chủ tài khoản": "Nguyễn Thị Lan"})])  # fmt: skip
    first = run_file(world, django_capture_on_commit_callbacks, data)
    assert (first.created_count, first.unchanged_count, first.error_count) == (10, 1, 0)
    members, events = Member.objects.count(), MemberEvent.objects.count()
    updated = {m.pk: m.updated for m in Member.objects.all()}
    second = run_file(world, django_capture_on_commit_callbacks, data)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 11)
    assert (Member.objects.count(), MemberEvent.objects.count()) == (members, events)
    assert {m.pk: m.updated for m in Member.objects.all()} == updated


@pytest.mark.django_db
def test_changes_update_drafts_and_returned_applications_only(
    world, django_capture_on_commit_callbacks
):
    branch = world.users["branch"]
    lan = person(0, **{"Họ và tên": "Nguyễn Thị Lan", "Ngày sinh": "12/03/1978",
                       "Giới tính": "Nữ", "Số CCCD": "066178001234",
                       "SĐT": "0905 999 888"})  # fmt: skip
    record = run_file(world, django_capture_on_commit_callbacks, xlsx([lan, person(40)]))
    assert outcomes(record) == {2: "updated", 3: "created"}
    world.member.refresh_from_db()
    assert world.member.phone == "+84905999888"
    assert world.member.street == "Thôn 1"  # the file's address; the bank stays (empty cells)
    assert world.member.bank_account == "5100205123404"
    edit = world.member.events.filter(action="edited").get()
    assert (edit.actor, edit.actor_role) == (branch, "branch")
    assert "phone" in edit.reason
    with translation.override(record.language):
        assert gettext("Phone") in record.report[0]["message"]
    # Submitted: the same change again is skipped with a reason, and nothing changes.
    services.transition(actor=branch, role="branch", member=world.member, action="submit")
    lan_again = lan.copy()
    lan_again[HEADERS.index("SĐT")] = "0905 111 222"
    record = run_file(world, django_capture_on_commit_callbacks, xlsx([lan_again, person(40)]))
    assert outcomes(record) == {2: "skipped", 3: "unchanged"}
    world.member.refresh_from_db()
    assert world.member.phone == "+84905999888" and world.member.status == "submitted"
    assert world.member.get_status_display() in record.report[0]["message"]
    # Returned for changes: updated again.
    services.transition(actor=branch, role="branch", member=world.member, action="return",
                        reason="Sai số điện thoại")  # fmt: skip
    record = run_file(world, django_capture_on_commit_callbacks, xlsx([lan_again]))
    assert outcomes(record) == {2: "updated"}
    world.member.refresh_from_db()
    assert world.member.phone == "+84905111222" and world.member.status == "returned"


@pytest.mark.django_db
def test_members_outside_the_scope_are_never_changed_nor_shown(
    world, django_capture_on_commit_callbacks
):
    other = world.other  # Rơ Lan Hyơn, Chư Sê (Gia Lai): outside Ea Kiết's scope
    before = Member.objects.filter(pk=other.pk).values().get()
    row = person(0, **{"Họ và tên": "Tên Khác", "Ngày sinh": "30/06/1988", "Giới tính": "Nữ",
                       "Số CCCD": "064188002961", "SĐT": "0905000001"})  # fmt: skip
    elsewhere = person(50, **{"Chi hội": "Chi hội Chư Sê"})
    unknown = person(51, **{"Chi hội": "Chi hội Không Có"})
    record = run_file(world, django_capture_on_commit_callbacks, xlsx([row, elsewhere, unknown]))
    assert outcomes(record) == {2: "skipped", 3: "error", 4: "error"}
    skipped = record.report[0]
    assert skipped["member"] is None and skipped["name"] == "Tên Khác"
    assert "Rơ Lan" not in str(record.report) and "Chư Sê" not in skipped["message"]
    assert Member.objects.filter(pk=other.pk).values().get() == before
    assert not Member.objects.filter(full_name="Nguyễn Văn Thử 50").exists()
    with translation.override(record.language):
        assert (
            gettext("The branch “%(name)s” is outside your scope.") % {"name": "Chi hội Chư Sê"}
            in record.report[1]["message"]
        )
        assert (
            gettext("Unknown association branch “%(name)s”.") % {"name": "Chi hội Không Có"}
            in record.report[2]["message"]
        )
    page = world.client("branch").get(reverse("farmers:import-detail", args=[record.pk]))
    assert "Rơ Lan" not in page.content.decode()


@pytest.mark.django_db
def test_bad_rows_are_reported_with_reasons_and_the_good_ones_imported(
    world, django_capture_on_commit_callbacks
):
    rows = [
        person(60),
        person(61, **{"Số CCCD": "06610000006"}),  # 11 digits starting with 0: a typo
        person(62, **{"SĐT": "12345"}),
        person(63, **{"Xã/Phường": "Phường Không Tồn Tại"}),
        person(64, **{"Ngày sinh": "31/02/1980"}),
        person(65, **{"Số CCCD": person(60)[HEADERS.index("Số CCCD")]}),  # twice in the file
        person(66, **{"Giới tính": "Khác"}),
        person(67, **{"Ngày sinh": "01/01/1990"}),  # the CCCD says born 1967
        person(68, **{"Họ và tên": ""}),
        person(69, **{"Ngân hàng": "Ngân hàng Mặt Trăng", "Số tài khoản": "123"}),
        person(70, **{"Số CCCD": ""}),
        person(71, **{"Họ và tên": "@Lê Bảy Mốt"}),  # starts like a formula
    ]
    record = run_file(world, django_capture_on_commit_callbacks, xlsx(rows))
    assert record.status == "done"
    result = outcomes(record)
    assert result[2] == "created" and result[13] == "created", messages_of(record)[13]
    assert all(result[row] == "error" for row in range(3, 13)), result
    assert record.created_count == 2 and record.error_count == 10
    message = messages_of(record)
    with translation.override(record.language):
        assert gettext("Citizen ID") in message[3]
        assert gettext("Enter a Vietnamese phone number, e.g. 0912 345 678.") in message[4]
        assert "Phường Không Tồn Tại" in message[5]
        assert gettext("Write the date as dd/mm/yyyy, e.g. 12/03/1978.") in message[6]
        assert gettext("The same citizen ID is already in row %(row)s.") % {"row": 2} in message[7]
        assert gettext("Choose male or female.") in message[8]
        assert "1967" in message[9]  # the CCCD says born 1967
        assert gettext("Enter the member's full name.") in message[10]
        assert "Mặt Trăng" in message[11]
        assert gettext("Enter the citizen ID number.") in message[12]
    assert Member.objects.filter(full_name__startswith="Nguyễn Văn Thử").count() == 1
    report = world.client("branch").get(reverse("farmers:import-report", args=[record.pk]))
    assert "'@Lê Bảy Mốt" in report.content.decode("utf-8-sig")  # not run by Excel


@pytest.mark.django_db
def test_a_row_that_fails_half_way_leaves_nothing_behind(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    """The member row is written, then its history entry fails: the batch is replayed row
    by row, the broken row leaves no member, the others are imported."""
    original = imports.Importer._new_event

    def broken(self, member):
        event = original(self, member)
        if member.full_name == "Hỏng Giữa Chừng":
            event.action = None  # NOT NULL: fails in the database, after the member insert
        return event

    monkeypatch.setattr(imports.Importer, "_new_event", broken)
    rows = [person(80), person(81, **{"Họ và tên": "Hỏng Giữa Chừng"}), person(82)]
    record = run_file(world, django_capture_on_commit_callbacks, xlsx(rows))
    assert outcomes(record) == {2: "created", 3: "error", 4: "created"}
    assert not Member.objects.filter(full_name="Hỏng Giữa Chừng").exists()
    assert (
        Member.objects.filter(full_name__in=["Nguyễn Văn Thử 80", "Nguyễn Văn Thử 82"]).count() == 2
    )
    assert all(
        m.events.count() == 1 for m in Member.objects.filter(full_name__startswith="Nguyễn Văn Thử")
    )


@pytest.mark.django_db
def test_province_staff_get_the_branch_of_the_commune_and_the_operator_names_the_province(
    world, django_capture_on_commit_callbacks
):
    record = run_file(
        world, django_capture_on_commit_callbacks, xlsx([person(90)]), role="province"
    )
    assert record.created_count == 1
    assert Member.objects.get(full_name="Nguyễn Văn Thử 90").branch == world.ea_kiet
    # The operator covers every province: the province column is needed.
    client = world.client("operator")
    upload = client.post(reverse("farmers:import-new"),
                         {"file": SimpleUploadedFile("a.xlsx", xlsx([person(91)]))})  # fmt: skip
    form = client.get(upload["Location"]).context["form"]
    post = {field: form[field].value() or "" for field in form.fields}
    response = client.post(upload["Location"], post)
    assert response.status_code == 200
    with translation.override("vi"):
        expected = gettext("Choose the column with: %(field)s.") % {
            "field": imports.FIELD_LABELS["province_code"]
        }
    assert escape(expected) in response.content.decode()
    headers = [*HEADERS, "Tỉnh"]
    data = xlsx([[*person(92), "Đắk Lắk"]], headers=headers)
    record = run_file(world, django_capture_on_commit_callbacks, data, role="operator")
    assert record.created_count == 1, messages_of(record)
    assert record.organisation is None


@pytest.mark.django_db
def test_the_mapping_must_name_the_needed_columns_once(world):
    client = world.client("branch")
    upload = client.post(reverse("farmers:import-new"),
                         {"file": SimpleUploadedFile("a.xlsx", xlsx([person(93)]))})  # fmt: skip
    record = MemberImport.objects.get()
    assert record.awaiting_mapping and record.total_rows == 1
    # Until mapped, the import's page is its mapping page.
    detail = client.get(reverse("farmers:import-detail", args=[record.pk]))
    assert detail["Location"] == upload["Location"]
    form = client.get(upload["Location"]).context["form"]
    post = {field: form[field].value() or "" for field in form.fields}
    cccd_column = f"col_{HEADERS.index('Số CCCD')}"
    response = client.post(upload["Location"], {**post, cccd_column: ""})
    assert response.status_code == 200
    response = client.post(upload["Location"], {**post, "col_0": "full_name"})
    assert response.status_code == 200
    record.refresh_from_db()
    assert record.awaiting_mapping and record.status == "pending"


# --- Bad files ----------------------------------------------------------------------------------


def _zip(entries: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _xlsm() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx([person(1)])))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/vbaProject.bin"] = b"\x00macro"
    return _zip(entries)


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258, as old Excel versions save CSV: base letters with
    their hats and horns, then a combining tone mark."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in tones))
            out += base.encode("cp1258") + "".join(m for m in marks if m in tones).encode("cp1258")
    return out


GOOD = xlsx([person(1), person(2)])
BAD_FILES = {
    "empty": (b"", "The file is empty."),
    "blank": (b"\r\n  \r\n", "The file is empty."),
    "truncated xlsx": (GOOD[: len(GOOD) // 2], "The Excel file cannot be read"),
    "garbage named csv": (bytes(range(256)) * 40, "This file is not an Excel workbook"),
    "header only": (csv_bytes([]), "The file has column headers but no member rows."),
    "cp1258": (cp1258("Họ và tên,Số CCCD\nNguyễn Thị Lan,066178001234\n"),
               "The file is not in UTF-8"),
    "latin-1": ("Nom,Prénom\nÉlodie,Noël\n".encode("latin-1"), "The file is not in UTF-8"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old Excel file (.xls)"),
    "xlsm": (_xlsm(), "macros"),
    "docx": (_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}),
             "This file is not an Excel workbook"),
    "pdf": (b"%PDF-1.4\n" + b"x" * 100, "This file is not an Excel workbook"),
    "too big": (b"a,b\n" + b"x,y\n" * (imports.MAX_BYTES // 4), "larger than 5 MB"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_a_clear_message(case):
    data, start = BAD_FILES[case]
    with translation.override("en"), pytest.raises(imports.ImportFileError) as info:
        imports.read_table(data)
    assert start in info.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["truncated xlsx", "garbage named csv", "cp1258", "xlsm",
                                  "header only", "empty"])  # fmt: skip
def test_the_upload_page_says_why_and_never_fails(world, case):
    data, _start = BAD_FILES[case]
    name = "ds.csv" if case in ("garbage named csv", "cp1258", "header only") else "ds.xlsx"
    response = world.client("post_office").post(
        reverse("farmers:import-new"), {"file": SimpleUploadedFile(name, data)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not MemberImport.objects.exists()


def test_too_many_rows_are_refused():
    lines = ["Họ và tên,Số CCCD"] + [
        f"Người {i},066178{i:06d}" for i in range(imports.MAX_ROWS + 1)
    ]
    with translation.override("en"), pytest.raises(imports.ImportFileError) as info:
        imports.read_table("\n".join(lines).encode())
    assert "more than 20.000 rows" in info.value.message
    ok = imports.read_table("\n".join(lines[:-1]).encode())
    assert len(ok.rows) == imports.MAX_ROWS


# --- Template, report, progress, list -------------------------------------------------------------


@pytest.mark.django_db
def test_the_template_round_trip(world, django_capture_on_commit_callbacks):
    client = world.client("branch")
    response = client.get(reverse("farmers:import-template"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    with translation.override("vi"):
        assert headers == [str(label) for _key, label in imports.FIELDS]
    example = [cell.value for cell in sheet[2]]
    assert (
        example[imports.FIELDS.index(("branch", imports.FIELD_LABELS["branch"]))]
        == "Chi hội Ea Kiết"
    )
    # Fill it in as staff do (leaving the example row in by mistake), upload, import.
    sheet.append(["Lê Văn Tám", datetime.datetime(1975, 8, 19), "Nam", "066075000808",
                  "0912 000 808", "", "Đắk Lắk", "Xã Ea Kiết", "Buôn Ea Kiết", "", 2000,
                  "Cà phê", "", "Vietcombank", "0071000808", "Lê Văn Tám"])  # fmt: skip
    sheet.append(["Hà Thị Chín", "09/09/1999", "", "066199000909", "0912000909",
                  "chin@example.vn", "", "Ea Kiết", "", "Chi hội Ea Kiết", "0,5 ha", "",
                  "HTX Ea Kiết", "", "", ""])  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    record = run_file(world, django_capture_on_commit_callbacks, out.getvalue(), name="mau.xlsx")
    assert set(record.mapping) == {key for key, _label in imports.FIELDS}  # all guessed
    assert outcomes(record) == {2: "skipped", 3: "created", 4: "created"}
    tam, chin = (
        Member.objects.get(full_name="Lê Văn Tám"),
        Member.objects.get(full_name="Hà Thị Chín"),
    )
    assert (tam.bank_bin, tam.farm_area_m2, tam.street) == ("970436", 2000, "Buôn Ea Kiết")
    assert (chin.gender, chin.email, chin.farm_area_m2, chin.cooperative) == (
        "female", "chin@example.vn", 5000, "HTX Ea Kiết",
    )  # fmt: skip
    assert not Member.objects.filter(full_name="Nguyễn Văn Mẫu").exists()


@pytest.mark.django_db
def test_progress_json_detail_page_and_report_csv(world, django_capture_on_commit_callbacks):
    record = run_file(world, django_capture_on_commit_callbacks,
                      xlsx([person(100), person(101, **{"SĐT": "1"})]))  # fmt: skip
    client = world.client("province")
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert state["status"] == "done" and state["finished"] and state["percent"] == 100
    assert (state["processed"], state["total"]) == (2, 2)
    assert state["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "error": 1}
    assert state["report_url"] == reverse("farmers:import-report", args=[record.pk])
    page = client.get(reverse("farmers:import-detail", args=[record.pk]))
    html = page.content.decode()
    assert "Nguyễn Văn Thử 100" in html and "*********101" in html
    assert "import-progress.js" not in html  # finished: no polling
    errors_only = client.get(
        reverse("farmers:import-detail", args=[record.pk]), {"ket-qua": "error"}
    )
    assert "Nguyễn Văn Thử 101" in errors_only.content.decode()
    assert "Nguyễn Văn Thử 100" not in errors_only.content.decode()
    response = client.get(reverse("farmers:import-report", args=[record.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[1][0] == "2" and rows[2][0] == "3"
    assert rows[1][3] == "*********100" and rows[2][4]
    original = client.get(reverse("farmers:import-file", args=[record.pk]))
    assert b"".join(original.streaming_content) == record.file.open("rb").read()


@pytest.mark.django_db
def test_a_running_import_shows_a_progress_bar_that_polls(
    world, django_capture_on_commit_callbacks
):
    client = world.client("branch")
    upload = client.post(reverse("farmers:import-new"),
                         {"file": SimpleUploadedFile("a.xlsx", xlsx([person(110)]))})  # fmt: skip
    form = client.get(upload["Location"]).context["form"]
    post = {field: form[field].value() or "" for field in form.fields}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # a worker would run it
        client.post(upload["Location"], post)
    assert len(callbacks) == 1
    record = MemberImport.objects.get()
    html = client.get(reverse("farmers:import-detail", args=[record.pk])).content.decode()
    assert "farmers/import-progress.js" in html and 'http-equiv="refresh"' in html
    assert "<progress" in html
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert (state["status"], state["finished"], state["report_url"]) == ("pending", False, None)
    callbacks[0]()
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert state["status"] == "done" and state["counts"]["created"] == 1
    # The task runs an import once, however often it is delivered.
    assert tasks.run_member_import(record.pk) == "skipped"
    assert Member.objects.filter(full_name="Nguyễn Văn Thử 110").count() == 1


@pytest.mark.django_db
def test_an_import_whose_worker_died_is_failed_with_a_message(
    world, django_capture_on_commit_callbacks
):
    client = world.client("branch")
    upload = client.post(reverse("farmers:import-new"),
                         {"file": SimpleUploadedFile("a.xlsx", xlsx([person(120)]))})  # fmt: skip
    form = client.get(upload["Location"]).context["form"]
    post = {field: form[field].value() or "" for field in form.fields}
    with django_capture_on_commit_callbacks(execute=False):  # the worker that will die
        client.post(upload["Location"], post)
    record = MemberImport.objects.get()
    long_ago = timezone.now() - imports.STALE_AFTER * 2
    MemberImport.objects.filter(pk=record.pk).update(
        status="running", queued_at=long_ago, started_at=long_ago, heartbeat_at=long_ago
    )
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert state["status"] == "failed" and state["finished"]
    assert "ngừng phản hồi lúc" in state["error"]  # the worker "stopped responding at"
    retry = reverse("farmers:import-retry", args=[record.pk])
    assert state["retry_url"] == retry
    page = client.get(reverse("farmers:import-detail", args=[record.pk])).content.decode()
    assert f'action="{retry}"' in page and "Nhập lại tệp này" in page
    # Run again from the stored file (in-process here): done, the member imported once.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(retry).status_code == 302
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert state["status"] == "done" and state["retry_url"] is None
    assert Member.objects.filter(full_name="Nguyễn Văn Thử 120").count() == 1


@pytest.mark.django_db
def test_an_import_with_a_live_heartbeat_keeps_running(world):
    client = world.client("branch")
    client.post(reverse("farmers:import-new"),
                {"file": SimpleUploadedFile("a.xlsx", xlsx([person(121)]))})  # fmt: skip
    record = MemberImport.objects.get()
    now = timezone.now()
    MemberImport.objects.filter(pk=record.pk).update(
        status="running",
        queued_at=now - imports.STALE_AFTER * 10,
        started_at=now - imports.STALE_AFTER * 10,
        heartbeat_at=now - imports.STALE_AFTER / 2,
    )
    state = client.get(reverse("farmers:import-progress", args=[record.pk])).json()
    assert state["status"] == "running" and not state["finished"] and state["retry_url"] is None


@pytest.mark.django_db
def test_the_import_list_keeps_a_constant_number_of_queries(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = world.client("province")
    client.get(reverse("farmers:imports"))  # the first page of a session opens a basket
    counts = {}
    for total in (1, 6):
        while MemberImport.objects.count() < total:
            role = "branch" if MemberImport.objects.count() % 2 else "province"
            run_file(world, django_capture_on_commit_callbacks,
                     xlsx([person(130 + MemberImport.objects.count())]), role=role)  # fmt: skip
        with django_assert_max_num_queries(20) as captured:
            response = client.get(reverse("farmers:imports"))
        assert response.content.decode().count("danh-sach.xlsx") == total
        counts[total] = len(captured)
    assert counts[1] == counts[6]


# --- PostgreSQL: two imports of the same file at once -------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_create_each_member_once(world):
    from tests.conftest import need

    need(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")
    data = xlsx([person(i) for i in range(200, 1400)])  # several batches
    user = world.users["branch"]
    membership = selectors.membership_for(user)
    records = []
    for _ in range(2):
        record = imports.create_import(
            actor=user, role="branch", membership=membership,
            upload=SimpleUploadedFile("ds.xlsx", data),
        )  # fmt: skip
        mapping = imports.guess_mapping(record.headers)
        MemberImport.objects.filter(pk=record.pk).update(mapping=mapping, queued_at=timezone.now())
        records.append(record)
    barrier = threading.Barrier(2)
    results = []

    def run(pk):
        from django.db import connections

        try:
            barrier.wait()
            results.append(imports.run_import(pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(r.pk,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["done", "done"]
    assert Member.objects.filter(full_name__startswith="Nguyễn Văn Thử").count() == 1200
    assert (
        MemberEvent.objects.filter(member__full_name__startswith="Nguyễn Văn Thử").count() == 1200
    )
    first, second = (MemberImport.objects.get(pk=r.pk) for r in records)
    assert first.created_count + second.created_count == 1200
    assert first.error_count == second.error_count == 0
    assert first.unchanged_count + second.unchanged_count == 1200


def test_the_calamine_reader_reads_what_openpyxl_reads():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Ngày sinh", "Số", "Bool", None, "Cuối"])
    sheet.append(["Lan", datetime.datetime(1978, 3, 12), 66178001234, True, None, 1.5])
    sheet["B3"] = datetime.date(2000, 1, 2)
    sheet["C4"] = 0.25
    sheet["C4"].number_format = "0%"
    sheet["F6"] = "=1+1"  # a formula without a cached value: empty, as openpyxl says
    for epoch in (openpyxl.utils.datetime.CALENDAR_WINDOWS_1900,
                  openpyxl.utils.datetime.CALENDAR_MAC_1904):  # fmt: skip
        workbook.epoch = epoch
        out = io.BytesIO()
        workbook.save(out)
        data = out.getvalue()
        assert imports._calamine_rows(data) == imports._openpyxl_rows(data)
        assert imports._calamine_rows(data)[1][1][1] == datetime.datetime(1978, 3, 12)
    template = xlsx([person(1), person(2)], title="Tiêu đề")
    assert imports._calamine_rows(template) == imports._openpyxl_rows(template)


def test_calamine_cells_keep_text_exact_and_give_whole_numbers_back():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "SĐT", "Số CCCD", "Ngày sinh", "Diện tích"])
    sheet.append(["  Lê  Thị Lan ", "0912345678", 66178001234, datetime.date(1978, 3, 12), 0.5])
    sheet.append([])  # an empty row: skipped, the row numbers stay those Excel shows
    sheet.append(["Y Bhim", 84912345678.0, "066178001235", "12/03/1978", 1500.0])
    sheet.append([None, None, None, None, None])
    out = io.BytesIO()
    workbook.save(out)
    rows = imports._calamine_rows(out.getvalue())
    assert rows == imports._openpyxl_rows(out.getvalue())
    assert [number for number, _cells in rows] == [1, 2, 4]
    lan, bhim = rows[1][1], rows[2][1]
    assert lan[1] == "0912345678"  # a text cell keeps its leading zero
    assert lan[2] == 66178001234 and isinstance(lan[2], int)
    assert lan[3] == datetime.datetime(1978, 3, 12)
    assert lan[4] == 0.5
    assert bhim[1] == 84912345678 and isinstance(bhim[1], int)
    assert imports._digits_cell(bhim[1]) == "84912345678"
    assert imports._digits_cell(84912345678.0) == "84912345678"
    assert imports._parse_date(lan[3]) == imports._parse_date(bhim[3]) == datetime.date(1978, 3, 12)
    assert bhim[4] == 1500 and imports._parse_area(bhim[4], "m2") == 1500


@pytest.mark.django_db
def test_phones_and_ids_typed_as_numbers_or_text_import_alike(
    world, django_capture_on_commit_callbacks
):
    one = person(1, **{"SĐT": "0912000001", "Ngày sinh": datetime.date(1951, 2, 2)})
    two = person(2)
    two[HEADERS.index("SĐT")] = 84912000002.0  # a number cell: no leading zero, a float
    two[HEADERS.index("Số CCCD")] = int(two[HEADERS.index("Số CCCD")])  # leading zero lost
    data = xlsx([one, [], two])
    record = run_file(world, django_capture_on_commit_callbacks, data)
    assert record.error_count == 0, record.report
    assert record.created_count == 2
    first, second = (Member.objects.get(full_name=f"Nguyễn Văn Thử {i}") for i in (1, 2))
    assert first.date_of_birth == datetime.date(1951, 2, 2)
    assert str(first.phone).endswith("912000001") and str(second.phone).endswith("912000002")
    assert second.cccd_hash == crypto.keyed_hash(person(2)[HEADERS.index("Số CCCD")])


def test_a_sheet_with_a_far_away_cell_is_streamed_by_openpyxl():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append(person(1))
    sheet["A500000"] = "ghi chú"  # calamine would make a grid of 500,000 rows
    sheet["ZZ2"] = "x"  # beyond the columns read: left out, as before
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    with pytest.raises(imports._NotForCalamine):
        imports._check_grid(data)
    table = imports.read_table(data)
    assert [number for number, _cells in table.rows] == [2, 500000]
    assert table.rows[0][1] == imports._openpyxl_rows(xlsx([person(1)]))[1][1]
    imports._check_grid(xlsx([person(1)]))  # an ordinary list is read by calamine


def _broken_sheet() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx([person(1)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]  # cut in the middle of the XML
            target.writestr(info, content)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, start",
    [
        (b"%PDF-1.4\n" + b"x" * 100, "Tệp này không phải"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Tệp này không phải"),
        (_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}),
         "Tệp này không phải"),
        (_broken_sheet(), "Không đọc được tệp Excel"),
    ],
)  # fmt: skip
def test_a_file_renamed_xlsx_gets_a_vietnamese_message_not_an_error(world, data, start):
    response = world.client("post_office").post(
        reverse("farmers:import-new"),
        {"file": SimpleUploadedFile("danh-sach.xlsx", data)},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 200
    assert any(e.startswith(start) for e in response.context["form"].errors["file"]), (
        response.context["form"].errors
    )
    assert not MemberImport.objects.exists()


@pytest.mark.django_db
def test_superscript_digits_and_foreign_phones_fail_their_row_not_the_import(
    world, django_capture_on_commit_callbacks
):
    """ "²" passes str.isdigit() but not int(): the row says why, the others are imported."""
    rows = [
        person(80),
        person(81, **{"Số CCCD": "066²81000081"}),
        person(82, **{"SĐT": "+1 650 253 0000"}),
        person(83, **{"Xã/Phường": "²"}),
    ]
    record = run_file(world, django_capture_on_commit_callbacks, xlsx(rows))
    assert record.status == "done"
    assert outcomes(record) == {2: "created", 3: "error", 4: "error", 5: "error"}
    message = messages_of(record)
    with translation.override(record.language):
        assert gettext("Citizen ID") in message[3]
        assert gettext("Enter a Vietnamese phone number, e.g. 0912 345 678.") in message[4]
