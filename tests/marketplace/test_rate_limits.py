"""Throttles (marketplace.core.ratelimit.throttle): past the limit a client gets a 429 with a
Vietnamese message and a Retry-After; once the window has passed it is served again."""

import pytest
from django.test import Client, RequestFactory

from marketplace.core import ratelimit

MESSAGE = "Bạn đã thử quá nhiều lần trong thời gian ngắn."


class Clock:
    """ratelimit's clock, moved by hand."""

    def __init__(self, monkeypatch):
        self.now = 1_800_000_000.0
        monkeypatch.setattr(ratelimit, "clock", lambda: self.now)

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def refused(response) -> bool:
    return response.status_code == 429 and MESSAGE in response.content.decode()


def test_the_helper_counts_per_client_and_scope_and_lifts_after_the_window(settings, clock):
    settings.RATE_LIMITS = {"try": (2, 60), "other": (2, 60), "off": None}
    one = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1")
    two = RequestFactory().get("/", REMOTE_ADDR="198.51.100.2")
    assert ratelimit.throttle(one, scope="try") is None
    assert ratelimit.throttle(one, scope="try") is None
    third = ratelimit.throttle(one, scope="try")
    assert refused(third)
    assert "1 phút" in third.content.decode()
    assert 0 < int(third["Retry-After"]) <= 60
    assert ratelimit.throttle(two, scope="try") is None  # another address
    assert ratelimit.throttle(one, scope="other") is None  # another scope
    assert ratelimit.throttle(one, scope="try", key="phone:+84905123404") is None  # a key
    for _ in range(10):
        assert ratelimit.throttle(one, scope="off") is None  # not limited
    clock.advance(60)
    assert ratelimit.throttle(one, scope="try") is None


@pytest.mark.django_db
def test_search_is_throttled_per_address_then_served_again(settings, clock, demo):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": (3, 60)}
    client = Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(3):
        assert client.get("/search/", {"q": "ca phe"}).status_code == 200
    response = client.get("/search/", {"q": "ca phe"})
    assert refused(response)
    assert Client(REMOTE_ADDR="198.51.100.21").get("/search/", {"q": "ca phe"}).status_code == 200
    # Browsing the catalogue is not searching.
    assert client.get("/catalogue/").status_code == 200
    clock.advance(60)
    assert client.get("/search/", {"q": "ca phe"}).status_code == 200


@pytest.mark.django_db
def test_the_429_page_is_in_english_on_english_pages(settings, clock, demo):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": (0, 60)}
    response = Client().get("/en/search/", {"q": "coffee"})
    assert response.status_code == 429
    assert "Too many attempts in a short time." in response.content.decode()
