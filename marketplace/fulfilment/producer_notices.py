"""Messages to producers and post offices, in Vietnamese, each with a link:

- a producer is told of each new order to pack (one message per parcel: what to pack);
- every morning, a digest to each producer with parcels to pack or awaiting pickup;
- every morning, each post office gets the day's list of packed parcels to pick up, per
  producer, in its province.

Each goes by SMS (to the phone a producer signs in with) and by e-mail (when the person
has an address), through the pluggable senders (settings.NOTIFICATION_SMS_SENDER, the
same interface as the activation sender: ``send(*, phone, email, message)``), and by Zalo
when settings.NOTIFICATION_ZALO_SENDER names a sender (see ``ZaloSender``). Every message
is recorded (ProducerNotice: key, channel, recipient, unique), so a task run twice, or two
workers running it at once, send it once. New-order messages leave through Celery after
the order's transaction commits (``order_to_pack``), never inside it; the digests and
pickup lists are Celery beat tasks (CELERY_BEAT_SCHEDULE).
"""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.core.links import absolute_url
from marketplace.core.money import format_dong
from marketplace.core.post_offices import Contact, post_offices

logger = logging.getLogger("marketplace.fulfilment.producer_notices")
LANGUAGE = "vi"  # producers and post offices read Vietnamese


class ZaloSender:
    """Extension point for Zalo notifications (Zalo Notification Service, ZNS), not a live
    integration. To send producers' messages by Zalo too, write a class with this method
    (calling the ZNS API with the Official Account's access token and an approved
    template whose parameters carry the message and its link) and name it in
    settings.NOTIFICATION_ZALO_SENDER (environment variable of the same name). It receives
    the phone number as E.164 (+84…); raising OSError makes the task retry later, and the
    message is recorded only once it was sent."""

    def send(self, *, phone: str, email: str, message: str) -> None:
        raise NotImplementedError("Write a ZNS client here; see the docstring.")


class LocmemZaloSender:
    """Keeps messages in ``outbox`` (tests)."""

    outbox: list[dict] = []

    def send(self, *, phone: str, email: str, message: str) -> None:
        self.outbox.append({"phone": phone, "email": email, "message": message})


# --- Sending once -----------------------------------------------------------------------------


def _channels(contact: Contact):
    if contact.email:
        yield "email", contact.email
    if contact.phone:
        yield "sms", contact.phone
        if getattr(settings, "NOTIFICATION_ZALO_SENDER", ""):
            yield "zalo", contact.phone


def _send(channel: str, recipient: str, subject: str, text: str) -> None:
    if channel == "email":
        send_mail(subject, text, None, [recipient])
        return
    path = (
        settings.NOTIFICATION_SMS_SENDER if channel == "sms" else settings.NOTIFICATION_ZALO_SENDER
    )
    import_string(path)().send(phone=recipient, email="", message=f"{subject}. {text}")


def deliver(
    *, kind: str, key: str, contacts, subject: str, text: str, partner_id=None, parcel_id=None
):
    """Send `subject`/`text` to every contact on each of its channels, once: a channel and
    recipient already recorded under `key` is skipped. Returns [(channel, recipient)] sent."""
    from marketplace.models import ProducerNotice

    sent = []
    for contact in contacts:
        for channel, recipient in _channels(contact):
            try:
                with transaction.atomic():
                    ProducerNotice.objects.create(
                        kind=kind,
                        key=key,
                        channel=channel,
                        recipient=recipient,
                        partner_id=partner_id,
                        parcel_id=parcel_id,
                    )
                    _send(channel, recipient, subject, text)
            except IntegrityError:
                continue  # sent before: a repeated task sends nothing
            sent.append((channel, recipient))
    return sent


def producer_contacts(partner) -> list[Contact]:
    """The people who run a producer's shop: the phone they sign in with (a farmer's
    username is its E.164 number) and their e-mail (prefetch ``users``)."""
    contacts = []
    for user in partner.users.all():
        if not user.is_active:
            continue
        username = user.get_username()
        contacts.append(
            Contact(phone=username if username.startswith("+") else "", email=user.email or "")
        )
    return contacts


# --- What each message says -------------------------------------------------------------------


def _line_text(line) -> str:
    return f"- {line.title} × {line.quantity}"


def _active_lines_by_parcel(parcels) -> dict:
    """{parcel id: [its lines not cancelled]} in one query."""
    from oscar.core.loading import get_model

    Line = get_model("order", "Line")
    by_key = {(p.order_id, p.partner_id): p.pk for p in parcels}
    lines = defaultdict(list)
    if not by_key:
        return lines
    rows = (
        Line.objects.filter(
            order_id__in={k[0] for k in by_key},
            partner_id__in={k[1] for k in by_key},
            cancellation__isnull=True,
        )
        .only("pk", "order_id", "partner_id", "title", "quantity")
        .order_by("pk")
    )
    for line in rows:
        parcel_id = by_key.get((line.order_id, line.partner_id))
        if parcel_id is not None:
            lines[parcel_id].append(line)
    return lines


def new_order_message(parcel, lines) -> tuple[str, str]:
    """(subject, text) telling a producer what to pack for one parcel."""
    from marketplace.fulfilment.services import pack_refusal

    subject = _("New order %(number)s to pack") % {"number": parcel.order.number}
    parts = [_("Pack for order %(number)s:") % {"number": parcel.order.number}]
    parts += [_line_text(line) for line in lines]
    if parcel.cod_amount:
        parts.append(
            _("The post office collects %(amount)s on delivery.")
            % {"amount": format_dong(parcel.cod_amount)}
        )
    refusal = pack_refusal(parcel)
    if refusal:
        parts.append(refusal)
    link = absolute_url(reverse("fulfilment:producer-parcel", kwargs={"pk": parcel.pk}))
    parts.append(_("Details and packing slip: %(link)s") % {"link": link})
    return subject, "\n".join(parts)


def digest_message(partner, to_pack, to_pick_up, lines, day) -> tuple[str, str]:
    subject = _("Your orders on %(date)s") % {"date": day.strftime("%d/%m/%Y")}
    parts = [
        ngettext(
            "%(count)s parcel to pack, %(waiting)s awaiting the post office.",
            "%(count)s parcels to pack, %(waiting)s awaiting the post office.",
            len(to_pack),
        )
        % {"count": len(to_pack), "waiting": len(to_pick_up)}
    ]
    for parcel in to_pack:
        parts.append(_("Order %(number)s:") % {"number": parcel.order.number})
        parts += [_line_text(line) for line in lines.get(parcel.pk, [])]
    parts.append(
        _("Your orders: %(link)s") % {"link": absolute_url(reverse("fulfilment:producer-parcels"))}
    )
    return subject, "\n".join(parts)


def pickup_message(office, by_producer, day) -> tuple[str, str]:
    count = sum(len(parcels) for _producer, parcels in by_producer)
    subject = _("Parcels to pick up on %(date)s") % {"date": day.strftime("%d/%m/%Y")}
    parts = [
        ngettext(
            "%(office)s: %(count)s packed parcel to pick up.",
            "%(office)s: %(count)s packed parcels to pick up.",
            count,
        )
        % {"office": office.name, "count": count}
    ]
    for partner, parcels in by_producer:
        profile = getattr(partner, "producer_profile", None)
        where = profile.address_line if profile is not None else ""
        parts.append(
            ngettext(
                "%(producer)s (%(address)s): %(count)s parcel",
                "%(producer)s (%(address)s): %(count)s parcels",
                len(parcels),
            )
            % {"producer": partner.name, "address": where, "count": len(parcels)}
        )
        for parcel in parcels:
            parts.append(
                _("- order %(number)s, %(kg)s kg, collect %(cod)s")
                % {
                    "number": parcel.order.number,
                    "kg": f"{parcel.weight_grams / 1000:g}".replace(".", ","),
                    "cod": format_dong(parcel.cod_amount),
                }
            )
    link = absolute_url(reverse("fulfilment:post-parcels")) + "?trang-thai=packed"
    parts.append(_("The list: %(link)s") % {"link": link})
    return subject, "\n".join(parts)


# --- What the tasks run -----------------------------------------------------------------------


def order_to_pack(order) -> None:
    """After the order's transaction commits: tell each of its producers what to pack."""
    from marketplace import tasks

    order_id = order.pk
    transaction.on_commit(lambda: tasks.notify_producers.delay(order_id))


def notify_new_order(*, order_id: int) -> list:
    """Each producer of the order is told what to pack for its parcel, once per channel."""
    from marketplace.models import Parcel

    parcels = list(
        Parcel.objects.filter(order_id=order_id)
        .exclude(status=Parcel.Status.CANCELLED)
        .select_related("order", "partner")
        .prefetch_related("partner__users")
    )
    lines = _active_lines_by_parcel(parcels)
    sent = []
    with translation.override(LANGUAGE):
        for parcel in parcels:
            subject, text = new_order_message(parcel, lines.get(parcel.pk, []))
            sent += deliver(
                kind="new_order",
                key=f"parcel:{parcel.pk}",
                contacts=producer_contacts(parcel.partner),
                subject=subject,
                text=text,
                partner_id=parcel.partner_id,
                parcel_id=parcel.pk,
            )
    return sent


def _today() -> datetime.date:
    return timezone.localdate()


def send_digests(*, day: datetime.date | None = None) -> int:
    """The morning digest, once a day, to each producer with parcels to pack or awaiting
    pickup. Returns how many messages were sent."""
    from marketplace.models import Parcel

    day = day or _today()
    parcels = list(
        Parcel.objects.filter(status__in=Parcel.OPEN_STATUSES)
        .select_related("order", "partner")
        .prefetch_related("partner__users")
        .order_by("partner_id", "order__date_placed", "pk")
    )
    by_partner = defaultdict(list)
    for parcel in parcels:
        by_partner[parcel.partner_id].append(parcel)
    lines = _active_lines_by_parcel([p for p in parcels if p.status == Parcel.Status.NEW])
    sent = 0
    with translation.override(LANGUAGE):
        for partner_id, own in by_partner.items():
            partner = own[0].partner
            to_pack = [p for p in own if p.status == Parcel.Status.NEW]
            to_pick_up = [p for p in own if p.status == Parcel.Status.PACKED]
            subject, text = digest_message(partner, to_pack, to_pick_up, lines, day)
            sent += len(
                deliver(
                    kind="digest",
                    key=f"digest:{partner_id}:{day.isoformat()}",
                    contacts=producer_contacts(partner),
                    subject=subject,
                    text=text,
                    partner_id=partner_id,
                )
            )
    return sent


def pickup_lists() -> dict:
    """{post office pk: (office, [(producer, [packed parcels])])} for every post office with
    parcels to pick up in its province (three queries)."""
    from marketplace.models import Parcel

    offices = [o for o in post_offices() if o.province_code is not None]
    if not offices:
        return {}
    packed = list(
        Parcel.objects.filter(
            status=Parcel.Status.PACKED,
            partner__producer_profile__province_code__in={o.province_code for o in offices},
        )
        .select_related("order", "partner", "partner__producer_profile")
        .order_by("partner__name", "partner_id", "packed_at", "pk")
    )
    found = {}
    for office in offices:
        groups: dict = {}
        for parcel in packed:
            if parcel.partner.producer_profile.province_code == office.province_code:
                groups.setdefault(parcel.partner_id, (parcel.partner, []))[1].append(parcel)
        if groups:
            found[office.pk] = (office, list(groups.values()))
    return found


def send_pickup_lists(*, day: datetime.date | None = None) -> int:
    """Each post office's list of parcels to pick up, once a day, to each of its staff."""
    day = day or _today()
    sent = 0
    with translation.override(LANGUAGE):
        for office, by_producer in pickup_lists().values():
            subject, text = pickup_message(office, by_producer, day)
            sent += len(
                deliver(
                    kind="pickup",
                    key=f"pickup:{office.pk}:{day.isoformat()}",
                    contacts=office.contacts,
                    subject=subject,
                    text=text,
                )
            )
    return sent
