"""Pre-orders for the coming harvest: opening and closing a window, placing and
cancelling a pre-order, and converting the pre-orders into orders from the harvested lot.

- ``open_window`` / ``close_window``: the producer (or staff acting for it) opens a window
  for one of its products (harvest dates, cap, price, deposit share); closing it early
  stops new pre-orders, the ones placed stay.
- ``place_preorder``: the window row is locked (SELECT … FOR UPDATE) and what is already
  pre-ordered read under the lock, so concurrent buyers never together exceed the cap. A
  deposit gets its own order (no lines; ``deposit_order``) paid by VietQR or card through
  the ordinary flows: the bank-transfer matching and Stripe's webhook mark it paid.
- ``cancel_preorder``: the buyer cancels until conversion; what was paid of the deposit is
  refunded through marketplace.payments.refunds (the one refund rule), what was not paid
  is no longer due.
- ``convert``: THE conversion. In order of placement each pre-order gets what it asked
  for while the harvest lasts (the one where it runs out gets the rest); each becomes a
  real order placed through the checkout's order creator (stock locked and reserved, one
  parcel per producer, the payment source), its line linked to the lot through
  marketplace.core.lots. Its deposit, up to the deposit of the quantity delivered, counts
  as payment of that order (moved from the deposit order: a refund there, a payment here);
  the rest of the deposit is refunded. Pre-orders the harvest does not reach are
  cancelled and their deposits refunded. Every buyer is told.

The deposit rule is ``deposit_for``; verify_ledger checks pre-orders and deposits
(marketplace.preorders.checks).
"""

from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.apps.checkout.calculators import OrderTotalCalculator
from oscar.apps.partner import strategy as oscar_strategy
from oscar.apps.partner.prices import FixedPrice
from oscar.core.loading import get_class, get_model

from marketplace.catalogue import batches, stock
from marketplace.core.lots import lot_provider
from marketplace.core.money import percent_of
from marketplace.fulfilment import notifications
from marketplace.fulfilment.parcels import set_cash_on_delivery
from marketplace.fulfilment.shipping import Repository
from marketplace.models import MarketplaceSettings, Preorder, PreorderWindow
from marketplace.payments import refunds, stripe_gateway
from marketplace.payments.orders import OrderCreator
from marketplace.payments.state import (
    CARD,
    COD,
    VIETQR,
    due_of,
    locked_source,
    record_payment,
    record_refund,
    reduce_due,
)
from marketplace.preorders.selectors import TAKEN

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
StockRecord = get_model("partner", "StockRecord")
UserAddress = get_model("address", "UserAddress")
OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")

# Deposit orders are numbered apart from Oscar's (100000 + basket id) but, like them, with
# 6 to 8 digits, so a bank transfer naming one is matched like any order.
DEPOSIT_NUMBERS = 90_000_000
SOURCE_NAMES = {COD: "Cash on delivery", VIETQR: "VietQR bank transfer", CARD: "Card"}


class PreorderRefused(Exception):
    """A pre-order action that must not happen; the message is for people."""


def deposit_for(*, price, quantity: int, percent) -> Decimal:
    """THE deposit rule: `percent` % of the goods (price × quantity), whole đồng half up."""
    return percent_of(Decimal(price) * quantity, percent)


def taken(window) -> int:
    """What is pre-ordered of the window: open pre-orders' quantities and what converted
    ones received (selectors.TAKEN). Counted under the window's lock by place_preorder."""
    return PreorderWindow.objects.filter(pk=window.pk).aggregate(total=TAKEN)["total"] or 0


def left_of(window) -> int:
    return max(window.cap - taken(window), 0)


def _locked_window(window) -> PreorderWindow:
    return PreorderWindow.objects.select_for_update().get(pk=window.pk)


def _stockrecord(window):
    record = (
        StockRecord.objects.filter(product_id=window.product_id, partner_id=window.partner_id)
        .order_by("pk")
        .first()
    )
    if record is None:
        raise PreorderRefused(_("This product has no stock record of this producer."))
    return record


# --- The producer's window --------------------------------------------------------------------


def open_window(
    *, partner, product, harvest_from, harvest_to, cap, price, deposit_percent, by
) -> PreorderWindow:
    errors = {}
    if not StockRecord.objects.filter(product=product, partner=partner).exists():
        errors["product"] = _("Choose one of your own products.")
    if harvest_from and harvest_to and harvest_to < harvest_from:
        errors["harvest_to"] = _("The harvest cannot end before it starts.")
    if harvest_to and harvest_to < timezone.localdate():
        errors["harvest_to"] = _("The harvest window is already over.")
    if not isinstance(cap, int) or cap <= 0:
        errors["cap"] = _("Enter a whole quantity greater than zero.")
    if price is None or Decimal(price) <= 0:
        errors["price"] = _("Enter a price greater than zero.")
    if not isinstance(deposit_percent, int) or not 0 <= deposit_percent <= 100:
        errors["deposit_percent"] = _("A deposit is between 0 and 100 %.")
    if errors:
        raise ValidationError(errors)
    return PreorderWindow.objects.create(
        partner=partner,
        product=product,
        harvest_from=harvest_from,
        harvest_to=harvest_to,
        cap=cap,
        price=Decimal(price),
        deposit_percent=deposit_percent,
        opened_by=by,
    )


def close_window(*, window, by) -> PreorderWindow:
    """Close the window early: no new pre-orders; those placed wait for the harvest."""
    with transaction.atomic():
        locked = _locked_window(window)
        if locked.status != PreorderWindow.Status.OPEN:
            raise PreorderRefused(_("This pre-order window is not open."))
        locked.status = PreorderWindow.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    return locked


# --- The buyer's pre-order ----------------------------------------------------------------------


def deposit_methods() -> list[str]:
    """How a deposit may be paid now: VietQR once the operator set the account, card once
    Stripe is configured."""
    methods = []
    if MarketplaceSettings.load().vietqr_ready:
        methods.append(VIETQR)
    if stripe_gateway.card_ready():
        methods.append(CARD)
    return methods


def _payment_source(method, amount, reference=""):
    source_type, _created = SourceType.objects.get_or_create(
        code=method, defaults={"name": SOURCE_NAMES[method]}
    )
    return Source(
        source_type=source_type, currency="VND", amount_allocated=amount, reference=reference
    )


def _deposit_order(preorder) -> Order:
    amount = preorder.deposit
    number = str(DEPOSIT_NUMBERS + preorder.pk)
    order = Order.objects.create(
        number=number,
        user=preorder.user,
        currency="VND",
        total_incl_tax=amount,
        total_excl_tax=amount,
        shipping_incl_tax=0,
        shipping_excl_tax=0,
        shipping_method=str(_("Pre-order deposit")),
        guest_email="",
    )
    reference = number if preorder.method == VIETQR else ""
    if preorder.method == CARD:
        try:
            intent = stripe_gateway.create_payment_intent(order_number=number, amount=amount)
        except (stripe_gateway.GatewayError, ValueError):
            raise PreorderRefused(
                _(
                    "Card payment is not available right now, so your pre-order was not "
                    "placed. Please try again in a few minutes, or pay by bank transfer."
                )
            ) from None
        reference = intent["id"]
    source = _payment_source(preorder.method, amount, reference)
    source.order = order
    source.save()
    return order


def place_preorder(*, window, user, quantity, method, address) -> Preorder:
    """Pre-order `quantity` for `user`, delivered to `address` (one of theirs), paying the
    deposit by `method` (VietQR or card) when the window takes one, else on delivery."""
    if not user.is_authenticated:
        raise PermissionDenied
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise PreorderRefused(_("Enter a whole quantity greater than zero."))
    if address is None or address.user_id != user.pk:
        raise PreorderRefused(_("Choose one of your delivery addresses."))
    with transaction.atomic():
        window = _locked_window(window)
        if window.status != PreorderWindow.Status.OPEN:
            raise PreorderRefused(_("Pre-orders for this harvest are closed."))
        if window.takes_deposit:
            if method not in deposit_methods():
                raise PreorderRefused(_("Choose how to pay the deposit: bank transfer or card."))
        else:
            method = COD
        left = left_of(window)
        if quantity > left:
            if left <= 0:
                raise PreorderRefused(_("This harvest is fully pre-ordered."))
            raise PreorderRefused(
                _("Only %(left)s more can be pre-ordered from this harvest.") % {"left": left}
            )
        preorder = Preorder.objects.create(
            window=window,
            user=user,
            quantity=quantity,
            price=window.price,
            deposit=deposit_for(
                price=window.price, quantity=quantity, percent=window.deposit_percent
            ),
            method=method,
            address=address,
        )
        if preorder.deposit > 0:
            preorder.deposit_order = _deposit_order(preorder)
            preorder.save(update_fields=["deposit_order"])
    return preorder


def cancel_refusal(preorder, user) -> str | None:
    """Why `user` may not cancel `preorder` (None: they may): the buyer, until conversion."""
    if not user.is_authenticated or preorder.user_id != user.pk:
        return _("This is not your pre-order.")
    if preorder.status != Preorder.Status.PLACED:
        return _("This pre-order can no longer be cancelled.")
    return None


def cancel_preorder(*, preorder, by) -> Preorder:
    """The buyer cancels before conversion: what was paid of the deposit is refunded."""
    with transaction.atomic():
        _locked_window(preorder.window)
        locked = Preorder.objects.select_for_update().get(pk=preorder.pk)
        if reason := cancel_refusal(locked, by):
            raise PreorderRefused(reason)
        locked.status = Preorder.Status.CANCELLED
        locked.ended_at = timezone.now()
        locked.save(update_fields=["status", "ended_at"])
        _settle_deposit(locked, reason=_("Pre-order cancelled by the buyer"), by=by)
    return locked


# --- Deposits ---------------------------------------------------------------------------------


def _settle_deposit(preorder, *, reason, by, order=None, credit=Decimal(0)) -> None:
    """End the deposit of `preorder`: up to `credit` of what was paid counts as payment of
    `order` (moved there), the rest paid is refunded (marketplace.payments.refunds), and
    what was not paid is no longer due (a card payment not made is stopped)."""
    if order is not None:
        _credit_deposit(preorder, order=order, credit=credit)
    _end_deposit(preorder, reason=reason, by=by)


def _credit_deposit(preorder, *, order, credit) -> None:
    """Up to `credit` of the deposit paid counts as payment of `order` (moved there)."""
    deposit_order = preorder.deposit_order
    if deposit_order is None:
        return
    source = locked_source(deposit_order)
    held = refunds.refundable_of(source)
    moved = min(held, Decimal(credit))
    if moved > 0:
        record_refund(deposit_order, amount=moved, reference=order.number)
        record_payment(
            order, method=source.source_type.code, amount=moved, reference=deposit_order.number
        )
        preorder.deposit_credited = moved
        preorder.save(update_fields=["deposit_credited"])


def _end_deposit(preorder, *, reason, by) -> None:
    """What was not paid of the deposit is no longer due (a card payment not made is
    stopped); what is left of what was paid is refunded."""
    deposit_order = preorder.deposit_order
    if deposit_order is None:
        return
    source = locked_source(deposit_order)
    unpaid = source.amount_allocated - source.amount_debited
    if unpaid > 0:
        reduce_due(deposit_order, amount=unpaid)
        if source.source_type.code == CARD and source.amount_debited <= 0 and source.reference:
            # Already paid or processing: that payment is refused (nothing is due any more).
            with suppress(stripe_gateway.GatewayError):
                stripe_gateway.cancel_payment_intent(source.reference)
    rest = refunds.refundable_of(locked_source(deposit_order))
    if rest > 0:
        # A card refund Stripe refused is kept as failed, for the operator to retry.
        with suppress(refunds.RefundFailed):
            refunds.refund(order=deposit_order, amount=rest, reason=reason, by=by)


# --- Conversion ---------------------------------------------------------------------------------


class PreorderStrategy(oscar_strategy.Default):
    """Oscar's strategy, at the pre-order's price."""

    def __init__(self, price, request=None):
        super().__init__(request)
        self.preorder_price = Decimal(price)

    def pricing_policy(self, product, stockrecord):
        return FixedPrice(currency="VND", excl_tax=self.preorder_price, tax=Decimal(0))


def _shipping_address(preorder):
    address = preorder.address
    if address is None:
        address = (
            UserAddress.objects.filter(user_id=preorder.user_id)
            .order_by("-is_default_for_shipping", "pk")
            .first()
        )
    if address is None:
        return None
    shipping = ShippingAddress()
    address.populate_alternative_model(shipping)
    shipping.save()
    return shipping


def _place_order(preorder, quantity, stockrecord):
    """A real order of `quantity` at the pre-order's price through the checkout's order
    creator (locks and reserves the stock, writes the parcel), with its payment source (a
    card's PaymentIntent is made once the deposit is counted: ``_start_card_payment``)."""
    basket = Basket.objects.create(owner=preorder.user)
    basket.strategy = PreorderStrategy(preorder.price)
    basket.add_product(stockrecord.product, quantity)
    address = _shipping_address(preorder)
    shipping = Repository().get_default_shipping_method(basket=basket, shipping_addr=address)
    charge = shipping.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=shipping,
        shipping_charge=charge,
        user=preorder.user,
        shipping_address=address,
        order_number=OrderNumberGenerator().order_number(basket),
    )
    method = preorder.method
    reference = order.number if method == VIETQR else ""
    source = _payment_source(method, total.incl_tax, reference)
    source.order = order
    source.save()
    if method == COD:
        set_cash_on_delivery(order)
    basket.submit()
    return order


def _start_card_payment(order) -> None:
    """The PaymentIntent of a converted card pre-order, for what the order still owes once
    its deposit is counted (``due_of``, the amount the card page shows and Stripe's webhook
    expects); none when the deposit paid it all."""
    source = locked_source(order)
    due = due_of(source)
    if source is None or source.source_type.code != CARD or due <= 0:
        return
    intent = stripe_gateway.create_payment_intent(order_number=order.number, amount=due)
    source.reference = intent["id"]
    source.save(update_fields=["reference"])


@dataclass
class Conversion:
    window: PreorderWindow
    filled: list = field(default_factory=list)  # (pre-order, order)
    unfilled: list = field(default_factory=list)  # pre-orders cancelled

    @property
    def delivered(self) -> int:
        return sum(p.converted for p, _order in self.filled)


def lot_choices(window) -> list:
    """The lots of this producer and product the pre-orders may be filled from (sellable)."""
    return (
        lot_provider()
        .choices(partner_id=window.partner_id, product_ids=[window.product_id])
        .get(window.product_id, [])
    )


def convert(*, window, lot_id, quantity: int, by) -> Conversion:
    """Convert the window's pre-orders into orders from lot `lot_id`, of which `quantity`
    was harvested for them (see the module's docstring)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise PreorderRefused(_("Enter the harvested quantity as a whole number."))
    with transaction.atomic():
        window = _locked_window(window)
        if window.status == PreorderWindow.Status.CONVERTED:
            raise PreorderRefused(_("These pre-orders are already converted."))
        lot = None
        if quantity > 0:
            lot = next((lot for lot in lot_choices(window) if lot.pk == lot_id), None)
            if lot is None:
                raise PreorderRefused(
                    _("Choose a lot of this product that may be sold (not recalled or expired).")
                )
        preorders = list(
            Preorder.objects.select_for_update(of=("self",))
            .filter(window=window, status=Preorder.Status.PLACED)
            .select_related("deposit_order", "address", "user")
            .order_by("placed_at", "pk")
        )
        wanted = sum(p.quantity for p in preorders)
        used = min(quantity, wanted)
        stockrecord = _stockrecord(window) if used else None
        harvest = nullcontext()
        if used and batches.is_lot_sold(stockrecord):
            # A product sold from its lots: the harvest is stock of the lot it came from,
            # and the orders take from that lot first (each line linked to it when placed).
            harvest = batches.harvest_for_orders(
                stockrecord=stockrecord,
                source_id=lot.pk,
                label=lot.code,
                quantity=used,
                expires_on=getattr(lot, "expiry_date", None),
            )
        elif used:
            # The harvest for the pre-orders enters the stock, and the orders reserve it.
            stock.restock(stockrecord=stockrecord, quantity=used)
        result = Conversion(window=window)
        left = quantity
        now = timezone.now()
        with harvest:
            for preorder in preorders:
                give = min(preorder.quantity, left)
                left -= give
                preorder.ended_at = now
                if give <= 0:
                    preorder.status = Preorder.Status.UNFILLED
                    preorder.save(update_fields=["status", "ended_at"])
                    _settle_deposit(
                        preorder, reason=_("Pre-order cancelled: the harvest fell short"), by=by
                    )
                    result.unfilled.append(preorder)
                    continue
                share = window.deposit_percent
                credit = min(
                    deposit_for(price=preorder.price, quantity=give, percent=share),
                    preorder.deposit,
                )
                order = _place_order(preorder, give, stockrecord)
                line = order.lines.get()
                try:
                    if line.pk not in lot_provider().linked([line.pk]):
                        lot_provider().link(line=line, lot_id=lot.pk, by=by)
                except ValidationError as exc:
                    raise PreorderRefused(" ".join(exc.messages)) from None
                except PermissionDenied as exc:
                    raise PreorderRefused(str(exc)) from None
                preorder.status = Preorder.Status.CONVERTED
                preorder.converted = give
                preorder.order = order
                preorder.save(update_fields=["status", "converted", "order", "ended_at"])
                _credit_deposit(preorder, order=order, credit=credit)
                try:
                    _start_card_payment(order)
                except stripe_gateway.GatewayError:
                    raise PreorderRefused(
                        _("Card payment is not available right now: try converting again later.")
                    ) from None
                _end_deposit(
                    preorder,
                    reason=_("Part of the deposit of a pre-order the harvest did not fill"),
                    by=by,
                )
                result.filled.append((preorder, order))
        window.status = PreorderWindow.Status.CONVERTED
        window.converted_at = now
        window.converted_by = by
        window.harvested = quantity
        window.lot_id = lot.pk if lot else None
        window.lot_code = getattr(lot, "code", "") if lot else ""
        window.save(
            update_fields=[
                "status",
                "converted_at",
                "converted_by",
                "harvested",
                "lot_id",
                "lot_code",
            ]
        )
        for _preorder, order in result.filled:
            notifications.order_placed(order)
        for preorder in result.unfilled:
            notifications.preorder_unfilled(preorder)
    return result
