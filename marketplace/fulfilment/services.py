"""Fulfilment: producers pack their parcels, the post office ships them, delivers them and
collects the cash on delivery.

Every write is here, one transaction each; each transition first locks the parcel row
(SELECT … FOR UPDATE), then checks the status it finds, so two clicks, two counters or a
retried request cannot apply a transition twice. Each records who and when:

    new ──pack──▶ packed ──pick_up──▶ picked_up ──deliver──▶ delivered ──collect_cod (COD only)
                                          └──fail_delivery──▶ failed ──return_to_sender──▶ returned
    new, packed ──▶ cancelled (marketplace.fulfilment.cancellations)

- ``pack(parcel, user, lots={line_id: lot})``: a user of the parcel's producer; optionally
  the lot each line was packed from (through the lot hook, marketplace.core.lots, which
  traceability fills in with its own rules: a lot of this producer and product, not
  recalled);
- ``set_tracking``: the Vietnam Post tracking number (UPU S10 with its check digit, ending
  in VN), unique among parcels that are not cancelled; before pickup only;
- ``pick_up`` (packed and with a tracking number) and ``deliver`` notify the buyer after
  commit (marketplace.fulfilment.notifications);
- ``collect_cod``: once, for a delivered parcel paid on delivery, exactly its
  ``cod_amount``; recorded as a payment on the order (payments.state.record_payment), so
  the order is paid once the cash of every parcel is in.
- a delivered parcel enters its producer's settlement ledger at once
  (marketplace.finance.settlements.post_deliveries): paid in advance when it is delivered,
  paid on delivery when its cash is recorded;
- ``fail_delivery`` (with the reason) then ``return_to_sender`` (with the return shipping
  fee Vietnam Post charges the sender): the goods come back into the producer's stock
  (stock.restock), nothing is collected, the parcel's amount is no longer due and, paid in
  advance, it is refunded the way it was paid (payments.refunds.settle_cancellation, as
  for a cancelled parcel); the fee is charged to the producer's ledger; the buyer is told.

Refusals raise ``FulfilmentError`` with a message for the person at the counter (in the
active language); a user who may not act on the parcel at all gets PermissionDenied.

Who acts: the producer's users pack; post-office staff act on the parcels of producers in
their province (the scope rule, marketplace.core.scope); the operator on all.
``marketplace`` imports neither ``farmers`` nor ``traceability``: they register the scope
rule and the lot hook (marketplace.core) when they start.
"""

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.catalogue import stock
from marketplace.core.lots import lot_provider
from marketplace.core.money import format_dong, parse_dong
from marketplace.core.scope import scope_of
from marketplace.finance import settlements
from marketplace.fulfilment import notifications
from marketplace.models import Parcel
from marketplace.payments import refunds
from marketplace.payments.state import (
    COD,
    PaymentError,
    payment_state,
    record_payment,
)

Line = get_model("order", "Line")

Status = Parcel.Status


class FulfilmentError(Exception):
    """A transition that must not happen; the message says why, for the user."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- Vietnam Post tracking numbers (UPU S10) ------------------------------------------------

S10_RE = re.compile(r"^[A-Z]{2}[0-9]{9}[A-Z]{2}$")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
TRACKING_EXAMPLE = "EB123456785VN"


def s10_check_digit(serial: str) -> int:
    """The check digit of the 8-digit serial number of an S10 item identifier."""
    total = sum(int(digit) * weight for digit, weight in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def normalise_tracking(value) -> str:
    """Upper case, without the spaces, dots and dashes people type or copy."""
    return re.sub(r"[\s.\-]", "", str(value or "")).upper()


def clean_tracking_number(value) -> str:
    """The tracking number in its canonical form, or FulfilmentError saying what is wrong."""
    number = normalise_tracking(value)
    if not number:
        raise FulfilmentError(_("Enter the tracking number printed on the Vietnam Post receipt."))
    if not S10_RE.match(number):
        raise FulfilmentError(
            _(
                "A tracking number has 2 letters, 9 digits and 2 letters, for example "
                "%(example)s. Check the number on the receipt."
            )
            % {"example": TRACKING_EXAMPLE}
        )
    if not number.endswith("VN"):
        raise FulfilmentError(
            _("%(number)s is not a Vietnam Post tracking number: it must end in VN.")
            % {"number": number}
        )
    if int(number[10]) != s10_check_digit(number[2:10]):
        raise FulfilmentError(
            _(
                "%(number)s is not a valid tracking number: its check digit does not match. "
                "One of its digits is probably mistyped; check it against the receipt."
            )
            % {"number": number}
        )
    return number


# --- Money --------------------------------------------------------------------------------


def clean_amount(value) -> Decimal:
    """A positive whole number of đồng (140000, "140000", "140.000", "140,000 ₫"), else
    FulfilmentError."""
    refused = FulfilmentError(
        _("Enter the amount collected in whole đồng, for example %(example)s.")
        % {"example": "140.000"}
    )
    if isinstance(value, float):
        value = Decimal(str(value)) if value == value else None
    try:
        amount = parse_dong(value)
    except ValidationError:
        raise refused from None
    if amount <= 0:
        raise refused
    return Decimal(amount)


def money(amount, order=None) -> str:
    return format_dong(amount)


# --- Scopes -------------------------------------------------------------------------------


def producer_parcels(partner):
    """The parcels of one producer (an Oscar Partner), newest order first."""
    return Parcel.objects.filter(partner=partner).order_by("-order__date_placed", "-pk")


def post_office_of(user):
    """The post office (an organisation, from the scope rule) this user works at, or None."""
    scope = scope_of(user)
    return scope.organisation if scope.is_post_office else None


def is_post_office_user(user) -> bool:
    scope = scope_of(user)
    return scope.everything or scope.is_post_office


def post_office_parcels(user, *, scope=None):
    """Parcels a post office handles: those of producers in its province (the operator:
    all; anyone else: none). Pass the user's `scope` when already known, to save a query."""
    parcels = Parcel.objects.order_by("-order__date_placed", "-pk")
    scope = scope or scope_of(user)
    if not (scope.everything or scope.is_post_office):
        return parcels.none()
    return scope.filter(
        parcels,
        province_field="partner__producer_profile__province_code",
        commune_field="partner__producer_profile__commune_code",
    )


def search_term(q) -> str:
    """What is searched for: the letters and digits typed (order and tracking numbers have
    nothing else), upper case, at most 40."""
    return re.sub(r"[^0-9A-Z]", "", str(q or "").upper())[:40]


def search_parcels(parcels, *, status: str = "", q: str = ""):
    """Filter by status (ignored when unknown) and by order or tracking number (any part;
    spaces, dashes and case ignored)."""
    if status in Status.values:
        parcels = parcels.filter(status=status)
    q = search_term(q)
    if q:
        parcels = parcels.filter(Q(order__number__icontains=q) | Q(tracking_number__icontains=q))
    return parcels


def parcel_lines(parcel):
    """The order lines of this parcel: its producer's lines, never another's."""
    return Line.objects.filter(order_id=parcel.order_id, partner_id=parcel.partner_id).order_by(
        "pk"
    )


def active_parcel_lines(parcel):
    """The parcel's lines that were not cancelled: what is packed and shipped."""
    return parcel_lines(parcel).filter(cancellation__isnull=True)


def cancelled_lines(parcel) -> list:
    """The parcel's lines the producer could not supply, with why (newest last)."""
    return list(
        parcel_lines(parcel).filter(cancellation__isnull=False).select_related("cancellation")
    )


def lot_choices(parcel, lines) -> dict[int, list]:
    """For each line (by id): the lots it may be packed from — lots of the parcel's producer
    and of the line's product that may be sold (not recalled, not expired, not waiting for
    a safety review), newest first (two queries; marketplace.core.lots)."""
    product_ids = {line.product_id for line in lines if line.product_id}
    by_product = lot_provider().choices(partner_id=parcel.partner_id, product_ids=product_ids)
    return {line.pk: by_product.get(line.product_id, []) for line in lines}


def parcel_lines_with_lots(parcel) -> list:
    """The parcel's own lines that were not cancelled, each with `lot` (the lot it was
    packed from, or None)."""
    lots = lot_provider()
    lines = list(lots.with_lots(active_parcel_lines(parcel)))
    for line in lines:
        line.lot = lots.lot_of(line)
    return lines


# --- Transitions ----------------------------------------------------------------------------


def _lock(parcel) -> Parcel:
    return Parcel.objects.select_for_update().get(pk=parcel.pk)


def _copy(target: Parcel, source: Parcel, fields: list[str]) -> None:
    """Bring the caller's instance up to date with what was saved."""
    for field in fields:
        setattr(target, field, getattr(source, field))


def _check_producer(user, parcel) -> None:
    if not (user.is_authenticated and parcel.partner.users.filter(pk=user.pk).exists()):
        raise PermissionDenied(_("Only the producer of this parcel can pack it."))


def _check_post_office(user, parcel) -> None:
    if not post_office_parcels(user).filter(pk=parcel.pk).exists():
        raise PermissionDenied(_("This parcel is not handled by your post office."))


def _lot_id(lot) -> int | None:
    if lot in (None, ""):
        return None
    if hasattr(lot, "pk"):
        return lot.pk
    try:
        return int(lot)
    except (TypeError, ValueError):
        return -1  # refused below with the lot rules' own message


def _link_lots(parcel, user, lots: dict) -> None:
    if not lots:
        return
    provider = lot_provider()
    lines = {line.pk: line for line in parcel_lines(parcel)}
    linked = provider.linked(list(lines))
    for key, lot in lots.items():
        try:
            line = lines[int(key)]
        except (KeyError, TypeError, ValueError):
            raise FulfilmentError(_("This order line is not part of your parcel.")) from None
        lot_id = _lot_id(lot)
        if lot_id is None:
            continue  # no lot chosen for this line
        if line.pk in linked:
            if linked[line.pk][0] == lot_id:
                continue
            raise FulfilmentError(
                _("%(product)s is already linked to lot %(code)s.")
                % {"product": line.title, "code": linked[line.pk][1]}
            )
        try:
            provider.link(line=line, lot_id=lot_id, by=user)
        except (ValidationError, PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            raise FulfilmentError(
                _("%(product)s: %(message)s") % {"product": line.title, "message": messages[0]}
            ) from None


# Why a transition cannot happen to a parcel as it stands (None: it can). The services
# ask these after locking the row; pages ask them to decide which actions to offer.


def pack_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status != Status.NEW:
        return _("This parcel is already packed.")
    # Paid in advance (transfer, card): nothing leaves the farm before the money arrives
    # (what is still due, after any cancellation, is covered net of refunds).
    state = payment_state(parcel.order)
    if state.code == "on_delivery" or state.method == COD:
        return None
    if state.covered:
        return None
    if state.refunded > 0:
        return _("This order was refunded: do not pack it; the marketplace will contact you.")
    return _("The buyer has not paid yet: pack this parcel once the order is paid.")


def tracking_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status in (Status.PICKED_UP, Status.DELIVERED):
        return _("This parcel has already been picked up: its tracking number cannot change.")
    return None


def pick_up_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status == Status.NEW:
        return _("This parcel is not packed yet: the producer must mark it packed first.")
    if parcel.status != Status.PACKED:
        return _("This parcel has already been picked up.")
    if not parcel.tracking_number:
        return _("Enter the tracking number before marking the parcel picked up.")
    return None


def deliver_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status in (Status.FAILED, Status.RETURNED):
        return _("The delivery of this parcel failed: it goes back to the producer.")
    if parcel.status == Status.DELIVERED:
        return _("This parcel has already been delivered.")
    if parcel.status != Status.PICKED_UP:
        return _("This parcel has not been picked up yet: mark it picked up first.")
    return None


def cod_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status in (Status.FAILED, Status.RETURNED):
        return _("The delivery of this parcel failed: there is no cash to collect.")
    payment = parcel.payment
    if not payment.cod:
        return _("This parcel was paid in advance: there is no cash to collect.")
    if payment.collected is not None:
        return _("The cash for this parcel has already been recorded: %(amount)s.") % {
            "amount": money(payment.collected, parcel.order)
        }
    if parcel.status != Status.DELIVERED:
        return _("Cash is collected on delivery: mark the parcel delivered first.")
    return None


def _refuse(refusal) -> None:
    if refusal:
        raise FulfilmentError(refusal)


def _advance(parcel, user, *, status, stamp, check, refusal, before=None, after=None):
    """Move the locked parcel to `status`, stamping `{stamp}_at` / `{stamp}_by` with now and
    `user`, after the caller's permission `check` and the transition's `refusal`."""
    with transaction.atomic():
        locked = _lock(parcel)
        check(user, locked)
        _refuse(refusal(locked))
        if before is not None:
            before(locked)
        locked.status = status
        setattr(locked, f"{stamp}_at", timezone.now())
        setattr(locked, f"{stamp}_by", user)
        fields = ["status", f"{stamp}_at", f"{stamp}_by"]
        locked.save(update_fields=fields)
        if after is not None:
            after(locked)
    _copy(parcel, locked, fields)
    return locked


def pack(parcel, user, lots: dict | None = None) -> Parcel:
    """The producer has packed the parcel, optionally from these lots ({line id: lot or lot
    id}; lines left out or given None keep no lot)."""
    return _advance(
        parcel,
        user,
        status=Status.PACKED,
        stamp="packed",
        check=_check_producer,
        refusal=pack_refusal,
        before=lambda locked: _link_lots(locked, user, lots or {}),
    )


def set_tracking(parcel, user, tracking_number) -> Parcel:
    """The post office's tracking number for the parcel (before it is picked up)."""
    number = clean_tracking_number(tracking_number)
    with transaction.atomic():
        locked = _lock(parcel)
        _check_post_office(user, locked)
        _refuse(tracking_refusal(locked))
        taken = (
            Parcel.objects.filter(tracking_number=number)
            .exclude(pk=locked.pk)
            .exclude(status=Status.CANCELLED)
            .exists()
        )
        used = _("The tracking number %(number)s is already used for another parcel.") % {
            "number": number
        }
        if taken:
            raise FulfilmentError(used)
        locked.tracking_number = number
        try:
            with transaction.atomic():  # the same number saved at this moment elsewhere
                locked.save(update_fields=["tracking_number"])
        except IntegrityError:
            raise FulfilmentError(used) from None
    _copy(parcel, locked, ["tracking_number"])
    return locked


def _goods_leave(parcel) -> None:
    """The parcel's goods leave the producer: their reservation is consumed."""
    try:
        stock.consume_lines(list(active_parcel_lines(parcel)))
    except stock.StockError as exc:
        raise FulfilmentError(str(exc)) from None


def pick_up(parcel, user) -> Parcel:
    """The post office has taken the packed parcel: its goods leave the stock
    (stock.consume); the buyer is told after commit."""
    return _advance(
        parcel,
        user,
        status=Status.PICKED_UP,
        stamp="picked_up",
        check=_check_post_office,
        refusal=pick_up_refusal,
        before=_goods_leave,
        after=notifications.parcel_shipped,
    )


def _delivered(parcel) -> None:
    """Paid in advance: the sale enters the producer's ledger now (paid on delivery: once
    the cash is recorded); the buyer is told after commit."""
    settlements.post_deliveries(by=parcel.delivered_by, parcel_ids=[parcel.pk])
    notifications.parcel_delivered(parcel)


def deliver(parcel, user) -> Parcel:
    """The buyer has received the parcel; the buyer is told after commit."""
    return _advance(
        parcel,
        user,
        status=Status.DELIVERED,
        stamp="delivered",
        check=_check_post_office,
        refusal=deliver_refusal,
        after=_delivered,
    )


def collect_cod(parcel, user, amount) -> Parcel:
    """The cash the postman collected for a delivered parcel: exactly its cod_amount, once.
    It is recorded as a payment on the order, with the tracking number as reference."""
    amount = clean_amount(amount)
    with transaction.atomic():
        locked = _lock(parcel)
        _check_post_office(user, locked)
        _refuse(cod_refusal(locked))
        order = locked.order
        if amount != locked.payment.to_collect:
            raise FulfilmentError(
                _(
                    "The amount collected must be exactly %(expected)s, what the buyer owes "
                    "for this parcel (you entered %(amount)s)."
                )
                % {
                    "expected": money(locked.payment.to_collect, order),
                    "amount": money(amount, order),
                }
            )
        try:
            record_payment(order, method=COD, amount=amount, reference=locked.tracking_number)
        except PaymentError as exc:
            raise FulfilmentError(str(exc)) from None
        locked.cod_collected = amount
        locked.cod_collected_at = timezone.now()
        locked.cod_collected_by = user
        fields = ["cod_collected", "cod_collected_at", "cod_collected_by"]
        locked.save(update_fields=fields)
        settlements.post_deliveries(by=user, parcel_ids=[locked.pk])
    _copy(parcel, locked, fields)
    return locked


# --- Failed deliveries and returns ------------------------------------------------------------


def fail_refusal(parcel) -> str | None:
    if parcel.status == Status.CANCELLED:
        return _("This parcel is cancelled.")
    if parcel.status in (Status.FAILED, Status.RETURNED):
        return _("This parcel's delivery is already recorded as failed.")
    if parcel.status == Status.DELIVERED:
        return _("This parcel has already been delivered.")
    if parcel.status != Status.PICKED_UP:
        return _("This parcel has not been picked up yet: mark it picked up first.")
    return None


def return_refusal(parcel) -> str | None:
    if parcel.status == Status.RETURNED:
        return _("This parcel has already been returned to the producer.")
    if parcel.status != Status.FAILED:
        return _("Only a parcel whose delivery failed can be returned to the producer.")
    return None


def _clean_reason(reason) -> str:
    text = " ".join(str(reason or "").split())[:255]
    if not text:
        raise FulfilmentError(_("Say why the delivery failed."))
    return text


def clean_fee(value) -> Decimal:
    """The return shipping fee: whole đồng, zero or more."""
    if value in (None, ""):
        return Decimal(0)
    try:
        amount = parse_dong(value)
    except ValidationError:
        raise FulfilmentError(
            _("Enter the fee in whole đồng, for example %(example)s.") % {"example": "25.000"}
        ) from None
    if amount < 0:
        raise FulfilmentError(_("The fee cannot be negative."))
    return Decimal(amount)


def fail_delivery(*, parcel, by, reason) -> Parcel:
    """The postman could not deliver the parcel (nobody home, refused, wrong address…)."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock(parcel)
        _check_post_office(by, locked)
        _refuse(fail_refusal(locked))
        locked.status = Status.FAILED
        locked.failed_at = timezone.now()
        locked.failed_by = by
        locked.failure_reason = reason
        fields = ["status", "failed_at", "failed_by", "failure_reason"]
        locked.save(update_fields=fields)
    _copy(parcel, locked, fields)
    return locked


def return_to_sender(*, parcel, by, fee=0) -> Parcel:
    """The failed parcel is back at the producer (chuyển hoàn): its goods go back into
    stock, nothing is collected on it (paid on delivery: its amount is no longer due), and
    the return shipping fee is recorded; the buyer is told after commit."""
    fee = clean_fee(fee)
    with transaction.atomic():
        locked = _lock(parcel)
        _check_post_office(by, locked)
        _refuse(return_refusal(locked))
        stock.restock_lines(list(active_parcel_lines(locked)))
        try:
            refunds.settle_cancellation(
                order=locked.order,
                amount=locked.goods_total + locked.shipping_charge,
                reason=_("Returned to the producer: %(reason)s")
                % {"reason": locked.failure_reason},
                by=by,
                parcel=locked,
            )
        except (PaymentError, refunds.RefundRefused) as exc:
            raise FulfilmentError(str(exc)) from None
        locked.status = Status.RETURNED
        locked.returned_at = timezone.now()
        locked.returned_by = by
        locked.return_shipping_fee = fee
        fields = ["status", "returned_at", "returned_by", "return_shipping_fee"]
        locked.save(update_fields=fields)
        if fee > 0:
            settlements.record_adjustment(
                producer=locked.partner_id,
                amount=fee,
                kind=settlements.Kind.RETURN,
                reference=_("Return of %(parcel)s") % {"parcel": locked},
                by=by,
            )
        notifications.parcel_returned(locked)
    _copy(parcel, locked, fields)
    return locked
