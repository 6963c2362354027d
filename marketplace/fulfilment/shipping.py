"""Delivery by Vietnam Post: one parcel per producer, priced by weight and zone.

Zones (from the producer's province to the buyer's):
- ``same_province``  — nội tỉnh;
- ``same_region``    — nội miền: both in the North, both in the Centre (with the Central
  Highlands), or both in the South, on the 34-province map of 2025;
- ``other_region``   — liên miền: the rest of the country.

The operator keeps the rates in Oscar's own shipping dashboard (/dashboard/shipping/):
one weight-based method per zone, with codes ``vnpost-same-province``,
``vnpost-same-region`` and ``vnpost-other-region``, each with weight bands in kg and a
charge in whole đồng per band. Above the top band Oscar's rule applies (as many top-band
parcels as needed plus the band of the remainder). ``MarketplaceSettings.
free_shipping_threshold`` makes delivery free for a basket worth at least that much.

A basket with products of several producers ships as one parcel per producer: the buyer
sees each parcel's weight and charge, and pays their sum. Everything is computed on the
server from the basket and the address; nothing comes from a form.
"""

import contextlib
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from oscar.apps.shipping import methods
from oscar.apps.shipping.repository import Repository as OscarRepository
from oscar.core import prices
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.core.cached import CachedPerRow, CachedUntilChanged

WeightBased = get_model("shipping", "WeightBased")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")

SAME_PROVINCE, SAME_REGION, OTHER_REGION = "same_province", "same_region", "other_region"
ZONE_CODES = {
    SAME_PROVINCE: "vnpost-same-province",
    SAME_REGION: "vnpost-same-region",
    OTHER_REGION: "vnpost-other-region",
}
ZONE_NAMES = {
    SAME_PROVINCE: _("Same province"),
    SAME_REGION: _("Same region"),
    OTHER_REGION: _("Another region"),
}

NORTH, CENTRE, SOUTH = "north", "centre", "south"
# Province codes of the 2025 map (vietnam-provinces 2025.10) by region.
REGIONS = {
    NORTH: {1, 4, 8, 11, 12, 14, 15, 19, 20, 22, 24, 25, 31, 33, 37},
    CENTRE: {38, 40, 42, 44, 46, 48, 51, 52, 56, 66, 68},
    SOUTH: {75, 79, 80, 82, 86, 91, 92, 96},
}
REGION_OF = {code: region for region, codes in REGIONS.items() for code in codes}

# Used for a product without a weight: a light parcel rather than a free one.
DEFAULT_WEIGHT_KG = Decimal("0.5")

# Vietnam Post-like parcel rates (đồng) to start from; the operator changes them.
DEFAULT_RATES = {
    SAME_PROVINCE: [("0.5", 16500), ("1", 20000), ("2", 25000), ("5", 38000), ("10", 58000)],
    SAME_REGION: [("0.5", 22000), ("1", 30000), ("2", 40000), ("5", 65000), ("10", 105000)],
    OTHER_REGION: [("0.5", 32000), ("1", 45000), ("2", 65000), ("5", 110000), ("10", 190000)],
}


def zone(from_province: int | None, to_province: int | None) -> str:
    if from_province is not None and from_province == to_province:
        return SAME_PROVINCE
    region = REGION_OF.get(from_province)
    if region is not None and region == REGION_OF.get(to_province):
        return SAME_REGION
    return OTHER_REGION


def province_of(address) -> int | None:
    """The province code of a shipping address: its `province_code` when it has one,
    else its `state` matched against the province names."""
    if address is None:
        return None
    code = getattr(address, "province_code", None)
    if code and geo.is_valid_province(int(code)):
        return int(code)
    state = (getattr(address, "state", "") or "").strip().casefold()
    if not state:
        return None
    for value, name in geo.province_choices():
        if name.casefold() == state or name.casefold().removeprefix("thành phố ") == state:
            return value
    return None


@dataclass
class Parcel:
    partner_id: int
    producer_name: str
    from_province: int | None
    lines: list = field(default_factory=list)
    producer_slug: str = ""
    weight_kg: Decimal = Decimal(0)
    goods: Decimal = Decimal(0)
    zone: str = OTHER_REGION
    charge: Decimal = Decimal(0)

    @property
    def zone_name(self):
        return ZONE_NAMES[self.zone]


@dataclass
class Quote:
    parcels: list
    charge: Decimal
    free: bool
    available: bool


class Rates:
    """The three zone methods with their bands, read in two queries, or from the cache
    (`current`): every checkout page needs them, the operator rarely changes them."""

    def __init__(self, bands=None):
        if bands is not None:
            self.bands = bands
            return
        found = WeightBased.objects.filter(code__in=ZONE_CODES.values()).prefetch_related("bands")
        by_code = {method.code: method for method in found}
        self.bands = {}
        for zone_key, code in ZONE_CODES.items():
            method = by_code.get(code)
            bands = sorted(method.bands.all(), key=lambda b: b.upper_limit) if method else []
            self.bands[zone_key] = [(Decimal(b.upper_limit), Decimal(b.charge)) for b in bands]

    @classmethod
    def current(cls) -> "Rates":
        """The rates as the database has them, from the cache until the operator changes a
        method or a band (marketplace.core.cached)."""
        return cls(_CACHED_BANDS.get())

    @property
    def complete(self) -> bool:
        return all(self.bands.values())

    def charge(self, zone_key: str, weight: Decimal) -> Decimal:
        """Oscar's WeightBased.get_charge, on bands already read."""
        bands = self.bands[zone_key]
        top_limit, top_charge = bands[-1]

        def band_charge(w):
            return next(charge for limit, charge in bands if limit >= w)

        if weight <= top_limit:
            return band_charge(weight)
        quotient, remainder = divmod(weight, top_limit)
        return quotient * top_charge + (band_charge(remainder) if remainder else 0)


def _producers_read_with(lines) -> dict | None:
    """The lines' producers by partner id when the lines were read with them (the basket
    middleware reads stockrecord__partner__producer_profile), else None."""
    StockRecord, Partner = get_model("partner", "StockRecord"), get_model("partner", "Partner")
    producers = {}
    for line in lines:
        stockrecord = line.stockrecord
        if not StockRecord.partner.is_cached(stockrecord):
            return None
        partner = stockrecord.partner
        if not Partner.producer_profile.is_cached(partner):
            return None
        # A partner that is not a producer has no profile, as the query would find.
        with contextlib.suppress(ObjectDoesNotExist):
            producers[partner.pk] = partner.producer_profile
    return producers


def _read_weights(product_ids) -> dict:
    weights = dict.fromkeys(product_ids, ())
    for product_id, weight in ProductAttributeValue.objects.filter(
        product_id__in=product_ids, attribute__code="weight"
    ).values_list("product_id", "value_float"):
        weights[product_id] = (weight,)
    return weights


# A product's weight in kg (its "weight" attribute), from the cache until the product is
# saved (Oscar writes its attributes in bulk then, without signals) or a value of its
# attributes is saved or deleted: each checkout page prices the same basket.
_CACHED_WEIGHTS = CachedPerRow(
    "nongsan:product-weight",
    _read_weights,
    models={"catalogue.ProductAttributeValue": lambda value: value.product_id},
)


def product_weights(products) -> dict:
    """{product id: its weight in kg} of those of `products` that have one."""
    found = _CACHED_WEIGHTS.get_many({p.pk: p.date_updated for p in products})
    return {pk: weight[0] for pk, weight in found.items() if weight}


def parcels_of(basket) -> list[Parcel]:
    """The basket's lines grouped by producer, with each parcel's weight (the weights from
    the cache: product_weights; the producers read with the lines, else one query)."""
    from marketplace.models import ProducerProfile

    lines = [line for line in basket.all_lines() if line.stockrecord_id]
    if not lines:
        return []
    weights = product_weights({line.product_id: line.product for line in lines}.values())
    producers = _producers_read_with(lines)
    if producers is None:
        partner_ids = {line.stockrecord.partner_id for line in lines}
        producers = {
            p.partner_id: p
            for p in ProducerProfile.objects.filter(partner_id__in=partner_ids).select_related(
                "partner"
            )
        }
    parcels: dict[int, Parcel] = {}
    for line in lines:
        partner_id = line.stockrecord.partner_id
        parcel = parcels.get(partner_id)
        if parcel is None:
            producer = producers.get(partner_id)
            parcel = parcels[partner_id] = Parcel(
                partner_id=partner_id,
                producer_name=producer.partner.name if producer else "",
                from_province=producer.province_code if producer else None,
                producer_slug=producer.slug if producer else "",
            )
        unit_weight = weights.get(line.product_id)
        unit_weight = Decimal(str(unit_weight)) if unit_weight else DEFAULT_WEIGHT_KG
        parcel.lines.append(line)
        parcel.weight_kg += unit_weight * line.quantity
        parcel.goods += line.line_price_incl_tax_incl_discounts or Decimal(0)
    return list(parcels.values())


def quote(
    basket, to_province: int | None, *, rates: Rates | None = None, settings_row=None
) -> Quote:
    from marketplace.models import MarketplaceSettings

    rates = rates or Rates.current()
    parcels = parcels_of(basket)
    if not rates.complete:
        return Quote(parcels=parcels, charge=Decimal(0), free=False, available=False)
    for parcel in parcels:
        parcel.zone = zone(parcel.from_province, to_province)
        # Vietnam Post weighs to the gram.
        weight = Decimal(math.ceil(parcel.weight_kg * 1000)) / 1000
        parcel.charge = rates.charge(parcel.zone, weight)
    threshold = (settings_row or MarketplaceSettings.load()).free_shipping_threshold
    goods = sum((p.goods for p in parcels), Decimal(0))
    free = bool(parcels) and threshold is not None and goods >= threshold
    charge = Decimal(0) if free else sum((p.charge for p in parcels), Decimal(0))
    return Quote(parcels=parcels, charge=charge, free=free, available=True)


def basket_quote(basket, to_province: int | None) -> Quote:
    """`quote` of the basket to `to_province`, computed once for a basket object (once a
    request: Oscar's checkout asks for the delivery charge several times a page, and the
    order creator for the parcels) and again only when its lines change."""
    lines = tuple(
        (line.pk, line.quantity, line.stockrecord_id, line.line_price_incl_tax_incl_discounts)
        for line in basket.all_lines()
    )
    key = (basket.pk, to_province, lines)
    quotes = getattr(basket, "_vietnam_post_quotes", None)
    if quotes is None:
        quotes = basket._vietnam_post_quotes = {}
    if key not in quotes:
        rates = getattr(basket, "_vietnam_post_rates", None)
        if rates is None:
            rates = basket._vietnam_post_rates = Rates.current()
        from marketplace.models import MarketplaceSettings

        quotes[key] = quote(
            basket, to_province, rates=rates, settings_row=MarketplaceSettings.load()
        )
    return quotes[key]


def ensure_vietnam() -> None:
    """Việt Nam as the shipping country (as migration 0007 made it), if it is missing."""
    Country = get_model("address", "Country")
    Country.objects.get_or_create(
        iso_3166_1_a2="VN",
        defaults={
            "iso_3166_1_a3": "VNM",
            "iso_3166_1_numeric": "704",
            "printable_name": "Việt Nam",
            "name": "Cộng hòa Xã hội Chủ nghĩa Việt Nam",
            "display_order": 1,
            "is_shipping_country": True,
        },
    )


def ensure_default_rates() -> None:
    """Create the three zone methods with the default bands if they are missing."""
    for zone_key, code in ZONE_CODES.items():
        method, created = WeightBased.objects.get_or_create(
            code=code,
            defaults={
                "name": f"Vietnam Post — {ZONE_NAMES[zone_key]}",
                "default_weight": DEFAULT_WEIGHT_KG,
            },
        )
        if created or not method.bands.exists():
            for limit, charge in DEFAULT_RATES[zone_key]:
                method.bands.create(upper_limit=Decimal(limit), charge=Decimal(charge))


class VietnamPost(methods.Base):
    """Oscar shipping method: the sum of the producers' parcels to the buyer's province
    (without an address yet — on the basket page — the farthest zone: an upper bound)."""

    code = "vietnam-post"
    name = _("Vietnam Post")
    description = _("One parcel per producer, delivered by Vietnam Post.")

    def __init__(self, to_province: int | None = None):
        self.to_province = to_province
        if to_province is None:
            # The basket page: the price of the farthest zone, so say it is an estimate.
            self.name = _("Vietnam Post (estimate: the price is set once the address is known)")

    def quote(self, basket) -> Quote:
        return basket_quote(basket, self.to_province)

    def calculate(self, basket):
        charge = self.quote(basket).charge
        return prices.Price(currency=basket.currency, excl_tax=charge, incl_tax=charge)


class NotPriced(methods.Base):
    """Shown on the basket page while some zone has no rates: never a free delivery, and
    checkout offers no method at all (Oscar then asks for another address)."""

    code = "not-priced"
    name = _("Delivery price not available yet")
    description = _("The marketplace has not set delivery prices for every zone.")

    def calculate(self, basket):
        return prices.Price(
            currency=basket.currency, excl_tax=Decimal(0), incl_tax=Decimal(0), tax=Decimal(0)
        )


class Repository(OscarRepository):
    """Vietnam Post is the only delivery (rates are created by a migration and kept by the
    operator in Oscar's shipping dashboard)."""

    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        # Oscar builds a new Repository for each question it asks (the basket page asks
        # twice); the rates are read once per basket object, i.e. once a request.
        rates = getattr(basket, "_vietnam_post_rates", None)
        if rates is None:
            rates = basket._vietnam_post_rates = Rates.current()
        if not rates.complete:
            return []
        return [VietnamPost(province_of(shipping_addr))]

    def get_default_shipping_method(self, basket, shipping_addr=None, **kwargs):
        found = self.get_shipping_methods(basket, shipping_addr=shipping_addr, **kwargs)
        return found[0] if found else NotPriced()


_CACHED_BANDS = CachedUntilChanged(
    "nongsan:vietnam-post-rates",
    lambda: Rates().bands,
    models=("shipping.WeightBased", "shipping.WeightBand"),
)


def _shipping_countries() -> dict:
    Country = get_model("address", "Country")
    return {country.pk: country for country in Country.objects.filter(is_shipping_country=True)}


_CACHED_COUNTRIES = CachedUntilChanged(
    "nongsan:shipping-countries", _shipping_countries, models=("address.Country",)
)


def shipping_countries() -> list:
    """The countries delivered to (Oscar's `is_shipping_country`), in their order, from the
    cache: the address form of the checkout reads them on every visit."""
    return list(_CACHED_COUNTRIES.get().values())


def with_country(address):
    """`address` (a checkout's unsaved shipping address, or None) with its country taken
    from the cached shipping countries instead of a query when it is one of them (the
    checkout's preview shows it and placing the order saves it)."""
    if address is not None and address.country_id and "country" not in address._state.fields_cache:
        country = _CACHED_COUNTRIES.get().get(address.country_id)
        if country is not None:
            address.country = country
    return address


def install():
    """Forget the cached rates whenever the operator changes a method or a band, the
    shipping countries whenever a country changes, and a product's weight whenever a value
    of its attributes changes."""
    _CACHED_BANDS.install()
    _CACHED_COUNTRIES.install()
    _CACHED_WEIGHTS.install()
