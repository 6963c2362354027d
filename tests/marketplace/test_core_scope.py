"""marketplace.core.scope: the scope rule as marketplace sees it (a provider that farmers
registers), and marketplace.core.lots: the lot hook that traceability fills in."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from marketplace.core import lots as core_lots
from marketplace.core import scope as core
from marketplace.fulfilment import services as fulfilment
from marketplace.models import ProducerProfile


def person(**flags):
    return SimpleNamespace(**{"is_authenticated": True, "is_superuser": False, **flags})


def place(province, commune):
    return SimpleNamespace(province_code=province, commune_code=commune)


@pytest.fixture
def no_provider(monkeypatch):
    monkeypatch.setattr(core, "_provider", None)


def test_without_a_provider_the_operator_sees_everything_and_others_nothing(no_provider):
    assert core.scope_of(person(is_superuser=True)) == core.EVERYTHING
    assert core.scope_of(person()) == core.NOBODY
    assert core.scope_of(AnonymousUser()) == core.NOBODY
    assert core.scope_of(None) == core.NOBODY
    assert core.EVERYTHING.allows(place(1, 2)) and not core.NOBODY.allows(place(1, 2))


def test_a_registered_provider_answers_for_signed_in_users_only(monkeypatch):
    monkeypatch.setattr(core, "_provider", None)
    branch = core.Scope(role=core.BRANCH, province_code=66, commune_code=24)
    calls = []

    @core.register_scope_provider
    def provider(user):
        calls.append(user)
        return branch

    assert core.scope_provider() is provider
    someone = person()
    assert core.scope_of(someone) is branch
    assert core.scope_of(AnonymousUser()) == core.NOBODY  # never asked
    assert calls == [someone]


def test_the_rule_by_place():
    branch = core.Scope(role=core.BRANCH, province_code=66, commune_code=24)
    province = core.Scope(role=core.PROVINCE, province_code=66)
    post_office = core.Scope(role=core.POST_OFFICE, province_code=66)
    assert branch.allows(place(66, 24)) and not branch.allows(place(66, 25))
    for scope in (province, post_office):
        assert scope.allows(place(66, 25)) and not scope.allows(place(52, 24))
    # Through the producer (a certificate, a lot without its own place) or a field path.
    assert branch.allows(SimpleNamespace(producer=place(66, 24)))
    parcel = SimpleNamespace(partner=SimpleNamespace(producer_profile=place(66, 25)))
    fields = {
        "province_field": "partner__producer_profile__province_code",
        "commune_field": "partner__producer_profile__commune_code",
    }
    assert province.allows(parcel, **fields) and not branch.allows(parcel, **fields)
    assert not branch.allows(None)
    assert (branch.is_association, province.is_association, post_office.is_association) == (
        True,
        True,
        False,
    )
    assert post_office.is_post_office and not province.is_post_office
    assert all(s.is_staff for s in (branch, province, post_office, core.EVERYTHING))


@pytest.mark.django_db
def test_filter_and_producers_in_scope(blank_db, monkeypatch):
    from oscar.core.loading import get_model

    Partner = get_model("partner", "Partner")
    here = ProducerProfile.objects.create(
        partner=Partner.objects.create(name="A"), slug="a", kind="cooperative",
        province_code=66, commune_code=24,
    )  # fmt: skip
    there = ProducerProfile.objects.create(
        partner=Partner.objects.create(name="B"), slug="b", kind="cooperative",
        province_code=52, commune_code=7,
    )  # fmt: skip
    producers = ProducerProfile.objects.all()
    branch = core.Scope(role=core.BRANCH, province_code=66, commune_code=24)
    assert list(branch.producers(producers)) == [here]
    assert set(core.EVERYTHING.filter(producers)) == {here, there}
    assert not core.NOBODY.filter(producers).exists()
    monkeypatch.setattr(core, "_provider", lambda user: branch)
    assert list(core.producers_in_scope(person(), producers)) == [here]


# --- The lot hook ------------------------------------------------------------------------------


def test_traceability_registers_the_lot_hook():
    from traceability.line_lots import LineLots

    assert isinstance(core_lots.lot_provider(), LineLots)


def test_without_a_lot_provider_there_are_no_lots(monkeypatch):
    monkeypatch.setattr(core_lots, "_provider", core_lots.NoLots())
    hook = core_lots.lot_provider()
    lines = object()
    assert hook.with_lots(lines) is lines
    assert hook.lot_of(object()) is None
    assert hook.choices(partner_id=1, product_ids={1}) == {}
    assert hook.linked([1, 2]) == {}
    with pytest.raises(ImproperlyConfigured):
        hook.link(line=object(), lot_id=1, by=None)


def test_fulfilment_asks_the_lot_hook(monkeypatch):
    """Packing choices come from whatever provider is registered, per line and product."""
    asked = []

    class Fake(core_lots.NoLots):
        def choices(self, *, partner_id, product_ids):
            asked.append((partner_id, product_ids))
            return {10: ["lot-a", "lot-b"]}

    monkeypatch.setattr(core_lots, "_provider", Fake())
    parcel = SimpleNamespace(partner_id=7)
    lines = [SimpleNamespace(pk=1, product_id=10), SimpleNamespace(pk=2, product_id=11)]
    assert fulfilment.lot_choices(parcel, lines) == {1: ["lot-a", "lot-b"], 2: []}
    assert asked == [(7, {10, 11})]
