"""Member import: 10,000 rows from an Excel file, then the same file again.

Run by `make bench` with DATABASE_URL (migrated here; an organisation, a branch and a
staff member are created). Generates an .xlsx of BENCH_IMPORT_ROWS (default 10,000)
members with valid, distinct CCCDs and phones, in the layout of an association's own
list (a title row, Vietnamese headers, dates as dd/mm/yyyy text and as real Excel dates,
CCCDs as numbers that lost their leading zero), and imports it through the same service
the Celery task runs (farmers.imports: create_import checks and reads the upload,
run_import validates and writes). Prints:
- upload:   checking and reading the file when it is uploaded (the request);
- import:   the task's work (read again, validate, write in batches), rows/s;
- again:    the same file imported a second time: every row unchanged, nothing written.
Target: the import of 10,000 rows under 20 s, on SQLite and on PostgreSQL.
"""

import datetime
import io
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

N = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
TARGET_S = 20.0
EMAIL = "bench-import@nongsan.test"


def setup():
    from farmers import services
    from farmers.models import Member, MemberEvent, MemberImport, Organisation
    from marketplace.core import geo
    from marketplace.demo.base import ensure_user

    kind = Organisation.Kind
    province = services.upsert_organisation(
        name="Hội ND Đắk Lắk (bench)", kind=kind.PROVINCIAL_ASSOCIATION, province_code=66
    )
    branch = services.upsert_organisation(
        name="Chi hội Ea Kiết (bench)", kind=kind.ASSOCIATION_BRANCH, province_code=66,
        commune_code=geo.find_commune(66, "Ea Kiết"), parent=province,
    )  # fmt: skip
    user = ensure_user(EMAIL, "Bench", "Import")
    services.assign_staff(user=user, organisation=province)
    # A previous run's members (this is a benchmark database): start from none.
    MemberEvent.objects.filter(member__created_by=user).delete()
    Member.objects.filter(created_by=user).delete()
    MemberImport.objects.filter(created_by=user).delete()
    return user, branch


def workbook(rows: int, branch) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Hội viên")
    sheet.append(["DANH SÁCH HỘI VIÊN CHI HỘI EA KIẾT NĂM 2026"])
    sheet.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "SĐT", "Tỉnh",
                  "Xã/Phường", "Thôn/Buôn", "Chi hội", "Diện tích (ha)", "Cây trồng chính",
                  "Ngân hàng", "Số tài khoản", "Chủ tài khoản"])  # fmt: skip
    family = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Y", "H'", "Đinh", "Võ", "Rơ Lan")
    given = ("Văn An", "Thị Bình", "Văn Cường", "Thị Dung", "Bhim Niê", "Hen Êban", "Thị Lan")
    for i in range(rows):
        year = 1950 + i % 50
        male = i % 2 == 0
        dob = datetime.date(year, 1 + i % 12, 1 + i % 28)
        cccd = f"066{0 if male else 1}{year % 100:02d}{i:06d}"
        name = f"{family[i % len(family)]} {given[i % len(given)]} {i}"
        sheet.append([
            i + 1,
            name,
            dob if i % 2 else dob.strftime("%d/%m/%Y"),  # real Excel dates and text
            "Nam" if male else "Nữ",
            int(cccd),  # a number: Excel drops the leading zero
            f"09{12 + i % 7}{i:06d}" if i % 3 else f"+849{12 + i % 7}{i:06d}",
            "Đắk Lắk",
            "Xã Ea Kiết" if i % 4 else "ea kiet",
            f"Buôn {i % 17 + 1}",
            branch.name,
            round(0.05 + (i % 40) / 10, 2),
            "Cà phê, hồ tiêu" if i % 2 else "Sầu riêng",
            "Agribank" if i % 5 == 0 else "",
            f"5100205{i:06d}" if i % 5 == 0 else "",
            name if i % 5 == 0 else "",
        ])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(user, data: bytes, name: str):
    from farmers import imports, selectors
    from farmers.models import MemberImport

    membership = selectors.membership_for(user)
    role = selectors.role_for(user, membership)
    start = time.perf_counter()
    record = imports.create_import(
        actor=user, role=role, membership=membership,
        upload=SimpleUploadedFile(name, data), language="vi",
    )  # fmt: skip
    upload_s = time.perf_counter() - start
    mapping = imports.guess_mapping(record.headers)
    options = {"area_unit": imports.guess_area_unit(record.headers, mapping)}
    assert not imports.check_mapping(mapping, role=role, columns=len(record.headers)), mapping
    # What start_import saves before it enqueues the task (here run in this process).
    MemberImport.objects.filter(pk=record.pk).update(
        mapping=mapping, options=options, queued_at=timezone.now()
    )
    start = time.perf_counter()
    result = imports.run_import(record.pk)
    import_s = time.perf_counter() - start
    record.refresh_from_db()
    assert result == "done", (result, record.error)
    return record, upload_s, import_s


def main():
    from farmers.models import Member, MemberEvent

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    user, branch = setup()
    start = time.perf_counter()
    data = workbook(N, branch)
    make_s = time.perf_counter() - start
    print(
        f"member import on {connection.vendor}: {N} rows, .xlsx of {len(data) / 1024:.0f} KB "
        f"(generated in {make_s:.1f} s)"
    )
    record, upload_s, import_s = run(user, data, "danh-sach-hoi-vien.xlsx")
    if record.error_count:
        print("  errors:", [e for e in record.report if e["outcome"] == "error"][:5])
    assert record.created_count == N, (record.created_count, record.error_count)
    total = upload_s + import_s
    print(f"upload        {upload_s:8.2f} s  (check and read the file in the request)")
    print(
        f"import        {import_s:8.2f} s  ({N / import_s:,.0f} rows/s; created "
        f"{record.created_count}, errors {record.error_count})"
    )
    print(
        f"upload+import {total:8.2f} s  (target < {TARGET_S:.0f} s) "
        f"{'OK' if total < TARGET_S else 'OVER'}"
    )
    members = Member.objects.filter(created_by=user).count()
    events = MemberEvent.objects.filter(member__created_by=user).count()
    again, upload_again_s, again_s = run(user, data, "danh-sach-hoi-vien.xlsx")
    changed = (
        Member.objects.filter(created_by=user).count() != members
        or MemberEvent.objects.filter(member__created_by=user).count() != events
        or again.created_count
        or again.updated_count
    )
    print(
        f"again         {upload_again_s + again_s:8.2f} s  ({N / again_s:,.0f} rows/s; "
        f"unchanged {again.unchanged_count}, created {again.created_count}, updated "
        f"{again.updated_count}) {'CHANGED SOMETHING' if changed else 'nothing changed'}"
    )
    assert not changed and again.unchanged_count == N


if __name__ == "__main__":
    main()
