"""QR codes and printable label sheets of a lot: what a farmer downloads and prints, and
what a buyer's phone reads off the printed label."""

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.utils import timezone
from oscar.core.loading import get_model
from PIL import Image, ImageDraw

from marketplace.shops.services import open_producer_shop
from traceability import labels, qr
from traceability.gs1 import product_gtin
from traceability.models import SHORT_CODE_ALPHABET, LabelSheet, Lot, SerialNumber

from .conftest import BUYER, FARMER, GTIN13, OPERATOR, POST_OFFICE, sign_in

Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db

HOST = "https://nongsan.example"  # SITE_BASE_URL: labels never use the request's host
NAME = "Sầu riêng Ri6 Krông Pắc"


@pytest.fixture(autouse=True)
def site_address(settings):
    settings.SITE_BASE_URL = HOST


@pytest.fixture
def plain_lot(traces):
    """The demo farmer's durian lot, its product without a GTIN (short links only)."""
    return Lot.objects.select_related("product", "producer__partner").get(code="DEMO-NS0005")


@pytest.fixture
def farmer(client, traces):
    sign_in(client, FARMER)
    return client


@pytest.fixture
def other_farmer(traces, django_user_model):
    user = django_user_model.objects.create_user(
        username="khac", email="khac@nongsan.test", password="nongsan2026"
    )
    lot = Lot.objects.get(code="DEMO-NS0005")
    open_producer_shop(
        name="Hộ bà Lê Thị Khác",
        kind="household",
        province_code=lot.producer.province_code,
        commune_code=lot.producer.commune_code,
        owner=user,
    )
    return "khac@nongsan.test"


def expected_url(lot, serial=None):
    if lot.product.upc == GTIN13:
        url = f"{HOST}/01/0{GTIN13}/10/{lot.code}"
        return url + (f"/21/{serial}" if serial else "")
    return f"{HOST}/t/{lot.short_code}/" + (f"{serial}/" if serial else "")


def decode(image):
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def rasterise_svg(body: bytes, pixels_per_module=10):
    """Draw the SVG's QR (its viewBox and the runs of its one path) with Pillow: there is
    no SVG renderer on this machine, and the SVG only ever holds these two shapes."""
    text = body.decode()
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', text).group(1))
    path = re.search(r'<path fill="#000" d="([^"]*)"', text).group(1)
    image = Image.new("L", (n * pixels_per_module,) * 2, 255)
    draw = ImageDraw.Draw(image)
    runs = [tuple(map(int, m)) for m in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path)]
    assert "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in runs) == path
    for x, y, w in runs:
        draw.rectangle(
            (
                x * pixels_per_module,
                y * pixels_per_module,
                (x + w) * pixels_per_module - 1,
                (y + 1) * pixels_per_module - 1,
            ),
            fill=0,
        )
    return image, n, runs


def make_sheet(client, lot, capture, **data):
    form = {"size": "L7651", "count": "10", **data}
    with capture(execute=True):
        response = client.post(f"/lo-hang/{lot.pk}/nhan/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    sheet = LabelSheet.objects.filter(lot=lot).latest("pk")
    assert response["Location"] == f"/lo-hang/{lot.pk}/nhan/{sheet.pk}/"
    return sheet


def pdf_pages(client, lot, sheet, scale=300 / 72):
    response = client.get(f"/lo-hang/{lot.pk}/nhan/{sheet.pk}/tai-ve.pdf")
    assert response.status_code == 200
    document = pdfium.PdfDocument(b"".join(response.streaming_content))
    try:
        for page in document:
            text = page.get_textpage().get_text_range()
            yield page.render(scale=scale, grayscale=True).to_pil(), " ".join(text.split())
            page.close()
    finally:
        document.close()


# --- QR downloads ----------------------------------------------------------------------


@pytest.mark.parametrize("with_gtin", [True, False], ids=["gtin", "short-link"])
def test_png_and_svg_downloads_decode_to_the_lots_link(farmer, request, with_gtin):
    lot = request.getfixturevalue("gtin_lot" if with_gtin else "plain_lot")
    url = expected_url(lot)
    assert url.startswith(f"{HOST}/01/0893" if with_gtin else f"{HOST}/t/")

    response = farmer.get(f"/lo-hang/{lot.pk}/ma-qr.png?tai=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="qr-{lot.code}.png"'
    found = decode(Image.open(io.BytesIO(response.content)))
    assert [b.text for b in found] == [url]

    response = farmer.get(f"/lo-hang/{lot.pk}/ma-qr.svg?tai=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == f'attachment; filename="qr-{lot.code}.svg"'
    image, _n, _runs = rasterise_svg(response.content)
    assert [b.text for b in decode(image)] == [url]

    # The decoded link opens that lot's public trace page.
    page = farmer.get(urlsplit(url).path, follow=True)  # a Digital Link: 307 to the page
    assert page.status_code == 200 and lot.code in page.content.decode()


def test_the_qr_has_error_correction_m_and_a_four_module_quiet_zone(farmer, gtin_lot):
    png = Image.open(io.BytesIO(farmer.get(f"/lo-hang/{gtin_lot.pk}/ma-qr.png").content))
    found = decode(png)
    assert len(found) == 1 and found[0].ec_level == "M"
    # 10 pixels a module; a QR of version v has 17 + 4v modules, plus 4 white on each side.
    width, height = png.size
    assert width == height and width % 10 == 0
    modules = width // 10
    assert (modules - 8 - 17) % 4 == 0 and modules - 8 >= 21
    grey = png.convert("L")
    quiet = 4 * 10
    for x in range(width):
        for y in list(range(quiet)) + list(range(height - quiet, height)):
            assert grey.getpixel((x, y)) == 255 and grey.getpixel((y, x)) == 255
    # The finder pattern starts right after the quiet zone, at module (4, 4).
    assert grey.getpixel((quiet + 5, quiet + 5)) == 0
    assert grey.getpixel((width - quiet - 5, quiet + 5)) == 0

    svg = farmer.get(f"/lo-hang/{gtin_lot.pk}/ma-qr.svg").content
    image, n, runs = rasterise_svg(svg)
    assert n == modules
    assert all(x >= 4 and y >= 4 and x + w <= n - 4 and y < n - 4 for x, y, w in runs)
    assert decode(image)[0].ec_level == "M"


def test_label_links_with_and_without_gtin(gtin_lot, plain_lot):
    assert qr.label_url(gtin_lot, "https://nongsan.vn/") == (
        f"https://nongsan.vn/01/0{GTIN13}/10/DEMO-NS0005"
    )
    assert qr.label_url(gtin_lot, "https://nongsan.vn", "ABC234") == (
        f"https://nongsan.vn/01/0{GTIN13}/10/DEMO-NS0005/21/ABC234"
    )
    plain_lot.product.upc = "NS0005"
    assert qr.label_url(plain_lot, "https://nongsan.vn") == (
        f"https://nongsan.vn/t/{plain_lot.short_code}/"
    )
    assert qr.label_url(plain_lot, "https://nongsan.vn", "ABC234") == (
        f"https://nongsan.vn/t/{plain_lot.short_code}/ABC234/"
    )


# --- Label sheets: the round trip ----------------------------------------------------------


def test_a_serialised_sheet_round_trips_from_pdf_to_trace_page(
    farmer, gtin_lot, django_capture_on_commit_callbacks
):
    sheet = make_sheet(
        farmer, gtin_lot, django_capture_on_commit_callbacks, count="70", serialised="on"
    )
    sheet.refresh_from_db()
    assert sheet.status == LabelSheet.Status.DONE and sheet.progress == 70
    serials = set(sheet.serials.values_list("serial", flat=True))
    assert len(serials) == 70

    decoded = []
    per_page = []
    for image, text in pdf_pages(farmer, gtin_lot, sheet):
        found = decode(image)
        assert all(b.valid and b.ec_level == "M" for b in found)
        per_page.append(len(found))
        decoded += [b.text for b in found]
        assert NAME in text and "DEMO-NS0005" in text
    assert per_page == [65, 5]  # 65 labels on the first A4 page, the other 5 on the next
    assert sorted(decoded) == sorted(expected_url(gtin_lot, s) for s in serials)

    farmer.logout()  # a buyer's phone
    for link in decoded:
        response = farmer.get(urlsplit(link).path, follow=True)
        assert response.status_code == 200, link
        assert "DEMO-NS0005" in response.content.decode()


@pytest.mark.parametrize("size", list(labels.LAYOUTS))
def test_every_size_prints_the_short_link_and_the_vietnamese_name(
    farmer, plain_lot, django_capture_on_commit_callbacks, size
):
    layout = labels.LAYOUTS[size]
    sheet = make_sheet(
        farmer, plain_lot, django_capture_on_commit_callbacks, size=size, count=str(layout.per_page)
    )
    pages = list(pdf_pages(farmer, plain_lot, sheet, scale=200 / 72))
    assert len(pages) == 1
    image, text = pages[0]
    found = decode(image)
    assert len(found) == layout.per_page
    assert {b.text for b in found} == {expected_url(plain_lot)}
    assert text.count(NAME) == layout.per_page
    assert text.count("DEMO-NS0005") == layout.per_page
    assert "Hợp tác xã" in text or plain_lot.producer.partner.name.split()[0] in text
    response = farmer.get(urlsplit(found[0].text).path)
    assert response.status_code == 200 and "DEMO-NS0005" in response.content.decode()


def test_serialised_short_links_reach_the_trace_page(
    farmer, plain_lot, django_capture_on_commit_callbacks
):
    sheet = make_sheet(
        farmer, plain_lot, django_capture_on_commit_callbacks, count="8", serialised="on"
    )
    ((image, _text),) = pdf_pages(farmer, plain_lot, sheet)
    links = sorted(b.text for b in decode(image))
    serials = sheet.serials.values_list("serial", flat=True)
    assert links == sorted(expected_url(plain_lot, s) for s in serials)
    farmer.logout()
    for link in links:
        response = farmer.get(urlsplit(link).path)
        assert response.status_code == 200 and "DEMO-NS0005" in response.content.decode()


# --- The farmer's pages -------------------------------------------------------------------------


def test_the_lot_page_offers_the_labels_and_lists_the_sheets(
    farmer, plain_lot, django_capture_on_commit_callbacks
):
    html = farmer.get(f"/lo-hang/{plain_lot.pk}/").content.decode()
    assert f'action="/lo-hang/{plain_lot.pk}/nhan/"' in html
    assert (
        f"/lo-hang/{plain_lot.pk}/ma-qr.png" in html
        and f"/lo-hang/{plain_lot.pk}/ma-qr.svg" in html
    )
    # The lot page's size choices are exactly the layouts the server accepts.
    assert re.findall(r'name="size" value="([^"]+)"', html) == list(labels.LAYOUTS)
    for layout in labels.LAYOUTS.values():
        assert str(layout.label) in html

    sheet = make_sheet(farmer, plain_lot, django_capture_on_commit_callbacks, count="3")
    html = farmer.get(f"/lo-hang/{plain_lot.pk}/").content.decode()
    assert f"/lo-hang/{plain_lot.pk}/nhan/{sheet.pk}/tai-ve.pdf" in html


def test_the_status_page_and_json_show_progress_then_the_download(
    farmer, plain_lot, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    sheet = LabelSheet.objects.create(lot=plain_lot, size="L7159", count=48, created_by=None)
    base = f"/en/lo-hang/{plain_lot.pk}/nhan/{sheet.pk}/"
    html = farmer.get(base).content.decode()
    assert '<progress id="label-sheet-progress" max="48" value="0"' in html
    assert f'data-url="{base}trang-thai.json"' in html
    assert '<noscript><meta http-equiv="refresh"' in html  # readable without JavaScript
    with django_assert_max_num_queries(8):
        state = farmer.get(base + "trang-thai.json").json()
    assert state["status"] == "pending" and state["download_url"] is None
    assert farmer.get(base + "tai-ve.pdf").status_code == 404  # not ready yet

    labels.make_label_sheet(sheet.pk, HOST, "vi")
    response = farmer.get(base + "trang-thai.json")
    assert response["Cache-Control"] == "no-store"
    state = response.json()
    assert state == {
        "status": "done",
        "status_label": str(LabelSheet.Status.DONE.label),
        "progress": 48,
        "count": 48,
        "progress_label": "48 of 48 labels",
        "percent": 100,
        "finished": True,
        "download_url": base + "tai-ve.pdf",
        "error": "",
        "retry_url": None,
    }
    html = farmer.get(base).content.decode()
    assert f'href="{base}tai-ve.pdf"' in html and "/media/" not in html
    download = farmer.get(base + "tai-ve.pdf")
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"DEMO-NS0005-{sheet.pk}.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # Stored under a random name: the media path cannot be guessed from the lot or sheet.
    sheet.refresh_from_db()
    assert re.fullmatch(rf"labels/{plain_lot.pk}-[A-Za-z0-9_-]{{24}}\.pdf", sheet.file.name)


def test_progress_is_written_every_hundred_labels_not_per_label():
    calls = []
    layout = labels.LAYOUTS["L7651"]
    text = labels.LabelText(NAME, "DEMO-NS0005", "HTX")
    serials = [f"S{i:04d}" for i in range(250)]
    labels.render_pdf(
        layout, text, [f"{HOST}/t/X/{s}/" for s in serials], serials=serials, progress=calls.append
    )
    assert calls == [100, 200]


BAD_FORMS = [
    ({"count": "0"}, "Print at least 1 label."),
    ({"count": "5001"}, "Print at most 5000 labels at a time."),
    ({"count": "mười"}, "Enter the number of labels as a whole number, e.g. 65."),
    ({"count": "12.5"}, "Enter the number of labels as a whole number, e.g. 65."),
    ({"count": ""}, "Enter how many labels to print."),
    ({"size": "A3-99"}, "Choose one of the label sizes listed."),
    ({"size": ""}, "Choose a label size."),
]


@pytest.mark.parametrize("data, message", BAD_FORMS)
def test_a_bad_request_is_refused_with_a_message_and_nothing_made(
    farmer, plain_lot, django_capture_on_commit_callbacks, data, message
):
    form = {"size": "L7651", "count": "65", "serialised": "on", **data}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = farmer.post(f"/en/lo-hang/{plain_lot.pk}/nhan/", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not callbacks
    assert not LabelSheet.objects.filter(lot=plain_lot).exists()
    assert not SerialNumber.objects.filter(lot=plain_lot).exists()


# --- Scope -------------------------------------------------------------------------------------


def label_urls(lot, sheet):
    base = f"/lo-hang/{lot.pk}"
    return [
        f"{base}/ma-qr.png",
        f"{base}/ma-qr.svg",
        f"{base}/nhan/",
        f"{base}/nhan/{sheet.pk}/",
        f"{base}/nhan/{sheet.pk}/trang-thai.json",
        f"{base}/nhan/{sheet.pk}/tai-ve.pdf",
    ]


@pytest.fixture
def done_sheet(plain_lot):
    sheet = LabelSheet.objects.create(lot=plain_lot, size="L7165", count=2, serialised=True)
    labels.make_label_sheet(sheet.pk, HOST, "vi")
    sheet.refresh_from_db()
    assert sheet.status == LabelSheet.Status.DONE
    return sheet


def test_another_farmer_gets_404_on_every_labels_url(client, other_farmer, plain_lot, done_sheet):
    sign_in(client, other_farmer)
    for url in label_urls(plain_lot, done_sheet):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/lo-hang/{plain_lot.pk}/nhan/", {"size": "L7651", "count": "5"})
    assert response.status_code == 404
    assert LabelSheet.objects.filter(lot=plain_lot).count() == 1


def test_a_sheet_of_another_lot_is_404_even_under_ones_own_lot(farmer, done_sheet, traces):
    other_lot = Lot.objects.exclude(pk=done_sheet.lot_id).first()
    sign_in(farmer, OPERATOR)  # sees every lot: only the lot-sheet pairing can refuse
    for suffix in ("", "trang-thai.json", "tai-ve.pdf"):
        url = f"/lo-hang/{other_lot.pk}/nhan/{done_sheet.pk}/{suffix}"
        assert farmer.get(url).status_code == 404, url


@pytest.mark.parametrize("email", [FARMER, POST_OFFICE, OPERATOR])
def test_the_owner_staff_in_scope_and_operator_reach_every_labels_url(
    client, plain_lot, done_sheet, email
):
    sign_in(client, email)
    for url in label_urls(plain_lot, done_sheet):
        assert client.get(url).status_code == 200, url


def test_buyers_get_403_and_visitors_are_sent_to_sign_in(client, plain_lot, done_sheet):
    for url in label_urls(plain_lot, done_sheet):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    sign_in(client, BUYER)
    for url in label_urls(plain_lot, done_sheet):
        assert client.get(url).status_code == 403, url


# --- Failures and serial numbers --------------------------------------------------------------


def test_a_failing_task_records_a_readable_error_and_never_stays_running(
    farmer, plain_lot, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(labels, "render_pdf", broken)
    sheet = make_sheet(farmer, plain_lot, django_capture_on_commit_callbacks, count="20")
    sheet.refresh_from_db()
    assert sheet.status == LabelSheet.Status.FAILED
    assert "No space left on device" in sheet.error and sheet.finished_at is not None
    assert not sheet.file
    base = f"/en/lo-hang/{plain_lot.pk}/nhan/{sheet.pk}/"
    state = farmer.get(base + "trang-thai.json").json()
    assert state["status"] == "failed" and state["finished"] and state["download_url"] is None
    assert "No space left on device" in state["error"]
    html = farmer.get(base).content.decode()
    assert "The labels could not be made" in html and "No space left on device" in html
    assert farmer.get(base + "tai-ve.pdf").status_code == 404


def test_an_unknown_stored_size_fails_cleanly(plain_lot):
    sheet = LabelSheet.objects.create(lot=plain_lot, size="XL-1", count=5)
    assert labels.make_label_sheet(sheet.pk, HOST, "en") == "failed"
    sheet.refresh_from_db()
    assert sheet.status == LabelSheet.Status.FAILED and "XL-1" in sheet.error


def test_a_sheet_whose_worker_died_is_shown_as_failed(farmer, plain_lot):
    sheet = LabelSheet.objects.create(
        lot=plain_lot, size="L7651", count=5, status=LabelSheet.Status.RUNNING
    )
    LabelSheet.objects.filter(pk=sheet.pk).update(created_at=timezone.now() - timedelta(hours=1))
    state = farmer.get(f"/lo-hang/{plain_lot.pk}/nhan/{sheet.pk}/trang-thai.json").json()
    assert state["status"] == "failed" and state["finished"] and state["error"]
    sheet.refresh_from_db()
    assert sheet.status == LabelSheet.Status.FAILED


def test_serials_are_unique_readable_and_survive_a_second_run(gtin_lot):
    first = LabelSheet.objects.create(lot=gtin_lot, size="L7651", count=300, serialised=True)
    labels.make_label_sheet(first.pk, HOST, "vi")
    serials = set(first.serials.values_list("serial", flat=True))
    assert len(serials) == 300
    assert all(
        len(s) <= 20 and set(s) <= set(SHORT_CODE_ALPHABET) and not set(s) & set("01OIL")
        for s in serials
    )

    # The task runs again (a worker retry): the same serials, no second set.
    LabelSheet.objects.filter(pk=first.pk).update(status=LabelSheet.Status.RUNNING)
    assert labels.make_label_sheet(first.pk, HOST, "vi") == "done"
    assert set(first.serials.values_list("serial", flat=True)) == serials
    # A finished sheet is left alone.
    assert labels.make_label_sheet(first.pk, HOST, "vi") == "skipped"

    second = LabelSheet.objects.create(lot=gtin_lot, size="L7651", count=300, serialised=True)
    labels.make_label_sheet(second.pk, HOST, "vi")
    assert SerialNumber.objects.filter(lot=gtin_lot).count() == 600
    assert not set(second.serials.values_list("serial", flat=True)) & serials


def test_serials_already_taken_in_the_lot_are_drawn_again(plain_lot, monkeypatch):
    SerialNumber.objects.create(lot=plain_lot, serial="AAAAAAAAAA")
    draws = iter(["AAAAAAAAAA", "BBBBBBBBBB", "AAAAAAAAAA", "CCCCCCCCCC", "DDDDDDDDDD"])
    monkeypatch.setattr(labels, "random_serial", lambda: next(draws))
    sheet = LabelSheet.objects.create(lot=plain_lot, size="L7651", count=3, serialised=True)
    assert sorted(labels.ensure_serials(sheet)) == ["BBBBBBBBBB", "CCCCCCCCCC", "DDDDDDDDDD"]
    assert SerialNumber.objects.filter(lot=plain_lot).count() == 4


def test_seed_demo_makes_one_serialised_sheet_once(traces):
    # settings.DEMO_SEEDERS ran it once already (the demo fixture): it made one sheet.
    sheet = LabelSheet.objects.get()
    assert product_gtin(sheet.lot.product)
    assert sheet.status == LabelSheet.Status.DONE
    assert sheet.serials.count() == sheet.count == 24
    lines = labels.seed_demo(io.StringIO())
    assert f"/lo-hang/{sheet.lot_id}/nhan/{sheet.pk}/" in lines[0]
    assert labels.seed_demo(io.StringIO()) == lines
    assert LabelSheet.objects.count() == 1 and SerialNumber.objects.count() == 24


def test_seed_demo_does_nothing_without_a_gtin(traces):
    LabelSheet.objects.all().delete()
    for product in Product.objects.all():
        if product_gtin(product):
            Product.objects.filter(pk=product.pk).update(upc=f"X{product.pk}")
    assert labels.seed_demo(io.StringIO()) == []
    assert not LabelSheet.objects.exists()
