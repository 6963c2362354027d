"""Vietnam Post delivery: one parcel per producer, priced by weight and zone.

Rates are the defaults (marketplace.fulfilment.shipping.DEFAULT_RATES), so each expected charge
below is read off that table by hand.
"""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils.translation import gettext
from oscar.core.loading import get_class, get_model

from marketplace.core import geo
from marketplace.fulfilment import shipping
from marketplace.models import MarketplaceSettings
from tests.marketplace.test_farmer_products import users

Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")
WeightBased = get_model("shipping", "WeightBased")
Default = get_class("partner.strategy", "Default")
Repository = get_class("shipping.repository", "Repository")

DAK_LAK, GIA_LAI, HA_NOI, CAN_THO = 66, 52, 1, 92
DURIAN = "NS0005"  # Krông Pắc, Đắk Lắk, 1 kg, 120.000 ₫
PEPPER = "NS0009"  # Chư Sê, Gia Lai, 0,5 kg, 110.000 ₫


@pytest.fixture
def rates(demo):
    shipping.ensure_default_rates()
    MarketplaceSettings.load()


def basket_of(**quantities):
    basket = Basket.objects.create(owner=users()["buyer"])
    basket.strategy = Default()
    for upc, quantity in quantities.items():
        basket.add_product(Product.objects.get(upc=upc), quantity=quantity)
    return basket


def test_every_province_of_the_2025_map_is_in_exactly_one_region():
    codes = [code for code, _name in geo.province_choices()]
    assert len(codes) == 34
    assert sorted(shipping.REGION_OF) == sorted(codes)
    assert sum(len(c) for c in shipping.REGIONS.values()) == 34


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        (DAK_LAK, DAK_LAK, shipping.SAME_PROVINCE),
        (GIA_LAI, DAK_LAK, shipping.SAME_REGION),
        (HA_NOI, 31, shipping.SAME_REGION),  # Hải Phòng
        (CAN_THO, 79, shipping.SAME_REGION),  # TP Hồ Chí Minh
        (DAK_LAK, HA_NOI, shipping.OTHER_REGION),
        (CAN_THO, HA_NOI, shipping.OTHER_REGION),
        (DAK_LAK, None, shipping.OTHER_REGION),  # no address yet: the upper bound
    ],
)
def test_zones(origin, destination, expected):
    assert shipping.zone(origin, destination) == expected


@pytest.mark.parametrize(
    ("state", "code"),
    [("Đắk Lắk", DAK_LAK), ("Thành phố Hà Nội", HA_NOI), ("hà nội", HA_NOI), ("Atlantis", None)],
)
def test_the_province_of_an_address(state, code):
    assert shipping.province_of(SimpleNamespace(state=state)) == code
    assert shipping.province_of(SimpleNamespace(province_code=GIA_LAI, state=state)) == GIA_LAI


@pytest.mark.django_db
def test_one_parcel_per_producer_priced_by_weight_and_zone(rates):
    basket = basket_of(**{DURIAN: 2, PEPPER: 1})

    near = shipping.quote(basket, DAK_LAK)
    parcels = {p.from_province: p for p in near.parcels}
    assert set(parcels) == {DAK_LAK, GIA_LAI}
    assert parcels[DAK_LAK].weight_kg == Decimal("2.0")
    assert parcels[DAK_LAK].zone == shipping.SAME_PROVINCE
    assert parcels[DAK_LAK].charge == 25000  # ≤ 2 kg, same province
    assert parcels[GIA_LAI].zone == shipping.SAME_REGION
    assert parcels[GIA_LAI].charge == 22000  # ≤ 0,5 kg, same region
    assert near.charge == 47000 and near.available and not near.free

    far = shipping.quote(basket, HA_NOI)
    assert sorted(p.charge for p in far.parcels) == [32000, 65000]
    assert far.charge == 97000


@pytest.mark.django_db
def test_above_the_top_band_as_many_top_band_parcels_as_needed(rates):
    basket = basket_of(**{DURIAN: 12})  # 12 kg: one 10 kg band and one 2 kg band
    assert shipping.quote(basket, DAK_LAK).charge == 58000 + 25000


@pytest.mark.django_db
def test_free_delivery_from_the_operators_threshold(rates):
    basket = basket_of(**{DURIAN: 2, PEPPER: 1})  # 350.000 ₫ of goods
    settings_row = MarketplaceSettings.load()
    settings_row.free_shipping_threshold = 350000
    settings_row.save()
    quote = shipping.quote(basket, HA_NOI)
    assert quote.free and quote.charge == 0
    assert len(quote.parcels) == 2  # still two parcels to send

    settings_row.free_shipping_threshold = 350001
    settings_row.save()
    assert shipping.quote(basket, HA_NOI).charge == 97000


@pytest.mark.django_db
def test_the_shipping_method_oscar_uses_charges_the_parcels(rates):
    basket = basket_of(**{DURIAN: 2, PEPPER: 1})
    address = SimpleNamespace(state="Đắk Lắk")
    methods = Repository().get_shipping_methods(basket, shipping_addr=address)
    assert [m.code for m in methods] == ["vietnam-post"]
    assert methods[0].calculate(basket).incl_tax == 47000


@pytest.mark.django_db
def test_without_rates_for_every_zone_there_is_no_delivery_rather_than_a_free_one(rates):
    WeightBased.objects.get(code="vnpost-same-region").bands.all().delete()
    basket = basket_of(**{DURIAN: 1})
    assert Repository().get_available_shipping_methods(basket) == []
    assert not shipping.quote(basket, DAK_LAK).available
    # The basket page still works, and says so instead of showing free delivery.
    assert Repository().get_default_shipping_method(basket).code == "not-priced"


@pytest.mark.django_db
def test_a_product_without_weight_counts_as_half_a_kilo(rates):
    basket = basket_of(**{DURIAN: 1})
    durian = Product.objects.get(upc=DURIAN)
    durian.attribute_values.filter(attribute__code="weight").delete()
    assert shipping.quote(basket, DAK_LAK).charge == 16500


@pytest.mark.django_db
def test_a_quote_takes_a_constant_number_of_queries(rates, django_assert_max_num_queries):
    small = basket_of(**{DURIAN: 1})
    big = basket_of(**{DURIAN: 1, PEPPER: 2, "NS0001": 1, "NS0013": 1, "NS0019": 3})
    for basket in (small, big):
        # A page with a basket has priced its lines already (Oscar's basket totals).
        assert basket.total_incl_tax > 0
        with django_assert_max_num_queries(5):
            shipping.quote(basket, HA_NOI)


@pytest.mark.django_db
def test_the_basket_page_shows_vietnam_post_with_its_upper_bound(client, demo):
    client.force_login(users()["buyer"])
    client.post(f"/basket/add/{Product.objects.get(upc=DURIAN).pk}/", {"quantity": 1}, follow=True)
    page = client.get("/basket/").content.decode()
    assert gettext("Vietnam Post") in page
    assert "45.000" in page  # 1 kg to the farthest zone until the address is known


@pytest.mark.django_db
def test_default_rates_are_created_once(demo):
    shipping.ensure_default_rates()
    shipping.ensure_default_rates()
    assert WeightBased.objects.filter(code__startswith="vnpost-").count() == 3
    assert WeightBased.objects.get(code="vnpost-same-province").bands.count() == 5


@pytest.mark.django_db
def test_a_rate_the_operator_changes_prices_the_next_quote(rates):
    basket = basket_of(**{DURIAN: 1})
    before = shipping.quote(basket, DAK_LAK).charge  # the rates are now cached
    for band in WeightBased.objects.get(code="vnpost-same-province").bands.all():
        band.charge += 1000
        band.save()  # as Oscar's shipping dashboard does
    assert shipping.quote(basket_of(**{DURIAN: 1}), DAK_LAK).charge == before + 1000
