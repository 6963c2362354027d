"""Guests' orders: how a guest who checks out without an account says who they are (an
e-mail address, or a Vietnamese phone number, marketplace.core.phones), and how they find
their order again (its number, and that e-mail or the phone on its delivery address).

A browser that has shown it knows an order (the order-status form, or the session that
placed it) remembers the order's number in its session: the guest's order page and the
guest's cancellation accept that browser, and only that browser.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from oscar.apps.customer.utils import normalise_email
from oscar.core.loading import get_model

from marketplace.core import phones

EMAIL, PHONE = "email", "phone"
SESSION_KEY = "guest_orders"
REMEMBERED = 20  # order numbers a session keeps


def guest_contact(value: str) -> tuple[str, str]:
    """What a guest typed to be reached: ("email", the address normalised) or ("phone",
    the number in E.164); ValidationError with one Vietnamese message for anything else."""
    value = (value or "").strip()
    message = _("Enter your e-mail address or a Vietnamese phone number, e.g. 0912 345 678.")
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(message, code="guest_contact") from None
        return EMAIL, normalise_email(value)
    try:
        return PHONE, phones.to_e164(value)
    except ValidationError:
        raise ValidationError(message, code="guest_contact") from None


def order_phone(order) -> str:
    """The phone on the order's delivery address, E.164 ("" when there is none)."""
    address = order.shipping_address
    if address is None or not address.phone_number:
        return ""
    return str(address.phone_number)


def belongs_to(order, kind: str, contact: str) -> bool:
    """Whether a guest's order is the one of this e-mail or phone (as guest_contact gives
    them). An account's order never is: its buyer signs in."""
    if order.user_id is not None or not contact:
        return False
    if kind == EMAIL:
        return bool(order.guest_email) and order.guest_email.lower() == contact.lower()
    return order_phone(order) == contact


def find(number: str, kind: str, contact: str):
    """The guest's order of that number and e-mail or phone, else None."""
    Order = get_model("order", "Order")
    number = (number or "").strip()[:128]
    order = (
        Order.objects.select_related("shipping_address")
        .filter(number=number, user__isnull=True)
        .first()
    )
    return order if order is not None and belongs_to(order, kind, contact) else None


def remember(session, order) -> None:
    """This browser has shown it knows `order`."""
    number = str(order.number)  # an order just created may still hold Oscar's int
    known = [n for n in session.get(SESSION_KEY, []) if n != number]
    session[SESSION_KEY] = [*known, number][-REMEMBERED:]


def is_known(session, order) -> bool:
    """Whether this browser may see and act on the guest's `order`."""
    return order.user_id is None and str(order.number) in session.get(SESSION_KEY, [])


# --- the checkout session: the guest's e-mail or phone -----------------------------------


def set_guest_contact(checkout_session, kind: str, contact: str) -> None:
    """Keep the guest's e-mail or phone for the order (one of them: the other is cleared)."""
    checkout_session.set_guest_email(contact if kind == EMAIL else None)
    checkout_session._set("guest", "phone", contact if kind == PHONE else None)


def guest_phone(checkout_session) -> str:
    return checkout_session._get("guest", "phone") or ""
