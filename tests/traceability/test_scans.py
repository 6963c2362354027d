"""Scan records: every QR opening of a trace page is counted (never with an IP address),
serialised labels warn of copies, scanners may share a province, producers see the chart."""

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from traceability import scans
from traceability.models import Lot, Scan, SerialNumber

from .conftest import FARMER, GTIN13, sign_in

pytestmark = pytest.mark.django_db
IP = "203.0.113.7"
PHONE = "Mozilla/5.0 (Linux; Android 10; Redmi 9A)"
SERIAL_WARNING = (
    "This code has been scanned %(n)s time, first on %(date)s — if you just bought this "
    "product new, it may be counterfeit.",
    "This code has been scanned %(n)s times, first on %(date)s — if you just bought this "
    "product new, it may be counterfeit.",
)


def vi(message, plural=None, n=None) -> str:
    """`message` as a Vietnamese page shows it (English until the lead translates it)."""
    with translation.override("vi"):
        return gettext(message) if plural is None else ngettext(message, plural, n)


def warned(html) -> bool:
    start = vi(*SERIAL_WARNING, 6).split("%(n)s")[0]
    return start in html


def phone(ip=IP, agent=PHONE) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)


def expected_visitor(ip=IP, agent=PHONE) -> str:
    key = hashlib.sha256(
        b"nongsan.traceability.scan-visitor:" + settings.SECRET_KEY.encode()
    ).digest()
    return hmac.new(key, f"{ip}\n{agent}".encode(), hashlib.sha256).hexdigest()


def test_each_opening_is_a_scan_with_language_and_a_keyed_visitor_hash(gtin_lot):
    before = timezone.now()
    assert phone().get(f"/t/{gtin_lot.short_code}/").status_code == 200
    # A Digital Link: a 307 to the page, which is the scan.
    assert phone().get(f"/en/01/{GTIN13}/10/DEMO-NS0005", follow=True).status_code == 200
    assert phone(agent="Other phone").get(f"/t/{gtin_lot.short_code}/").status_code == 200
    rows = list(Scan.objects.filter(lot=gtin_lot).order_by("pk"))
    assert [s.language for s in rows] == ["vi", "en", "vi"]
    assert all(
        s.scanned_at >= before and s.serial is None and s.province_code is None for s in rows
    )
    # Same phone, same visitor; another phone, another one. The IP is stored nowhere.
    assert rows[0].visitor == rows[1].visitor == expected_visitor()
    assert rows[2].visitor != rows[0].visitor and len(rows[2].visitor) == 64
    for scan in rows:
        assert IP not in str(scan.__dict__)
        assert hashlib.sha256(IP.encode()).hexdigest() != scan.visitor


def test_behind_the_reverse_proxy_the_forwarded_address_tells_phones_apart(gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    proxy = "10.0.0.2"
    Client(REMOTE_ADDR=proxy, HTTP_USER_AGENT=PHONE, HTTP_X_FORWARDED_FOR=IP).get(url)
    Client(REMOTE_ADDR=proxy, HTTP_USER_AGENT=PHONE, HTTP_X_FORWARDED_FOR="198.51.100.9").get(url)
    visitors = list(Scan.objects.order_by("pk").values_list("visitor", flat=True))
    assert visitors[0] == expected_visitor(ip=IP)
    assert visitors[1] == expected_visitor(ip="198.51.100.9")


def test_not_scans_304_link_lists_head_and_redirects(gtin_lot):
    client = phone()
    url = f"/t/{gtin_lot.short_code}/"
    etag = client.get(url)["ETag"]
    assert Scan.objects.count() == 1
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(f"{url}?linkType=all").status_code == 200
    assert client.head(url).status_code == 200
    assert client.get(f"{url}?linkType=pip").status_code == 307
    assert client.get("/t/ZZZZZZZZ/").status_code == 404
    assert Scan.objects.count() == 1


def test_with_a_broker_the_warm_page_makes_no_query(
    gtin_lot, monkeypatch, django_assert_num_queries
):
    """In production the scan goes to the broker: the request itself stays at 0 queries.
    (Eagerly, as in the other tests, the task's one INSERT runs inside the request.)"""
    sent = []
    monkeypatch.setattr(scans.record_scan, "delay", lambda *args: sent.append(args))
    url = f"/t/{gtin_lot.short_code}/"
    phone().get(url)
    with django_assert_num_queries(0):
        assert phone().get(url).status_code == 200
    lot_id, serial_id, language, visitor, scanned_at = sent[-1]
    assert (lot_id, serial_id, language, visitor) == (gtin_lot.pk, None, "vi", expected_visitor())
    # The worker then records it, in one query.
    with django_assert_num_queries(1):
        scans.record_scan(*sent[-1])
    assert Scan.objects.get().visitor == expected_visitor()


def test_a_broker_outage_does_not_break_the_trace_page(gtin_lot, monkeypatch):
    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(scans.record_scan, "delay", down)
    assert phone().get(f"/t/{gtin_lot.short_code}/").status_code == 200
    assert not Scan.objects.exists()


def test_serials_resolve_by_digital_link_and_short_link_and_unknown_ones_are_404(gtin_lot):
    serial = SerialNumber.objects.create(lot=gtin_lot, serial="A0001")
    SerialNumber.objects.create(lot=Lot.objects.get(code="DEMO-NS0001"), serial="B0001")
    for url in (
        f"/01/{GTIN13}/10/DEMO-NS0005/21/A0001",
        f"/t/{gtin_lot.short_code}/A0001/",
        f"/t/{gtin_lot.short_code.lower()}/A0001/",
    ):
        response = phone().get(url, follow=True)  # a Digital Link: one 307 to the page
        assert response.status_code == 200, url
        assert len(response.redirect_chain) == url.startswith("/01/")
        assert "A0001" in response.content.decode()
        assert response["Cache-Control"] == "private, no-cache" and not response.has_header("ETag")
    assert Scan.objects.filter(serial=serial, lot=gtin_lot).count() == 3
    # A serial of another lot, an unknown one, a malformed one: 404, and not a scan; the
    # Digital Link walks up to the lot's link instead (GS1-Conformant Resolver).
    walked = phone().get(f"/01/{GTIN13}/10/DEMO-NS0005/21/B0001")
    assert walked.status_code == 307 and walked["Location"].endswith("/10/DEMO-NS0005")
    for url in (
        f"/t/{gtin_lot.short_code}/B0001/",
        f"/t/{gtin_lot.short_code}/NOPE/",
        f"/t/{gtin_lot.short_code}/a*b/",
    ):
        assert phone().get(url).status_code == 404, url
    assert Scan.objects.count() == 3
    # The lot page itself (cached, shared by every serial) shows no serial.
    html = phone().get(f"/t/{gtin_lot.short_code}/").content.decode()
    assert "A0001" not in html and scans.SERIAL_MARKER not in html


def make_scans(serial, visitors, *, days_ago=10, networks=None, gaps=None):
    """Scans of `serial` by `visitors`, the first `days_ago` days ago, an hour apart (or
    `gaps`, timedeltas after the first), from `networks` (none: recorded before networks)."""
    first = timezone.now() - timedelta(days=days_ago)
    gaps = gaps or [timedelta(hours=i) for i in range(len(visitors))]
    networks = networks or [""] * len(visitors)
    Scan.objects.bulk_create(
        [
            Scan(
                lot=serial.lot,
                serial=serial,
                scanned_at=first + gap,
                visitor=v,
                network=n,
            )
            for v, n, gap in zip(visitors, networks, gaps, strict=True)
        ]
    )
    return first


def net(ip) -> str:
    """The network hash a scan from `ip` is recorded with."""
    return scans.network_hash(RequestFactory().get("/", REMOTE_ADDR=ip))


def test_a_code_seen_in_a_third_place_hours_later_warns_of_a_copy(gtin_lot):
    """The shop, then the buyer's home 7 hours later: a genuine label. The same code in a
    third place days later looks like a second package: the warning."""
    serial = SerialNumber.objects.create(lot=gtin_lot, serial="C0001")
    url = f"/t/{gtin_lot.short_code}/C0001/"
    shop, home = "192.0.2.10", "198.51.100.20"
    first = make_scans(
        serial,
        ["a" * 64, "b" * 64, "b" * 64],
        networks=[net(shop), net(home), net(home)],
        gaps=[timedelta(0), timedelta(hours=7), timedelta(hours=8)],
    )
    # Back home (same network, another browser): still two places, no warning.
    assert not warned(phone(ip="198.51.100.21", agent="Firefox").get(url).content.decode())
    # A third place: the warning, with the count and the first date.
    html = phone(ip="203.0.113.99").get(url).content.decode()
    date = timezone.localtime(first).strftime("%d/%m/%Y")
    assert warned(html) and vi(*SERIAL_WARNING, 5) % {"n": 5, "date": date} in html
    assert 'role="alert"' in html


def test_one_visitor_reloading_with_other_browsers_is_not_a_copy(gtin_lot):
    SerialNumber.objects.create(lot=gtin_lot, serial="F0001")
    url = f"/t/{gtin_lot.short_code}/F0001/"
    agents = ["Chrome", "Firefox", "Zalo in-app", "Cốc Cốc", "Samsung Internet", "Opera"]
    # Ten openings, six browsers, addresses of one network: one scanner.
    for i in range(10):
        html = phone(ip=f"203.0.113.{i + 1}", agent=agents[i % len(agents)]).get(url)
        assert not warned(html.content.decode()), i
    assert Scan.objects.filter(serial__serial="F0001").values("visitor").distinct().count() > 1
    assert Scan.objects.filter(serial__serial="F0001").values("network").distinct().count() == 1


def test_networks_seen_within_minutes_are_one_scanner(gtin_lot):
    """A phone hopping between Wi-Fi and mobile data in the shop shows three networks in
    forty minutes: one sighting. With the buyer's home later, two: no warning."""
    serial = SerialNumber.objects.create(lot=gtin_lot, serial="G0001")
    make_scans(
        serial,
        ["a" * 64, "b" * 64, "c" * 64],
        networks=[net("192.0.2.1"), net("198.51.100.1"), net("100.64.0.1")],
        gaps=[timedelta(0), timedelta(minutes=20), timedelta(minutes=40)],
    )
    html = phone(ip="203.0.113.50").get(f"/t/{gtin_lot.short_code}/G0001/").content.decode()
    assert not warned(html)
    assert scans.count_sightings([timezone.now()] * 3) == 1


def test_network_prefixes():
    assert scans.network_prefix("203.0.113.7") == "203.0.113.0/24"
    assert scans.network_prefix("2001:db8:1:2::7") == "2001:db8:1::/48"
    assert scans.network_prefix("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert scans.network_prefix("not an address") == "not an address"


def test_one_phone_reopening_its_own_label_is_not_a_copy(gtin_lot):
    serial = SerialNumber.objects.create(lot=gtin_lot, serial="D0001")
    make_scans(serial, [expected_visitor()] * 10, networks=[net(IP)] * 10)
    html = phone().get(f"/t/{gtin_lot.short_code}/D0001/").content.decode()
    assert not warned(html) and "D0001" in html


def test_a_serial_page_keeps_the_lot_page_cached_and_costs_one_aggregate_query(
    gtin_lot, django_assert_num_queries
):
    """Budget of a warm serial page: 1 query (the serial with its scan counts, one
    aggregate) + 1 (the scan's INSERT, run eagerly here; in production on the worker)."""
    SerialNumber.objects.create(lot=gtin_lot, serial="E0001")
    SerialNumber.objects.create(lot=gtin_lot, serial="E0002")
    phone().get(f"/t/{gtin_lot.short_code}/E0001/")  # warms the lot page
    with django_assert_num_queries(2) as queries:
        response = phone().get(f"/t/{gtin_lot.short_code}/E0002/")
    assert "E0002" in response.content.decode() and "E0001" not in response.content.decode()
    assert 'FROM "traceability_serialnumber"' in queries.captured_queries[0]["sql"]
    assert 'INSERT INTO "traceability_scan"' in queries.captured_queries[1]["sql"]


def test_a_scanner_may_share_a_province_on_a_small_page_with_csrf(gtin_lot):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP, HTTP_USER_AGENT=PHONE)
    trace = client.get(f"/t/{gtin_lot.short_code}/")
    html = trace.content.decode()
    share_url = f"/truy-xuat/{gtin_lot.short_code}/chia-se-tinh/"
    # The public page keeps its public cache: it holds a GET form, no CSRF token.
    assert trace["Cache-Control"] == "public, max-age=300"
    assert f'action="{share_url}"' in html and "csrfmiddlewaretoken" not in html
    assert 'method="get"' in html

    page = client.get(f"{share_url}?tinh=66")
    assert page.status_code == 200 and "no-cache" in page["Cache-Control"]
    assert re.search(r'<option value="66" selected>', page.content.decode())
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    # Without the token (a forged cross-site POST): refused.
    assert client.post(share_url, {"tinh": "66"}).status_code == 403
    assert Scan.objects.get().province_code is None

    response = client.post(share_url, {"tinh": "66", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Scan.objects.get().province_code == 66
    thanks = client.get(response["Location"]).content.decode()
    assert (
        vi(
            "Thank you: the producer now knows which province this product reached. Nothing "
            "else about you is stored."
        )
        in thanks
    )


def test_only_the_latest_scan_of_that_phone_gets_the_province(gtin_lot):
    client = phone()
    url = f"/t/{gtin_lot.short_code}/"
    client.get(url)
    client.get(url)
    phone(agent="Someone else").get(url)
    client.post(f"/truy-xuat/{gtin_lot.short_code}/chia-se-tinh/", {"tinh": "66"})
    rows = list(Scan.objects.order_by("pk").values_list("province_code", flat=True))
    assert rows == [None, 66, None]


def test_bad_province_input_gets_a_clear_error(gtin_lot):
    client = phone()
    client.get(f"/t/{gtin_lot.short_code}/")
    share_url = f"/truy-xuat/{gtin_lot.short_code}/chia-se-tinh/"
    for value in ("", "abc", "999", "-1"):
        response = client.post(share_url, {"tinh": value})
        assert response.status_code == 400, value
        assert vi("Please choose a province from the list.") in response.content.decode()
    # A phone that never scanned this lot has nothing to attach a province to.
    response = phone(agent="Never scanned").post(share_url, {"tinh": "66"})
    assert response.status_code == 400
    no_scan = vi(
        "We have no scan of this product from your phone yet: open its trace page by "
        "scanning the QR code first."
    )
    assert no_scan in response.content.decode()
    assert not Scan.objects.exclude(province_code=None).exists()
    assert client.get("/truy-xuat/ZZZZZZZZ/chia-se-tinh/").status_code == 404
    assert client.get("/truy-xuat/not-a-code/chia-se-tinh/").status_code == 404


def test_the_producer_sees_scans_over_time_scanners_and_provinces(
    client, gtin_lot, django_assert_max_num_queries
):
    now = timezone.now()
    Scan.objects.bulk_create(
        [
            Scan(lot=gtin_lot, scanned_at=now, visitor="a" * 64, province_code=66),
            Scan(lot=gtin_lot, scanned_at=now, visitor="b" * 64, province_code=66),
            Scan(lot=gtin_lot, scanned_at=now - timedelta(days=2), visitor="a" * 64),
            Scan(
                lot=gtin_lot, scanned_at=now - timedelta(days=3), visitor="c" * 64, province_code=1
            ),
            Scan(lot=gtin_lot, scanned_at=now - timedelta(days=45), visitor="d" * 64),
        ]
    )
    other = Lot.objects.get(code="DEMO-NS0001")
    Scan.objects.create(lot=other, scanned_at=now, visitor="e" * 64)
    summary = scans.lot_scan_summary(gtin_lot.pk)
    assert (summary["total"], summary["visitors"], summary["last_30"]) == (5, 4, 4)
    assert len(summary["bars"]) == 30 and summary["bars"][-1].count == 2
    assert summary["bars"][-1].percent == 100 and summary["bars"][-3].percent == 50
    assert summary["bars"][-1].day == timezone.localdate()
    assert summary["provinces_shared"] == 3

    sign_in(client, FARMER)
    with django_assert_max_num_queries(30):
        response = client.get(f"/lo-hang/{gtin_lot.pk}/")
    html = response.content.decode()
    assert vi("%(n)s scan", "%(n)s scans", 5) % {"n": 5} in html
    assert vi("%(n)s distinct scanner", "%(n)s distinct scanners", 4) % {"n": 4} in html
    assert "Đắk Lắk: 2" in html and "Hà Nội: 1" in html
    assert html.count('style="flex:1;') == 30
    assert "height:100%" in html and "height:50%" in html
