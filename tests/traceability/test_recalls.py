"""Recalls: who may recall a lot, what a recall changes (trace page banner at once, the
product withdrawn from the catalogue and the search index), and that exactly the buyers
of orders packed from the lot are e-mailed, once."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from oscar.core.loading import get_model

from marketplace.models import ProductListing, SearchEntry
from traceability import recalls
from traceability.models import LineLot, Lot, Recall, RecallNotice

from .conftest import ASSOCIATION, BUYER, FARMER, OPERATOR, POST_OFFICE, sign_in
from .test_order_lots import line_of, make_buyer, make_order

Product = get_model("catalogue", "Product")
pytestmark = pytest.mark.django_db
REASON = "Phát hiện dư lượng thuốc bảo vệ thực vật vượt ngưỡng."
BANNER = "Recalled: do not eat or use this product"


def vi(message, plural=None, n=None) -> str:
    """`message` as a Vietnamese page shows it (English until the lead translates it)."""
    with translation.override("vi"):
        return gettext(message) if plural is None else ngettext(message, plural, n)


def recall_url(lot):
    return f"/lo-hang/{lot.pk}/thu-hoi/"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def durian(traces):
    return Lot.objects.select_related("product").get(code="DEMO-NS0005")


@pytest.fixture
def orders(durian):
    """Buyers: A has an order with two lines packed from the durian lot (one e-mail), and
    another order not linked to any lot; B (a guest) has one linked order; C bought
    durian too but the line was never linked; D's line is linked to another lot."""
    a = get_user_model().objects.get(email=BUYER)
    c, d = make_buyer("c@nongsan.test"), make_buyer("d@nongsan.test")
    avocado_lot = Lot.objects.get(code="DEMO-NS0007")
    a1 = make_order("NS-300001", a, ["NS0005", "NS0007"])
    LineLot.objects.create(line=line_of(a1, "NS0005"), lot=durian)
    LineLot.objects.create(line=line_of(a1, "NS0007"), lot=avocado_lot)
    a2 = make_order("NS-300002", a, ["NS0005"])
    b1 = make_order("NS-300003", None, ["NS0005"], guest_email="khach@example.vn")
    LineLot.objects.create(line=line_of(b1, "NS0005"), lot=durian)
    c1 = make_order("NS-300004", c, ["NS0005"])
    d1 = make_order("NS-300005", d, ["NS0007"])
    LineLot.objects.create(line=line_of(d1, "NS0007"), lot=avocado_lot)
    return {"a1": a1, "a2": a2, "b1": b1, "c1": c1, "d1": d1}


def test_the_farmer_recalls_with_a_confirmation_step(
    client, durian, orders, django_capture_on_commit_callbacks
):
    trace = Client()
    before = trace.get(f"/t/{durian.short_code}/")  # cached now
    assert vi(BANNER) not in text(before)
    sign_in(client, FARMER)
    # The lot page offers the recall form.
    lot_page = text(client.get(f"/lo-hang/{durian.pk}/"))
    assert f'action="{recall_url(durian)}"' in lot_page
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{20,}"', lot_page)

    step1 = client.post(recall_url(durian), {"reason": REASON})
    assert step1.status_code == 200
    assert vi("This cannot be undone.") in text(step1) and REASON in text(step1)
    orders_line = vi(
        "The buyer of %(n)s order packed from this lot is notified by e-mail.",
        "The buyers of %(n)s orders packed from this lot are notified by e-mail.",
        2,
    )
    assert orders_line % {"n": 2} in text(step1)  # a1 and b1
    assert not Recall.objects.filter(lot=durian).exists()  # nothing happened yet

    with django_capture_on_commit_callbacks(execute=True):
        step2 = client.post(recall_url(durian), {"reason": REASON, "confirm": "1"})
    assert step2.status_code == 302 and step2["Location"] == f"/lo-hang/{durian.pk}/"
    recall = Recall.objects.get(lot=durian)
    assert recall.reason == REASON and recall.recalled_by.email == FARMER

    # The cached trace page changes at once: banner, reason, date, new ETag.
    after = trace.get(f"/t/{durian.short_code}/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    page = text(after)
    assert vi(BANNER) in page and REASON in page
    assert timezone.localtime(recall.recalled_at).strftime("%d/%m/%Y") in page
    english = text(trace.get(f"/en/t/{durian.short_code}/"))
    assert BANNER in english

    # The lot page shows the recall, and no longer the form.
    lot_page = text(client.get(f"/lo-hang/{durian.pk}/"))
    assert REASON in lot_page and f'action="{recall_url(durian)}"' not in lot_page
    notified = vi("Buyers notified: %(sent)s of %(total)s orders.") % {"sent": 2, "total": 2}
    assert notified in lot_page


def test_the_product_is_withdrawn_from_catalogue_and_search(
    client, durian, django_capture_on_commit_callbacks
):
    product = durian.product
    assert SearchEntry.objects.filter(product=product).exists()
    assert Client().get(product.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        recalls.recall_lot(lot=durian, by=None, reason=REASON)
    listing = ProductListing.objects.get(product=product)
    assert listing.status == ProductListing.Status.WITHDRAWN
    assert listing.status_reason == REASON
    product.refresh_from_db()
    assert not product.is_public
    assert not SearchEntry.objects.filter(product=product).exists()
    assert Client().get(product.get_absolute_url()).status_code == 404
    search = text(Client().get("/search/?q=sau+rieng+ri6"))
    assert product.title not in search


def test_an_existing_approved_listing_is_withdrawn_too(durian, django_capture_on_commit_callbacks):
    ProductListing.objects.update_or_create(
        product=durian.product,
        defaults={"producer": durian.producer, "status": ProductListing.Status.APPROVED},
    )
    with django_capture_on_commit_callbacks(execute=True):
        recalls.recall_lot(lot=durian, by=None, reason=REASON)
    assert ProductListing.objects.filter(product=durian.product).count() == 1
    assert (
        ProductListing.objects.get(product=durian.product).status == ProductListing.Status.WITHDRAWN
    )


def test_exactly_the_affected_buyers_are_notified_once(
    durian, orders, django_capture_on_commit_callbacks
):
    operator = get_user_model().objects.get(email=OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        recall = recalls.recall_lot(
            lot=durian, by=operator, reason=REASON, base_url="https://nongsan.vn/"
        )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([BUYER, "khach@example.vn"])
    assert all(len(m.to) == 1 for m in mail.outbox)
    by_order = {n.order.number: n for n in RecallNotice.objects.filter(recall=recall)}
    assert set(by_order) == {"NS-300001", "NS-300003"}
    assert all(n.sent_at is not None for n in by_order.values())
    assert by_order["NS-300003"].email == "khach@example.vn"
    message = next(m for m in mail.outbox if m.to == [BUYER])
    assert "NS-300001" in message.subject and durian.code in message.subject
    assert REASON in message.body and f"https://nongsan.vn/t/{durian.short_code}/" in message.body

    # Run again (a retry, a second worker): nothing more is sent.
    assert recalls.send_recall_notices(recall.pk, "https://nongsan.vn/") == 0
    assert len(mail.outbox) == 2


def test_a_failed_e_mail_is_retried_and_not_lost(
    durian, orders, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(recalls.send_recall_notices, "delay", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        recall = recalls.recall_lot(lot=durian, by=None, reason=REASON)

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(recalls, "send_mail", broken)
    with pytest.raises(OSError):
        recalls.send_recall_notices(recall.pk)
    assert RecallNotice.objects.filter(recall=recall, sent_at=None).count() == 2
    monkeypatch.undo()
    assert recalls.send_recall_notices(recall.pk) == 2
    assert recalls.send_recall_notices(recall.pk) == 0
    assert len(mail.outbox) == 2


def test_bad_input_empty_reason_get_and_a_second_recall(client, durian):
    sign_in(client, FARMER)
    for reason in ("", "   "):
        response = client.post(recall_url(durian), {"reason": reason, "confirm": "1"})
        assert response.status_code == 400
        assert vi("Please say why the lot is recalled.") in text(response)
    response = client.post(recall_url(durian), {"reason": "x" * 2001, "confirm": "1"})
    too_long = vi("The reason is too long: at most %(max)s characters.") % {"max": 2000}
    assert response.status_code == 400 and too_long in text(response)
    assert client.get(recall_url(durian)).status_code == 405
    assert not Recall.objects.filter(lot=durian).exists()

    client.post(recall_url(durian), {"reason": REASON, "confirm": "1"})
    response = client.post(recall_url(durian), {"reason": "Again", "confirm": "1"}, follow=True)
    assert vi("This lot has already been recalled.") in text(response)
    assert Recall.objects.get(lot=durian).reason == REASON
    with pytest.raises(Exception) as excinfo:
        recalls.recall_lot(lot=durian, by=None, reason="Again")
    assert vi("This lot has already been recalled.") in str(excinfo.value)


def test_scope_who_may_recall(client, durian):
    from marketplace.shops.services import open_producer_shop

    other = make_buyer("khac@nongsan.test")
    open_producer_shop(
        name="Hộ bà Lê Thị Khác",
        kind="household",
        province_code=durian.producer.province_code,
        commune_code=durian.producer.commune_code,
        owner=other,
    )
    data = {"reason": REASON, "confirm": "1"}
    for email, status in (
        ("khac@nongsan.test", 404),  # another farmer
        (ASSOCIATION, 404),  # staff of another commune
        (BUYER, 403),  # not a lot manager at all
    ):
        client.logout()
        sign_in(client, email)
        assert client.post(recall_url(durian), data).status_code == status, email
    client.logout()
    assert "/accounts/login/" in client.post(recall_url(durian), data)["Location"]
    assert not Recall.objects.filter(lot=durian).exists()
    # The service refuses too, whatever calls it.
    with pytest.raises(Exception) as excinfo:
        recalls.recall_lot(lot=durian, by=other, reason=REASON)
    assert excinfo.type.__name__ == "PermissionDenied"
    assert not Recall.objects.filter(lot=durian).exists()


@pytest.mark.parametrize("email", [POST_OFFICE, OPERATOR])
def test_staff_in_scope_and_the_operator_may_recall(client, durian, email):
    sign_in(client, email)
    response = client.post(recall_url(durian), {"reason": REASON, "confirm": "1"})
    assert response.status_code == 302
    assert Recall.objects.get(lot=durian).recalled_by.email == email


def test_seed_demo_recalls_one_demo_lot_idempotently(traces, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        links = recalls.seed_demo()
        assert recalls.seed_demo() == links
    lot = Lot.objects.get(code=f"DEMO-{recalls.DEMO_RECALLED}")
    assert f"/t/{lot.short_code}/" in links[0]
    assert Recall.objects.filter(lot=lot).count() == 1 and Recall.objects.count() == 1
    assert vi(BANNER) in text(Client().get(f"/t/{lot.short_code}/"))
    assert ProductListing.objects.get(product=lot.product).status == "withdrawn"
