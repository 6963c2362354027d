"""Messages to buyers about their orders: placed, a parcel shipped, a parcel delivered, a
parcel or a line cancelled, a parcel returned to the producer.

Each goes by e-mail (when the buyer gave an address) and by SMS to the delivery phone,
through Celery once the transaction that caused it has committed, and each is recorded
(order, parcel, kind, channel) so a retried or repeated task never sends it twice. The SMS
sender is pluggable (settings.NOTIFICATION_SMS_SENDER, same interface as the activation
sender: ``send(*, phone, email, message)``).
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from marketplace.core.links import absolute_url

logger = logging.getLogger("marketplace.fulfilment.notifications")


class LocmemSMSSender:
    """Keeps messages in ``outbox`` (tests)."""

    outbox: list[dict] = []

    def send(self, *, phone: str, email: str, message: str) -> None:
        self.outbox.append({"phone": phone, "email": email, "message": message})


def _enqueue(
    order_id: int, kind: str, parcel_id: int | None = None, line_id: int | None = None
) -> None:
    language = translation.get_language() or settings.LANGUAGE_CODE
    from marketplace import tasks

    transaction.on_commit(
        lambda: tasks.notify_buyer.delay(order_id, kind, parcel_id, language, line_id=line_id)
    )


def order_placed(order) -> None:
    from marketplace.fulfilment import producer_notices

    _enqueue(order.pk, "placed")
    producer_notices.order_to_pack(order)


def parcel_shipped(parcel) -> None:
    _enqueue(parcel.order_id, "shipped", parcel.pk)


def parcel_delivered(parcel) -> None:
    _enqueue(parcel.order_id, "delivered", parcel.pk)


def parcel_cancelled(parcel) -> None:
    _enqueue(parcel.order_id, "cancelled", parcel.pk)


def line_cancelled(line, parcel) -> None:
    _enqueue(parcel.order_id, "cancelled", parcel.pk, line.pk)


def parcel_returned(parcel) -> None:
    _enqueue(parcel.order_id, "returned", parcel.pk)


def _recipients(order) -> dict[str, str]:
    email = order.email or ""
    phone = ""
    address = order.shipping_address
    if address is not None and address.phone_number:
        phone = str(address.phone_number)
    return {"email": email, "sms": phone}


def order_link(order) -> str:
    """Where the buyer follows the order: their account page, or for a guest Oscar's
    order-status page signed with the order's verification hash."""
    from django.urls import reverse

    if order.user_id:
        path = reverse("customer:order", kwargs={"order_number": order.number})
    else:
        path = reverse(
            "customer:anon-order",
            kwargs={"order_number": order.number, "hash": order.verification_hash()},
        )
    return absolute_url(path)


def _message(order, kind: str, parcel, line=None) -> tuple[str, str]:
    """(subject, text) in the active language."""
    context = {
        "order": order,
        "parcel": parcel,
        "line": line,
        "kind": kind,
        "link": order_link(order),
    }
    if kind == "placed":
        subject = _("Order %(number)s received") % {"number": order.number}
    elif kind == "shipped":
        subject = _("Order %(number)s: a parcel is on its way") % {"number": order.number}
    elif kind == "cancelled" and line is not None:
        subject = _("Order %(number)s: a product was cancelled") % {"number": order.number}
    elif kind == "cancelled":
        subject = _("Order %(number)s: a parcel was cancelled") % {"number": order.number}
    elif kind == "returned":
        subject = _("Order %(number)s: a parcel could not be delivered") % {"number": order.number}
    else:
        subject = _("Order %(number)s: a parcel was delivered") % {"number": order.number}
    text = render_to_string("marketplace/notifications/message.txt", context).strip()
    return subject, text


def notify(
    order_id: int,
    kind: str,
    parcel_id: int | None = None,
    language: str = "vi",
    line_id: int | None = None,
):
    """Send the buyer the message of `kind` on every channel it has, once: a channel
    already sent for this order, parcel (line) and kind is skipped (the task may run again)."""
    from oscar.core.loading import get_model

    from marketplace.models import Notification, Parcel

    Order = get_model("order", "Order")
    Line = get_model("order", "Line")
    order = Order.objects.select_related("shipping_address", "user").get(pk=order_id)
    parcel = Parcel.objects.select_related("partner").get(pk=parcel_id) if parcel_id else None
    line = Line.objects.select_related("cancellation").get(pk=line_id) if line_id else None
    sent = []
    with translation.override(language):
        subject, text = _message(order, kind, parcel, line)
        for channel, recipient in _recipients(order).items():
            if not recipient:
                continue
            try:
                with transaction.atomic():
                    Notification.objects.create(
                        order=order,
                        parcel=parcel,
                        line=line,
                        kind=kind,
                        channel=channel,
                        recipient=recipient,
                    )
                    if channel == "email":
                        send_mail(subject, text, None, [recipient])
                    else:
                        sender = import_string(settings.NOTIFICATION_SMS_SENDER)()
                        sender.send(phone=recipient, email="", message=f"{subject}. {text}")
            except IntegrityError:
                continue  # sent before: a repeated task sends nothing
            sent.append(channel)
    return sent


# --- Pre-orders the harvest did not reach --------------------------------------------------------


def preorder_unfilled(preorder) -> None:
    """Tell the buyer their pre-order was cancelled because the harvest fell short (its
    deposit refunded), once the conversion commits."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    from marketplace import tasks

    transaction.on_commit(lambda: tasks.notify_preorder.delay(preorder.pk, language))


def notify_preorder(preorder_id: int, language: str = "vi") -> list[str]:
    """E-mail and SMS to the buyer of a pre-order the harvest did not reach; sent once (the
    pre-order records when), so a repeated task sends nothing."""
    from django.urls import reverse
    from django.utils import timezone

    from marketplace.core.money import format_dong
    from marketplace.models import Preorder

    sent = []
    with transaction.atomic(), translation.override(language):
        preorder = (
            Preorder.objects.select_for_update(of=("self",))
            .select_related("user", "address", "window__product")
            .get(pk=preorder_id)
        )
        if preorder.notified_at is not None:
            return sent
        title = preorder.window.product.get_title()
        subject = _("Pre-order of %(title)s cancelled") % {"title": title}
        text = _(
            "The harvest of %(title)s fell short and did not reach your pre-order of "
            "%(quantity)s, so it is cancelled. Deposit refunded: %(deposit)s. %(link)s"
        ) % {
            "title": title,
            "quantity": preorder.quantity,
            "deposit": format_dong(preorder.deposit),
            "link": absolute_url(reverse("preorders:mine")),
        }
        email = preorder.user.email
        phone = str(preorder.address.phone_number) if preorder.address_id else ""
        if email:
            send_mail(subject, text, None, [email])
            sent.append("email")
        if phone:
            sender = import_string(settings.NOTIFICATION_SMS_SENDER)()
            sender.send(phone=phone, email="", message=f"{subject}. {text}")
            sent.append("sms")
        preorder.notified_at = timezone.now()
        preorder.save(update_fields=["notified_at"])
    return sent
