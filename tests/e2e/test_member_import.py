"""Importing a member list in a real browser: the branch downloads the template, fills it
in a spreadsheet, uploads it, checks the column mapping and sees the per-row report; then
reads the same pages in English."""

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from farmers.models import Member
from tests.e2e.test_member_onboarding import _sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def office(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def test_branch_imports_its_member_list_from_the_template(office, live_demo, tmp_path):
    page, base = office, live_demo
    _sign_in(page, base, "canbohoi@nongsan.test")
    page.goto(f"{base}/can-bo/")
    page.get_by_role("link", name="Nhập danh sách hội viên").first.click()
    expect(page).to_have_url(re.compile(r"/can-bo/nhap-hoi-vien/$"))

    with page.expect_download() as download:
        page.locator("a[href$='/nhap-hoi-vien/mau.xlsx']").first.click()
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)

    # The association fills the sheet below the example row, as they would in Excel.
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    header_row = next(
        r for r in range(1, 6) if any(c.value for c in sheet[r]) and sheet.cell(r + 1, 1).value
    )
    example = [c.value for c in sheet[header_row + 1]]
    headers = [str(c.value or "") for c in sheet[header_row]]

    def row(**changes):
        values = list(example)
        for needle, value in changes.items():
            index = next(i for i, h in enumerate(headers) if needle.lower() in h.lower())
            values[index] = value
        return values

    sheet.append(row(**{"Họ": "Lê Văn Nhập", "CCCD": "066080009871", "điện thoại": "0935111333"}))
    sheet.append(
        row(
            **{
                "Họ": "Trần Thị Bảng Tính",
                "CCCD": "066180009872",
                "điện thoại": "0935111444",
                "Giới tính": "Nữ",
            }
        )
    )
    sheet.append(row(**{"Họ": "Số điện thoại sai", "CCCD": "066080009873", "điện thoại": "123"}))
    filled = tmp_path / "danh-sach.xlsx"
    book.save(filled)

    page.get_by_role("link", name=re.compile("Nhập danh sách|Tải lên", re.I)).first.click()
    page.set_input_files("input[type=file]", str(filled))
    page.get_by_role("button", name="Tải lên và ghép cột").click()
    # The mapping step guessed every column from our own headers.
    expect(page.locator("select").first).not_to_have_value("")
    page.get_by_role("button", name="Nhập", exact=True).click()

    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    body = page.locator("body")
    expect(body).to_contain_text("Lê Văn Nhập")
    expect(body).to_contain_text("Số điện thoại sai")
    expect(body).to_contain_text("Nhập số điện thoại Việt Nam")  # why the row was refused
    imported = Member.objects.filter(full_name__in=["Lê Văn Nhập", "Trần Thị Bảng Tính"])
    assert sorted(m.status for m in imported) == [Member.Status.DRAFT] * 2
    assert not Member.objects.filter(full_name="Số điện thoại sai").exists()

    with page.expect_download() as report:
        page.locator("a[href$='/bao-cao.csv']").first.click()
    with open(report.value.path(), encoding="utf-8-sig") as csv_file:
        text = csv_file.read()
    assert "Lê Văn Nhập" in text and "Số điện thoại sai" in text

    # The same page in English.
    page.goto(page.url.replace(base, f"{base}/en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#import-status")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Lê Văn Nhập")
