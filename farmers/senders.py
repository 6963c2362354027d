"""Pluggable delivery of activation codes (settings.ACTIVATION_SENDER, a dotted path).

A sender has one method, send(*, phone, email, message). The console sender logs the
message (the embedded default: `make run` shows the code in the terminal); the locmem
sender keeps messages in `outbox` for tests. An SMS gateway is another class with the
same method.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger("farmers.activation")
outbox: list[dict] = []


class ConsoleSender:
    def send(self, *, phone: str, email: str, message: str) -> None:
        logger.warning("[SMS to %s] %s", phone or email, message)


class LocmemSender:
    def send(self, *, phone: str, email: str, message: str) -> None:
        outbox.append({"phone": phone, "email": email, "message": message})


class EmailSender:
    """E-mail through Django's backend (EMAIL_URL); for members who gave an address."""

    def send(self, *, phone: str, email: str, message: str) -> None:
        if not email:
            raise ValueError("EmailSender needs the member's e-mail address")
        send_mail("nongsan", message, None, [email])


def get_sender():
    return import_string(settings.ACTIVATION_SENDER)()
