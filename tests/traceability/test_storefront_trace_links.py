"""Storefront pages → trace pages: the product page names its origin and links to the
trace page of the lot on sale (traceability.on_sale); the guest's order page links each
line packed from a lot ("Truy xuất sản phẩm này"), as the signed-in order page does."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from traceability.models import LineLot, Lot, Recall

from .test_order_lots import line_of, make_order

Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db


def vi(message) -> str:
    with translation.override("vi"):
        return gettext(message)


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_product_page_states_its_origin_and_links_the_lot_on_sale(client, traces):
    lot = Lot.objects.select_related("product", "producer__partner").get(code="DEMO-NS0001")
    url = lot.product.get_absolute_url()
    body = text(client.get(url))
    origin = body[body.index('class="ns-origin nongsan-origin"') :]
    origin = origin[: origin.index("</section>")]
    assert lot.producer.partner.name in origin
    assert "Đắk Lắk" in origin and 'href="/tinh/dak-lak/"' in origin
    assert f'href="/t/{lot.short_code}/"' in origin
    assert vi("Trace the farm and the lot") in origin
    # English at /en/: the trace page in English too.
    assert f'href="/en/t/{lot.short_code}/"' in text(client.get("/en" + url))


def test_a_recalled_or_expired_lot_is_not_the_lot_on_sale(client, traces):
    lot = Lot.objects.select_related("product").get(code="DEMO-NS0001")
    url = lot.product.get_absolute_url()
    Lot.objects.filter(pk=lot.pk).update(
        expiry_date=timezone.localdate() - datetime.timedelta(days=1),
        production_date=timezone.localdate() - datetime.timedelta(days=30),
    )
    assert f"/t/{lot.short_code}/" not in text(client.get(url))
    Lot.objects.filter(pk=lot.pk).update(expiry_date=None)
    assert f"/t/{lot.short_code}/" in text(client.get(url))
    Recall.objects.create(lot=lot, reason="Test")
    body = text(client.get(url))
    assert f"/t/{lot.short_code}/" not in body
    assert 'class="ns-origin nongsan-origin"' in body  # the origin stays


def test_a_product_whose_only_lot_expired_has_no_trace_link(client, traces):
    """The demo durian's lot expired on 28/11/2026: its page names the origin, no lot."""
    lot = Lot.objects.select_related("product").get(code="DEMO-NS0005")
    Lot.objects.filter(pk=lot.pk).update(
        expiry_date=timezone.localdate() - datetime.timedelta(days=1),
        production_date=timezone.localdate() - datetime.timedelta(days=10),
    )
    assert not Lot.objects.filter(product=lot.product).exclude(pk=lot.pk).exists()
    body = text(client.get(lot.product.get_absolute_url()))
    assert 'class="ns-origin nongsan-origin"' in body
    assert vi("Trace the farm and the lot") not in body


def test_the_product_page_stays_within_its_budget(client, traces, django_assert_max_num_queries):
    url = Lot.objects.get(code="DEMO-NS0001").product.get_absolute_url()
    client.get(url)
    with django_assert_max_num_queries(16):
        client.get(url)


def test_the_guest_order_page_links_each_line_packed_from_a_lot(client, traces):
    order = make_order("NS-200002", None, ["NS0005", "NS0007", "NS0001"], guest_email="k@x.vn")
    lot = Lot.objects.get(code="DEMO-NS0005")
    LineLot.objects.create(line=line_of(order, "NS0005"), lot=lot)
    url = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    # Oscar asks the guest for the order's e-mail address first.
    form = client.get(url)
    assert form.status_code == 302
    assert client.post(form.url, {"contact": "k@x.vn"}).status_code == 302
    body = text(client.get(url))
    assert body.count(vi("Trace this product")) == 1
    assert f'href="/t/{lot.short_code}/"' in body
    assert "DEMO-NS0005" in body

    def count(url) -> int:
        from django.db import connection

        n = [0]

        def counter(execute, sql, params, many, context):
            n[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            client.get(url)
        return n[0]

    before = count(url)
    LineLot.objects.create(line=line_of(order, "NS0007"), lot=Lot.objects.get(code="DEMO-NS0007"))
    after = count(url)
    body = text(client.get(url))
    assert body.count(vi("Trace this product")) == 2
    assert after == before  # the lines and their lots are read in one query


def test_a_lot_the_operator_refused_after_a_pre_harvest_breach_is_not_the_lot_on_sale(
    client, traces
):
    # The one rule (traceability.safety.sale_refusal) decides, not a look-alike filter.
    lot = Lot.objects.select_related("product").get(code="DEMO-NS0001")
    url = lot.product.get_absolute_url()
    assert f"/t/{lot.short_code}/" in text(client.get(url))
    Lot.objects.filter(pk=lot.pk).update(safety_review="refused")
    assert f"/t/{lot.short_code}/" not in text(client.get(url))
