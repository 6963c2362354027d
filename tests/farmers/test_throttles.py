"""Throttles on activation codes and on showing a member's full CCCD
(marketplace.core.ratelimit): 429 with a Vietnamese message past the limit, served again
after the window."""

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.core import ratelimit

MESSAGE = "Bạn đã thử quá nhiều lần trong thời gian ngắn."


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    return now


def refused(response) -> bool:
    return response.status_code == 429 and MESSAGE in response.content.decode()


def activate(address, phone="0935 111 222", code="000000"):
    return Client(REMOTE_ADDR=address).post(
        reverse("farmers:activate"),
        {
            "phone": phone,
            "code": code,
            "password1": "Mat-khau-2026!",
            "password2": "Mat-khau-2026!",
        },
    )


@pytest.mark.django_db
def test_activation_codes_for_one_phone_are_throttled_whatever_the_address(
    settings, clock, blank_db
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "activation": (3, 900)}
    for i in range(3):
        assert activate(f"198.51.100.{i}").status_code == 200  # the form, with its error
    # The same phone, typed another way, from a fourth address: refused.
    assert refused(activate("198.51.100.9", phone="+84935111222"))
    # Another phone is not.
    assert activate("198.51.100.9", phone="0935 111 333").status_code == 200
    clock["t"] += 900
    assert activate("198.51.100.9").status_code == 200


@pytest.mark.django_db
def test_showing_the_full_cccd_is_throttled_per_staff_member(settings, clock, world):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cccd-reveal": (2, 3600)}
    url = reverse("farmers:member-cccd", args=[world.member.pk])
    branch = world.client("branch")
    for _ in range(2):
        assert "066178001234" in branch.post(url).content.decode()
    response = branch.post(url)
    assert refused(response)
    assert "066178001234" not in response.content.decode()
    assert world.member.accesses.filter(what="cccd").count() == 2  # refusals are not reveals
    clock["t"] += 3600
    assert "066178001234" in branch.post(url).content.decode()


@pytest.mark.django_db
def test_sending_activation_codes_is_throttled_per_staff_member(settings, clock, world):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "activation-send": (1, 3600)}
    url = reverse("farmers:member-invite", args=[world.member.pk])
    branch = world.client("branch")
    assert branch.post(url).status_code == 302
    assert refused(branch.post(url))
    clock["t"] += 3600
    assert branch.post(url).status_code == 302
