"""Demo orders, one in each state a buyer, a farmer, the post office and the operator
meet after checkout (run by seed_demo after the other seeders; idempotent):

- cash on delivery from two farms: the durian parcel packed, tracked and picked up by the
  post office, the pepper parcel still to pack;
- VietQR transfer awaited (coffee);
- cash on delivery delivered, the cash collected (so in the farm's settlement ledger),
  handed over by the post office to the marketplace and received (avocado);
- VietQR transfer received, marked by the operator (macadamia), then delivered, settled in
  the producer settlement ledger (tax withheld from the household) and paid out to the
  farm in a payout batch;
- VietQR from two farms, paid, the pepper parcel cancelled by the buyer and its refund
  transferred back by the operator (partly refunded);
- cash on delivery whose delivery failed and was returned to the farm (durian);
- cash on delivery from which the farm cancelled a line it could not supply (macadamia);
- VietQR, paid and delivered, part refunded by the operator for damaged goods (charged to
  the farm's sale in the settlement ledger).

Orders go through the same code as the checkout (locked stock, parcels, payment source)
and the same services as the pages (packing, tracking, delivery, COD, handover), so the
demo shows what the code does. They belong to the demo buyer and are recognised by a
marker in their delivery notes.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from oscar.apps.checkout.calculators import OrderTotalCalculator
from oscar.core.loading import get_class, get_model

from marketplace.finance import handovers, settlements, transfers
from marketplace.fulfilment import cancellations
from marketplace.fulfilment import services as fulfilment
from marketplace.fulfilment.parcels import set_cash_on_delivery
from marketplace.fulfilment.shipping import Repository
from marketplace.models import MarketplaceSettings, ProducerBankAccount
from marketplace.payments import refunds
from marketplace.payments.checkout import payment_source
from marketplace.payments.orders import OrderCreator
from marketplace.payments.state import COD, VIETQR

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
ShippingAddress = get_model("order", "ShippingAddress")
OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
Selector = get_class("partner.strategy", "Selector")

MARKER = "[demo]"
BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"
POST_OFFICE = "buudien@nongsan.test"
OPERATOR = "quantri@nongsan.test"
BANK = {
    "bank_bin": "970405",
    "bank_name": "Agribank",
    "bank_account_number": "1500201234567",
    "bank_account_name": "CONG TY NONG SAN DAK LAK",
}
# Vietnam Post S10 numbers with their check digit (see fulfilment.s10_check_digit).
TRACKING = ("EB", "VN")


def _tracking(serial: int) -> str:
    digits = f"{serial:08d}"
    return f"{TRACKING[0]}{digits}{fulfilment.s10_check_digit(digits)}{TRACKING[1]}"


def place(user, items: dict, method: str, note: str) -> Order:
    """An order of `items` ({upc: quantity}) for `user`, delivered in Buôn Ma Thuột."""
    basket = Basket.objects.create(owner=user)
    basket.strategy = Selector().strategy(user=user)
    for upc, quantity in items.items():
        basket.add_product(Product.objects.get(upc=upc), quantity)
    address = ShippingAddress.objects.create(
        first_name=user.get_full_name() or "Nguyễn Thị Mai",
        line1="12 Lê Duẩn",
        line4="Phường Buôn Ma Thuột",
        state="Đắk Lắk",
        country=Country.objects.get(iso_3166_1_a2="VN"),
        phone_number="+84912345678",
        notes=f"{MARKER} {note}",
    )
    shipping = Repository().get_default_shipping_method(basket=basket, shipping_addr=address)
    charge = shipping.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    with transaction.atomic():
        order = OrderCreator().place_order(
            basket=basket,
            total=total,
            shipping_method=shipping,
            shipping_charge=charge,
            user=user,
            shipping_address=address,
            order_number=OrderNumberGenerator().order_number(basket),
        )
        source = payment_source(method, total, order.number if method == VIETQR else "")
        source.order = order
        source.save()
        if method == COD:
            set_cash_on_delivery(order)
        basket.submit()
    return order


def seed(stdout) -> list[str]:
    if Order.objects.filter(shipping_address__notes__startswith=MARKER).exists():
        return ["  demo orders: already there"]
    users = {
        u.email: u
        for u in get_user_model().objects.filter(email__in=[BUYER, FARMER, POST_OFFICE, OPERATOR])
    }
    buyer, farmer, postman, operator = (users[e] for e in (BUYER, FARMER, POST_OFFICE, OPERATOR))
    settings_row = MarketplaceSettings.load()
    if not settings_row.vietqr_ready:
        for key, value in BANK.items():
            setattr(settings_row, key, value)
        settings_row.save()

    # 1. Cash on delivery from two farms, on its way.
    two_farms = place(buyer, {"NS0005": 2, "NS0009": 1}, COD, "durian and pepper")
    durian = two_farms.parcels.get(partner__users=farmer)
    fulfilment.pack(durian, farmer)
    fulfilment.set_tracking(durian, postman, _tracking(10000001))
    fulfilment.pick_up(durian, postman)

    # 2. A bank transfer awaited; 3. one received.
    awaiting = place(buyer, {"NS0001": 2}, VIETQR, "coffee, transfer awaited")
    paid = place(buyer, {"NS0008": 2}, VIETQR, "macadamia, transfer received")
    transfers.mark_received(paid, operator, paid.total_incl_tax, note="FT25329000123")

    # 4. Cash on delivery: delivered, collected (the sale enters the farm's ledger), the
    # cash handed over by the post office and received by the marketplace.
    done = place(buyer, {"NS0007": 3}, COD, "avocado, delivered, cash handed over")
    parcel = done.parcels.get()
    fulfilment.pack(parcel, farmer)
    fulfilment.set_tracking(parcel, postman, _tracking(10000002))
    fulfilment.pick_up(parcel, postman)
    fulfilment.deliver(parcel, postman)
    fulfilment.collect_cod(parcel, postman, parcel.cod_amount)
    handover = handovers.create_handover(by=postman)
    handovers.confirm_receipt(handover=handover, by=operator, reference="UNC-2025-0001")

    # 5. The macadamia paid by VietQR, delivered: in the settlement ledger (a household:
    # tax withheld), paid out to the farm in a payout batch (the account it is paid into
    # recorded by the operator).
    nuts = paid.parcels.get()
    fulfilment.pack(nuts, farmer)
    fulfilment.set_tracking(nuts, postman, _tracking(10000003))
    fulfilment.pick_up(nuts, postman)
    fulfilment.deliver(nuts, postman)
    ProducerBankAccount.objects.get_or_create(
        partner=nuts.partner,
        defaults={"bank_bin": "970405", "number": "5100201000888", "holder": "NGUYEN VAN HUNG"},
    )
    batch = settlements.create_payout_batch(partner_ids=[nuts.partner_id], by=operator)
    for payout in batch.payouts.all():
        settlements.mark_payout_paid(payout=payout, reference="FT25340000456", by=operator)

    # 6. VietQR from two farms, paid; the buyer cancels the pepper parcel; the operator
    # transfers the refund back.
    part = place(buyer, {"NS0005": 1, "NS0009": 1}, VIETQR, "durian and pepper, one cancelled")
    transfers.mark_received(part, operator, part.total_incl_tax, note="FT25329000456")
    pepper = part.parcels.exclude(partner__users=farmer).get()
    cancellations.cancel_parcel(parcel=pepper, role="buyer", reason="Đặt nhầm", by=buyer)
    refunds.record_transfer_back(
        refund=part.refunds.get(),
        by=operator,
        bank_bin="970436",
        account_number="0123456789",
        account_name="Nguyen Thi Mai",
        bank_reference="FT25330000789",
    )

    # 7. Cash on delivery: the delivery failed, the parcel went back to the farm.
    returned = place(buyer, {"NS0005": 1}, COD, "durian, returned to the farm")
    parcel = returned.parcels.get()
    fulfilment.pack(parcel, farmer)
    fulfilment.set_tracking(parcel, postman, _tracking(10000004))
    fulfilment.pick_up(parcel, postman)
    fulfilment.fail_delivery(parcel=parcel, by=postman, reason="Không liên lạc được người nhận")
    fulfilment.return_to_sender(parcel=parcel, by=postman, fee=22000)

    # 8. Cash on delivery: the farm cannot supply the macadamia, the rest goes on.
    short = place(buyer, {"NS0007": 2, "NS0008": 1}, COD, "avocado, macadamia cancelled")
    macadamia = short.lines.get(product__upc="NS0008")
    cancellations.cancel_line(line=macadamia, reason="Hết hàng", by=farmer)

    # 9. VietQR, paid and delivered; two avocados arrived bruised: the operator refunds them
    # (charged to the farm's sale) and transfers the money back.
    bruised = place(buyer, {"NS0007": 4}, VIETQR, "avocado, part refunded for damage")
    transfers.mark_received(bruised, operator, bruised.total_incl_tax, note="FT25331000321")
    parcel = bruised.parcels.get()
    fulfilment.pack(parcel, farmer)
    fulfilment.set_tracking(parcel, postman, _tracking(10000005))
    fulfilment.pick_up(parcel, postman)
    fulfilment.deliver(parcel, postman)
    line = bruised.lines.get()
    damaged = refunds.refund(
        order=bruised,
        amount=line.unit_price_incl_tax * 2,
        reason="2 quả bị dập khi giao",
        by=operator,
        parcel=parcel,
        charges_producer=True,
    )
    refunds.record_transfer_back(
        refund=damaged,
        by=operator,
        bank_bin="970436",
        account_number="0123456789",
        account_name="Nguyen Thi Mai",
        bank_reference="FT25332000654",
    )

    return [
        f"  demo orders for {BUYER}: {two_farms.number} (cash on delivery, 2 parcels, one "
        f"picked up), {awaiting.number} (VietQR awaited), {paid.number} (VietQR received), "
        f"{done.number} (delivered, cash handed over; {paid.number} then delivered, settled "
        f"and paid out to the farm), {part.number} (a parcel cancelled and refunded), "
        f"{returned.number} (returned to the farm), {short.number} (a line cancelled by the "
        f"farm), {bruised.number} (delivered, damaged goods refunded)",
        f"  post office ({POST_OFFICE}): /buu-dien/buu-gui/; farmer ({FARMER}): "
        "/cua-hang/don-hang/, /cua-hang/quyet-toan/; operator: /quan-tri/chuyen-khoan/, "
        "/quan-tri/tien-buu-dien-nop/, /quan-tri/quyet-toan/; post office: /buu-dien/nop-tien/",
    ]
