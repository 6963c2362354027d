"""Encryption and keyed hashing of personal data (CCCD numbers, activation codes).

Both keys are derived from settings.PERSONAL_DATA_KEY (environment), each for one purpose,
so the encryption key never doubles as the lookup key. The CCCD is stored as a Fernet
token (AES-128-CBC + HMAC-SHA256) and found by an HMAC-SHA256 of its digits, which is
unique: the same citizen cannot be registered twice.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _derive(purpose: str) -> bytes:
    return hmac.new(settings.PERSONAL_DATA_KEY.encode(), purpose.encode(), hashlib.sha256).digest()


@cache
def _fernet(secret: str) -> Fernet:
    del secret  # part of the cache key only: a changed setting gives a new Fernet
    return Fernet(base64.urlsafe_b64encode(_derive("nongsan.farmers.cccd.encrypt.v1")))


def encrypt(text: str) -> str:
    return _fernet(settings.PERSONAL_DATA_KEY).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.PERSONAL_DATA_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or rotated key: say so instead of showing junk
        raise ValueError("personal data key does not match the stored value") from exc


def keyed_hash(text: str, *, purpose: str = "nongsan.farmers.cccd.lookup.v1") -> str:
    return hmac.new(_derive(purpose), text.encode(), hashlib.sha256).hexdigest()
