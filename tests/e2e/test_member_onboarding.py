"""Onboarding in a real browser: branch staff registers a member with an ID photo and
submits; a second staff member (the provincial association) verifies and approves; the
farmer activates the account with the code and signs in on a phone."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from farmers import senders
from marketplace.core import geo

pytestmark = pytest.mark.e2e
PASSWORD = "nongsan2026"


@pytest.fixture
def desk(browser):
    """Office PCs of the staff: closed before the live server stops."""
    contexts = []

    def open_page():
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 900}))
        page = contexts[-1].new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "cccd.jpg"
    out = io.BytesIO()
    Image.new("RGB", (800, 500), (210, 225, 240)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def _sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login-username]", email)
    page.fill("input[name=login-password]", PASSWORD)
    page.click("button[name=login_submit]")
    expect(page).not_to_have_url(re.compile("/accounts/login/"))


def test_staff_register_verify_approve_and_the_farmer_activates(
    desk, phone, live_demo, settings, tmp_path, photo
):
    settings.ACTIVATION_SENDER = "farmers.senders.LocmemSender"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    senders.outbox.clear()
    base = live_demo

    # 1. The Ea Kiết branch registers a member at the office PC.
    staff = desk()
    _sign_in(staff, base, "canbohoi@nongsan.test")
    staff.goto(f"{base}/can-bo/")
    staff.get_by_role("link", name=re.compile("Register a member|Đăng ký hội viên")).first.click()
    staff.fill("input[name=full_name]", "Ksor Thị Hoa")
    staff.fill("input[name=date_of_birth]", "1992-05-17")
    staff.select_option("select[name=gender]", "female")
    staff.fill("input[name=cccd]", "066192003456")
    staff.fill("input[name=phone]", "0935 111 222")
    staff.select_option("select[name=commune_code]", str(geo.find_commune(66, "Ea Kiết")))
    staff.fill("input[name=street]", "Buôn Ea Kiết")
    staff.fill("input[name=farm_area]", "0.8")
    staff.select_option("select[name=farm_area_unit]", "ha")
    staff.fill("input[name=main_products]", "Cà phê")
    staff.get_by_role("button", name=re.compile("Save|Lưu")).click()
    expect(staff.locator("body")).to_contain_text("*********456")
    expect(staff.locator("body")).not_to_contain_text("066192003456")

    # ID photos (front and back), consent to selling, submit.
    for kind in ("cccd_front", "cccd_back"):
        staff.select_option("select[name=kind]", kind)
        staff.set_input_files("input[name=image]", str(photo))
        staff.get_by_role("button", name=re.compile("Upload|Tải lên")).click()
    expect(staff.locator("img[alt]")).to_have_count(2)
    staff.locator("form[action$='/dong-y/']").first.locator("button").click()
    staff.locator("button[value=submit]").click()
    expect(staff.locator("button[value=verify]")).to_be_visible()
    member_url = staff.url

    # 2. The provincial association verifies and approves.
    province = desk()
    _sign_in(province, base, "canbotinh.daklak@nongsan.test")
    province.goto(member_url)
    province.locator("button[value=verify]").click()
    province.locator("button[value=approve]").click()
    expect(province.locator(".alert-success").first).to_be_visible()
    expect(province.locator("button[value=approve]")).to_have_count(0)

    # 3. The farmer gets the code and activates on a phone, then signs in with the phone.
    [message] = [m for m in senders.outbox if m["phone"] == "+84935111222"]
    code = re.search(r"\b\d{6}\b", message["message"])[0]
    phone.goto(f"{base}/can-bo/kich-hoat/?so=0935111222")
    phone.fill("input[name=code]", code)
    phone.fill("input[name=password1]", "Ca-phe-Ea-Kiet-2026")
    phone.fill("input[name=password2]", "Ca-phe-Ea-Kiet-2026")
    phone.locator("form button[type=submit]").last.click()
    expect(phone.locator("body")).to_contain_text("Ksor Thị Hoa")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.context.clear_cookies()
    # Her record asks her to sign in, on the one sign-in page, with her phone number.
    phone.goto(f"{base}/can-bo/toi/")
    phone.fill("input[name=login-username]", "0935 111 222")
    phone.fill("input[name=login-password]", "Ca-phe-Ea-Kiet-2026")
    phone.locator("button[name=login_submit]").click()
    expect(phone).to_have_url(re.compile("/can-bo/toi/$"))
    expect(phone.locator("body")).to_contain_text("Ksor Thị Hoa")
