"""THE scope rule (farmers.scope.scope_of): a branch sees its commune, a provincial
association or post office its province, the operator everything, anyone else nothing —
for producers, members, parcels, lots, imports and certificates alike; and marketplace
reaches the same rule through marketplace.core.scope."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from oscar.core.loading import get_model

from farmers.models import MemberImport
from farmers.scope import scope_of
from marketplace.core import geo
from marketplace.core import scope as core
from marketplace.models import Certificate, ProducerProfile
from traceability.models import Lot

Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")

# Who sees which of the three places: Ea Kiết and Krông Pắc (Đắk Lắk), Chư Sê (Gia Lai).
SEES = {
    "branch": {"ea_kiet"},
    "neighbour_branch": {"krong_pac"},
    "province": {"ea_kiet", "krong_pac"},
    "post_office": {"ea_kiet", "krong_pac"},
    "other_branch": {"chu_se"},
    "other_province": {"chu_se"},
    "operator": {"ea_kiet", "krong_pac", "chu_se"},
    "buyer": set(),
    "farmer": set(),
}
ROLE = {
    "branch": "branch",
    "neighbour_branch": "branch",
    "province": "province",
    "post_office": "post_office",
    "other_branch": "branch",
    "other_province": "province",
    "operator": "operator",
    "buyer": None,
    "farmer": None,
}


@pytest.fixture
def places(world):
    """One producer, product, lot and certificate in each place."""
    product_class = ProductClass.objects.create(name="Nông sản", requires_shipping=True)
    where = {
        "ea_kiet": (66, geo.find_commune(66, "Ea Kiết")),
        "krong_pac": (66, geo.find_commune(66, "Krông Pắc")),
        "chu_se": (52, geo.find_commune(52, "Chư Sê")),
    }
    made = {}
    for key, (province, commune) in where.items():
        partner = Partner.objects.create(name=f"HTX {key}")
        producer = ProducerProfile.objects.create(
            partner=partner,
            slug=f"htx-{key.replace('_', '-')}",
            kind=ProducerProfile.Kind.COOPERATIVE,
            province_code=province,
            commune_code=commune,
        )
        product = Product.objects.create(title=f"Cà phê {key}", product_class=product_class)
        lot = Lot.objects.create(
            product=product,
            producer=producer,
            code=f"LOT-{key}",
            short_code=f"S{len(made)}",
            quantity=Decimal(10),
            unit="kg",
            province_code=province,
            commune_code=commune,
        )
        certificate = Certificate.objects.create(
            producer=producer,
            kind=Certificate.Kind.VIETGAP,
            number=f"VG-{key}",
            issuer="Trung tâm",
            valid_from=datetime.date(2026, 1, 1),
            valid_until=datetime.date(2027, 1, 1),
        )
        made[key] = SimpleNamespace(producer=producer, lot=lot, certificate=certificate)
    return made


def _keys(objects, places, attr):
    by_pk = {getattr(place, attr).pk: key for key, place in places.items()}
    return {by_pk[obj.pk] for obj in objects if obj.pk in by_pk}


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(SEES))
def test_producers_lots_and_certificates_follow_the_scope(world, places, who):
    scope = scope_of(world.users[who])
    assert scope.role == ROLE[who]
    assert _keys(scope.producers(), places, "producer") == SEES[who]
    lots = scope.filter(Lot.objects.all())  # a lot's own place
    assert _keys(lots, places, "lot") == SEES[who]
    by_producer = Lot.objects.filter(producer__in=scope.producers())
    assert _keys(by_producer, places, "lot") == SEES[who]
    certificates = Certificate.objects.filter(producer__in=scope.producers())
    assert _keys(certificates, places, "certificate") == SEES[who]
    for key, place in places.items():
        for obj in (place.producer, place.lot, place.certificate):
            assert scope.allows(obj) is (key in SEES[who]), (who, key, obj)


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(SEES))
def test_parcels_follow_their_producers_place(world, who):
    """Parcels are filtered and checked through their producer's province and commune."""
    scope = scope_of(world.users[who])
    fields = {
        "province_field": "partner__producer_profile__province_code",
        "commune_field": "partner__producer_profile__commune_code",
    }
    for key, (province, commune) in {
        "ea_kiet": (66, geo.find_commune(66, "Ea Kiết")),
        "krong_pac": (66, geo.find_commune(66, "Krông Pắc")),
        "chu_se": (52, geo.find_commune(52, "Chư Sê")),
    }.items():
        profile = SimpleNamespace(province_code=province, commune_code=commune)
        parcel = SimpleNamespace(partner=SimpleNamespace(producer_profile=profile))
        assert scope.allows(parcel, **fields) is (key in SEES[who])


@pytest.mark.django_db
@pytest.mark.parametrize("who", list(SEES))
def test_members_follow_the_scope(world, who):
    """The Ea Kiết member: its branch, its province (association and post office) and the
    operator; the Chư Sê farmer: Gia Lai's branch and association and the operator."""
    scope = scope_of(world.users[who])
    seen = set(scope.members().values_list("pk", flat=True))
    expected = set()
    if SEES[who] & {"ea_kiet"}:
        expected.add(world.member.pk)
    if SEES[who] & {"chu_se"}:
        expected.add(world.other.pk)
    if who == "post_office":
        expected = set()  # neither consented to sharing with the post office (a draft, too)
    assert seen == expected
    assert scope.allows(world.member) is (world.member.pk in expected)
    assert scope.allows(world.other) is (world.other.pk in expected)


@pytest.mark.django_db
def test_a_branch_sees_its_own_members_outside_its_commune(world):
    """A member registered by the branch but living in another commune stays its own."""
    krong_pac = geo.find_commune(66, "Krông Pắc")
    type(world.member).objects.filter(pk=world.member.pk).update(commune_code=krong_pac)
    world.member.refresh_from_db()
    assert scope_of(world.users["branch"]).allows(world.member)
    assert world.member in scope_of(world.users["branch"]).members()
    assert world.member in scope_of(world.users["neighbour_branch"]).members()


@pytest.mark.django_db
def test_imports_follow_the_organisation(world):
    """An import is its organisation's; a provincial association also sees its branches'."""

    def make(who):
        scope = scope_of(world.users[who])
        record = MemberImport(
            created_by=world.users[who],
            organisation=scope.organisation,
            actor_role=scope.role,
            original_name="hoi-vien.csv",
            file_format="csv",
        )
        record.file.save("import.csv", ContentFile(b"a,b\n"), save=False)
        record.save()
        return record

    ea_kiet, dak_lak, chu_se = make("branch"), make("province"), make("other_branch")
    seen = {who: set(scope_of(world.users[who]).imports()) for who in [*SEES, "neighbour_branch"]}
    assert seen["branch"] == {ea_kiet}
    assert seen["province"] == {ea_kiet, dak_lak}
    assert seen["other_branch"] == {chu_se}
    assert seen["other_province"] == {chu_se}
    assert seen["operator"] == {ea_kiet, dak_lak, chu_se}
    assert seen["neighbour_branch"] == seen["post_office"] == seen["buyer"] == set()
    assert scope_of(world.users["province"]).allows(ea_kiet)
    assert not scope_of(world.users["branch"]).allows(dak_lak)


@pytest.mark.django_db
def test_branches_and_organisations(world):
    branch, province = scope_of(world.users["branch"]), scope_of(world.users["province"])
    assert list(branch.branches()) == [world.ea_kiet]
    assert world.ea_kiet in province.branches() and world.chu_se not in province.branches()
    assert set(branch.organisations()) == {world.ea_kiet}
    assert world.ea_kiet in province.organisations()
    assert world.chu_se not in province.organisations()
    assert not scope_of(world.users["buyer"]).organisations().exists()


@pytest.mark.django_db
def test_anonymous_visitors_see_nothing(world, places):
    scope = scope_of(AnonymousUser())
    assert scope.role is None and not scope.is_staff and not scope.everything
    assert not scope.producers().exists()
    assert not scope.members().exists()
    assert not scope.imports().exists()
    assert not scope.allows(places["ea_kiet"].producer)


@pytest.mark.django_db
def test_marketplace_asks_the_same_rule(world, places):
    """farmers registers its rule in FarmersConfig.ready(): marketplace.core.scope answers
    with it, for every role."""
    assert core.scope_provider() is scope_of
    producers = ProducerProfile.objects.all()
    for who in SEES:
        user = world.users[who]
        assert core.scope_of(user) == scope_of(user)
        assert _keys(core.producers_in_scope(user, producers), places, "producer") == SEES[who]
