"""Cached trace pages are answered before the rest of the middleware (sessions, locale,
auth, basket, URL resolving), and never outlive a change of the lot."""

import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from traceability import caching, recalls, views
from traceability.models import FarmEvent, Scan, SerialNumber

from .conftest import GTIN13

pytestmark = pytest.mark.django_db


@pytest.fixture
def view_calls(monkeypatch):
    calls = []
    original = views._trace

    def counting(request, **kwargs):
        calls.append(request.path)
        return original(request, **kwargs)

    monkeypatch.setattr(views, "_trace", counting)
    return calls


def test_a_warm_page_skips_the_view_and_is_byte_identical(client, gtin_lot, view_calls):
    url = f"/t/{gtin_lot.short_code}/"
    first = client.get(url)
    assert view_calls == [url]
    second = client.get(url)
    assert view_calls == [url]  # answered by traceability.middleware
    assert second.status_code == 200
    assert second.content == first.content
    for header in ("ETag", "Cache-Control", "Content-Language", "Content-Type"):
        assert second[header] == first[header]
    assert "sessionid" not in second.cookies and "csrftoken" not in second.cookies
    # Each opening is still a scan; a 304 is not.
    assert Scan.objects.filter(lot=gtin_lot).count() == 2
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert Scan.objects.filter(lot=gtin_lot).count() == 2


def test_each_language_and_link_form_is_kept_apart(client, gtin_lot, view_calls):
    vi_page = client.get(f"/t/{gtin_lot.short_code}/")
    en_page = client.get(f"/en/t/{gtin_lot.short_code}/")
    dl = f"/01/{GTIN13}/10/DEMO-NS0005"
    assert client.get(dl)["Location"] == f"/t/{gtin_lot.short_code}/"  # the default link
    assert client.get(f"/en{dl}")["Location"] == f"/en/t/{gtin_lot.short_code}/"
    assert len(view_calls) == 2
    assert client.get(f"/en/t/{gtin_lot.short_code}/").content == en_page.content
    assert client.get(f"/t/{gtin_lot.short_code}/").content == vi_page.content
    assert vi_page.content != en_page.content
    client.get(dl)
    assert len(view_calls) == 2


def test_a_digital_link_is_one_cached_redirect_to_the_page(
    client, gtin_lot, monkeypatch, django_assert_num_queries
):
    """GS1-Conformant Resolver: no linkType → a 307 to the default link (the trace page at
    the short link). Warm, the redirect is answered by the middleware (no view, no SQL),
    and the page behind it too (its scan recorded as before): two cached answers."""
    resolved = []
    original = views._resolve
    monkeypatch.setattr(
        views,
        "_resolve",
        lambda request, link, **kw: resolved.append(1) or original(request, link, **kw),
    )
    dl = f"/01/0{GTIN13}/10/DEMO-NS0005"
    page = f"/t/{gtin_lot.short_code}/"
    first = client.get(dl)
    assert first.status_code == 307 and first["Location"] == page and resolved == [1]
    client.get(page)  # warms the page
    with django_assert_num_queries(0):
        again = client.get(dl)
    shown = client.get(again["Location"])  # the cached page (test_a_warm_page_skips_…)
    assert resolved == [1]
    assert again.status_code == 307 and again["Location"] == page
    for header in ("Link", "Access-Control-Allow-Origin", "Vary"):
        assert again[header] == first[header]
    assert shown.status_code == 200 and "DEMO-NS0005" in shown.content.decode()
    # An English browser: one redirect, straight to the English page (kept apart).
    english = client.get(dl, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 307 and english["Location"] == f"/en{page}"
    assert client.get(dl, HTTP_ACCEPT_LANGUAGE="en")["Location"] == f"/en{page}"
    assert client.get(dl, HTTP_ACCEPT_LANGUAGE="vi")["Location"] == page
    assert resolved == [1, 1]


def test_a_new_event_or_a_recall_goes_through_the_view_at_once(
    client, gtin_lot, view_calls, django_capture_on_commit_callbacks
):
    url = f"/t/{gtin_lot.short_code}/"
    client.get(url)
    client.get(url)
    assert len(view_calls) == 1
    from traceability import services

    services.record_event(
        lot=gtin_lot,
        by=None,
        kind=FarmEvent.Kind.SHIPPING,
        event_time=timezone.now(),
        details={"carrier": "Bưu điện Đắk Lắk", "destination": "Kho Hà Nội"},
    )
    fresh = client.get(url)
    assert len(view_calls) == 2 and "Kho Hà Nội" in fresh.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        _recall_as_operator(gtin_lot)
    recalled = client.get(url)
    assert len(view_calls) == 3
    assert "Dư lượng vượt mức" in recalled.content.decode()


def _recall_as_operator(lot):
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.get(email="quantri@nongsan.test")
    recalls.recall_lot(lot=lot, by=operator, reason="Dư lượng vượt mức")


def test_query_strings_serials_and_posts_always_reach_the_view(client, gtin_lot, view_calls):
    url = f"/t/{gtin_lot.short_code}/"
    client.get(url)
    client.get(url + "?linkType=all")
    client.head(url)
    assert len(view_calls) == 3


def test_an_entry_is_not_used_once_the_head_is_gone(client, gtin_lot, view_calls):
    url = f"/t/{gtin_lot.short_code}/"
    client.get(url)
    cache.delete(caching.head_key(gtin_lot.pk))
    client.get(url)
    assert len(view_calls) == 2


def test_with_a_broker_shortcut_scans_go_in_batches(client, gtin_lot, settings, monkeypatch):
    from traceability import scans

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(scans.record_scan, "delay", lambda *a: sent.append(("one", a)))
    monkeypatch.setattr(scans.record_scans, "delay", lambda items: sent.append(("many", items)))
    monkeypatch.setattr(scans, "BATCH_SIZE", 3)
    monkeypatch.setattr(scans, "BATCH_SECONDS", 3600)
    scans.flush_scans()
    url = f"/t/{gtin_lot.short_code}/"
    client.get(url)  # the view: its scan waits in the worker too
    client.get(url)
    assert sent == []  # with a shortcut scan
    client.get(url)
    assert [kind for kind, _ in sent] == ["many"]
    batch = sent[-1][1]
    assert len(batch) == 3 and {item[0] for item in batch} == {gtin_lot.pk}
    client.get(url)
    scans.flush_scans()  # at exit, nothing is left behind
    assert [kind for kind, _ in sent] == ["many", "many"] and len(sent[-1][1]) == 1
    # A serialised label's scan is sent on its own (its page reads the count at once).
    SerialNumber.objects.create(lot=gtin_lot, serial="A0001")
    client.get(f"{url}A0001/")
    assert [kind for kind, _ in sent] == ["many", "many", "one"]

    # The task writes a batch in one INSERT.
    before = Scan.objects.filter(lot=gtin_lot).count()
    scans.record_scans(batch)
    assert Scan.objects.filter(lot=gtin_lot).count() == before + 3


# --- Language: the browser's, until the scanner chooses -----------------------------------


def test_an_english_browser_is_sent_to_the_english_page(client, gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 302 and response["Location"] == f"/en{url}"
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]
    dl = client.get(f"/01/{GTIN13}/10/DEMO-NS0005", HTTP_ACCEPT_LANGUAGE="en")
    assert dl.status_code == 307 and dl["Location"] == f"/en{url}"  # one redirect
    english = client.get(f"/en{url}", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200 and english["Content-Language"] == "en"


@pytest.mark.parametrize(
    "header", ["", "vi-VN,vi;q=0.9,en;q=0.8", "vi", "fr-FR,fr;q=0.9", "*", "xx;q=bad"]
)
def test_other_browsers_get_the_vietnamese_page(client, gtin_lot, header):
    url = f"/t/{gtin_lot.short_code}/"
    for _ in range(2):  # the view, then the cached shortcut
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=header)
        assert response.status_code == 200 and response["Content-Language"] == "vi"
        assert "Accept-Language" in response["Vary"]


def test_the_switch_remembers_the_choice(client, gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    switch = re.search(r'href="([^"]*ngon-ngu/vi/[^"]*)"', english.content.decode()).group(1)
    back = client.get(switch.replace("&amp;", "&"), HTTP_ACCEPT_LANGUAGE="en")
    assert back.status_code == 302 and back["Location"] == url
    # An English browser that chose Vietnamese stays on the Vietnamese page.
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page["Content-Language"] == "vi"
    client.get("/en/ngon-ngu/en/?next=" + url)
    assert client.get(url)["Location"] == f"/en{url}"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_the_switch_never_leaves_the_site(client, target):
    response = client.get("/ngon-ngu/en/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/en/"
    assert client.get("/ngon-ngu/fr/").status_code == 404
