"""Pre-order windows, buyers with a delivery address and a harvested lot, for the pre-order
tests (shared by the property-based test)."""

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.core.lots import lot_provider
from marketplace.models import MarketplaceSettings
from marketplace.preorders import services

Country = get_model("address", "Country")
Product = get_model("catalogue", "Product")
UserAddress = get_model("address", "UserAddress")

DURIAN = "NS0005"  # Sầu riêng Ri6, of the demo farmer (krongpac)
_serial = itertools.count(1)


def buyer(name=None):
    """A new buyer with a delivery address in Buôn Ma Thuột (Đắk Lắk)."""
    n = next(_serial)
    user = get_user_model().objects.create_user(
        username=name or f"datruoc{n}", email=f"{name or f'datruoc{n}'}@nongsan.test", password="x"
    )
    give_address(user, n)
    return user


def give_address(user, n=0):
    """A delivery address in Buôn Ma Thuột (Đắk Lắk) in the user's address book."""
    return UserAddress.objects.create(
        user=user,
        first_name=f"Trần Văn {n or user.pk}",
        line1="12 Lê Duẩn",
        line4="Phường Buôn Ma Thuột",
        state="Đắk Lắk",
        country=Country.objects.get(iso_3166_1_a2="VN"),
        phone_number=f"+849123{(n or user.pk) % 100000:05d}",
        is_default_for_shipping=True,
    )


def address_of(user):
    return UserAddress.objects.filter(user=user).first()


def durian():
    return Product.objects.get(upc=DURIAN)


def window(farmer, *, cap=10, price=200000, deposit_percent=30):
    product = durian()
    partner = product.stockrecords.first().partner
    today = timezone.localdate()
    return services.open_window(
        partner=partner,
        product=product,
        harvest_from=today + datetime.timedelta(days=20),
        harvest_to=today + datetime.timedelta(days=40),
        cap=cap,
        price=price,
        deposit_percent=deposit_percent,
        by=farmer,
    )


def vietqr_ready():
    row = MarketplaceSettings.load()
    if not row.vietqr_ready:
        row.bank_bin, row.bank_name = "970405", "Agribank"
        row.bank_account_number, row.bank_account_name = "1500201234567", "NONG SAN"
        row.save()


def preorder(win, user, quantity, method="vietqr"):
    return services.place_preorder(
        window=win, user=user, quantity=quantity, method=method, address=address_of(user)
    )


def lot_of(win):
    lots = services.lot_choices(win)
    assert lots, "the demo farmer has a sellable durian lot"
    return lots[0]


def linked_lot(order):
    line = order.lines.get()
    return lot_provider().linked([line.pk]).get(line.pk)
