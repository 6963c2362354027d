"""Sharing a province from a trace page is throttled per address
(marketplace.core.ratelimit): 429 with a Vietnamese message past the limit, served again
after the window."""

import pytest
from django.test import Client

from marketplace.core import ratelimit
from traceability.models import Scan

pytestmark = pytest.mark.django_db

MESSAGE = "Bạn đã thử quá nhiều lần trong thời gian ngắn."


def test_sharing_a_province_is_throttled_then_served_again(settings, monkeypatch, gtin_lot):
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "province-share": (2, 3600)}
    client = Client(REMOTE_ADDR="198.51.100.30", HTTP_USER_AGENT="Phone")
    client.get(f"/t/{gtin_lot.short_code}/")
    url = f"/truy-xuat/{gtin_lot.short_code}/chia-se-tinh/"
    for _ in range(2):
        assert client.post(url, {"tinh": "66"}).status_code in (200, 302)
    response = client.post(url, {"tinh": "66"})
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    # Reading the page is not sharing.
    assert client.get(url).status_code == 200
    assert Scan.objects.filter(province_code=66).count() == 1
    now["t"] += 3600
    assert client.post(url, {"tinh": "66"}).status_code in (200, 302)
