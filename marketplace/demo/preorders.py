"""Demo pre-orders for the coming harvest (run by seed_demo after the demo orders;
idempotent): an open window for Sầu riêng Ri6 of the demo farm (a 30 % deposit) with the
demo buyer's pre-order (deposit paid by VietQR) and a second buyer's (deposit awaited),
and a window already harvested and converted into orders from the farm's lot (paid on
delivery), one pre-order filled and one the harvest did not reach."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.finance import transfers
from marketplace.models import PreorderWindow
from marketplace.preorders import services

Country = get_model("address", "Country")
Product = get_model("catalogue", "Product")
UserAddress = get_model("address", "UserAddress")

DURIAN = "NS0005"
BUYER = "nguoimua@nongsan.test"
SECOND_BUYER = "nguoimua.dattruoc@nongsan.test"
FARMER = "nongdan@nongsan.test"
OPERATOR = "quantri@nongsan.test"


def _address(user, name, phone):
    found = UserAddress.objects.filter(user=user).first()
    if found is not None:
        return found
    return UserAddress.objects.create(
        user=user,
        first_name=name,
        line1="12 Lê Duẩn",
        line4="Phường Buôn Ma Thuột",
        state="Đắk Lắk",
        country=Country.objects.get(iso_3166_1_a2="VN"),
        phone_number=phone,
        is_default_for_shipping=True,
    )


def seed(stdout) -> list[str]:
    product = Product.objects.filter(upc=DURIAN).first()
    if product is None:
        return []
    if PreorderWindow.objects.filter(product=product).exists():
        return ["  demo pre-orders: already there"]
    User = get_user_model()
    buyer = User.objects.get(email=BUYER)
    farmer = User.objects.get(email=FARMER)
    operator = User.objects.get(email=OPERATOR)
    second = User.objects.filter(email=SECOND_BUYER).first()
    if second is None:
        second = User.objects.create_user(
            username="nguoimua.dattruoc", email=SECOND_BUYER, password=None
        )
        second.first_name = "Lê Thị Hồng"
        second.save(update_fields=["first_name"])
    _address(buyer, "Nguyễn Thị Mai", "+84912345678")
    _address(second, "Lê Thị Hồng", "+84912345679")
    partner = product.stockrecords.order_by("pk").first().partner
    today = timezone.localdate()

    # Harvested: converted into orders from the farm's lot (paid on delivery).
    done = services.open_window(
        partner=partner,
        product=product,
        harvest_from=today,
        harvest_to=today + datetime.timedelta(days=7),
        cap=6,
        price=165000,
        deposit_percent=0,
        by=farmer,
    )
    services.place_preorder(
        window=done, user=buyer, quantity=2, method="cod", address=_address(buyer, "", "")
    )
    services.place_preorder(
        window=done, user=second, quantity=3, method="cod", address=_address(second, "", "")
    )
    lots = services.lot_choices(done)
    converted = ""
    if lots:
        services.convert(window=done, lot_id=lots[0].pk, quantity=2, by=farmer)
        converted = f", converted from lot {lots[0].code}"

    # Open: a 30 % deposit, by VietQR.
    window = services.open_window(
        partner=partner,
        product=product,
        harvest_from=today + datetime.timedelta(days=30),
        harvest_to=today + datetime.timedelta(days=50),
        cap=40,
        price=180000,
        deposit_percent=30,
        by=farmer,
    )
    methods = services.deposit_methods()
    if "vietqr" in methods:
        mine = services.place_preorder(
            window=window,
            user=buyer,
            quantity=2,
            method="vietqr",
            address=_address(buyer, "", ""),
        )
        transfers.mark_received(mine.deposit_order, operator, mine.deposit, note="FT25340000999")
        services.place_preorder(
            window=window,
            user=second,
            quantity=5,
            method="vietqr",
            address=_address(second, "", ""),
        )
    return [
        f"  demo pre-orders of {product.title}: /dat-truoc/{window.pk}/ open (30 % deposit), "
        f"/dat-truoc/{done.pk}/ harvested{converted}; buyer: /dat-truoc/cua-toi/, "
        "farmer: /cua-hang/dat-truoc/"
    ]
