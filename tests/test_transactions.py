"""Pages that only read run outside the request transaction (on SQLite a transaction takes
the one write lock), and what they post still runs in one (marketplace.core.transactions)."""

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

from marketplace.core.transactions import reads_on_get


@reads_on_get
class Probe(View):
    def get(self, request):
        return HttpResponse(str(connection.in_atomic_block))

    def post(self, request):
        return HttpResponse(str(connection.in_atomic_block))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method, atomic", [("get", "False"), ("head", "False"), ("post", "True")])
def test_reads_run_outside_the_request_transaction_and_writes_inside(method, atomic):
    view = Probe.as_view()
    assert view._non_atomic_requests  # Django's handler does not wrap it
    request = getattr(RequestFactory(), method)("/")
    assert view(request).content.decode() in (atomic, "")  # HEAD has no body
    if method != "head":
        assert view(request).content.decode() == atomic


@pytest.mark.django_db(transaction=True)
def test_a_failing_post_still_rolls_back():
    from marketplace.models import MarketplaceSettings

    @reads_on_get
    class Fails(View):
        def post(self, request):
            MarketplaceSettings.objects.update(cod_max_amount=1)
            raise RuntimeError("after a write")

    MarketplaceSettings.load()
    with pytest.raises(RuntimeError):
        Fails.as_view()(RequestFactory().post("/"))
    assert MarketplaceSettings.objects.get().cod_max_amount != 1
    assert not transaction.get_connection().in_atomic_block


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "name",
    [
        "basket:summary",
        "checkout:shipping-address",
        "checkout:payment-details",
        "checkout:thank-you",
    ],
)
def test_the_checkout_pages_that_only_read_are_marked(name):
    from django.urls import resolve, reverse

    assert resolve(reverse(name)).func._non_atomic_requests
    assert resolve(reverse("checkout:preview")).func._non_atomic_requests  # its POST: dispatch


@pytest.mark.django_db(transaction=True)
def test_a_view_with_its_own_transactions_runs_every_method_outside_the_request_one():
    from marketplace.core.transactions import own_transactions

    @own_transactions
    class Own(View):
        def get(self, request):
            return HttpResponse(str(connection.in_atomic_block))

        post = get

    for method in ("get", "post"):
        assert Own.as_view()(getattr(RequestFactory(), method)("/")).content == b"False"
    # The class it extends keeps its own behaviour.
    assert Probe.as_view()(RequestFactory().post("/")).content == b"True"


@pytest.mark.django_db
def test_the_gateway_and_the_address_step_post_outside_a_transaction(client, demo, monkeypatch):
    """They write only the session (saved after the view): on SQLite a request transaction
    would hold every buyer placing an order behind them. (The test runs in a transaction
    of its own: the view must not open one more.)"""
    from oscar.core.loading import get_class, get_model

    from tests.marketplace.test_checkout_address import GOOD

    seen = []
    for name in ("IndexView", "ShippingAddressView"):
        view = get_class("checkout.views", name)
        original = view.form_valid

        def watched(self, form, original=original):
            seen.append(len(connection.atomic_blocks))
            return original(self, form)

        monkeypatch.setattr(view, "form_valid", watched)
    durian = get_model("catalogue", "Product").objects.get(upc="NS0005")
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    gateway = {"username": "hoa@example.vn", "options": "anonymous", "password": ""}
    assert client.post("/checkout/", gateway).status_code == 302
    assert client.post("/checkout/shipping-address/", GOOD).status_code == 302
    assert seen == [len(connection.atomic_blocks)] * 2
