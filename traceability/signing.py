"""The Ed25519 key that signs trace records and checkpoints, read from the environment or a
file, never from the database (config/settings.py: TRACE_SIGNING_KEY,
TRACE_SIGNING_KEY_FILE, TRACE_RETIRED_PUBLIC_KEYS).

With DEBUG on and no key configured, a development key is generated once under var/
(settings point TRACE_SIGNING_KEY_FILE there); with DEBUG off settings refuse to start
without a key. Rotation: configure the new private key and add the old public key to
TRACE_RETIRED_PUBLIC_KEYS; every signature names its key by id, so old records stay
verifiable with the old public key, which stays published at /minh-bach/khoa/.
"""

import base64
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import verifier


def _decode_private(text: str) -> ed25519.Ed25519PrivateKey:
    text = text.strip()
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    else:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def private_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_pem(public_key) -> str:
    return public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def public_base64(public_key) -> str:
    return base64.b64encode(verifier.raw_public_bytes(public_key)).decode("ascii")


def _generate_dev_key(path: Path) -> None:
    """A development key, written once (O_EXCL: two processes starting at once keep the
    first one's key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem(ed25519.Ed25519PrivateKey.generate()))


@functools.cache
def _private_key(text: str, path: str) -> ed25519.Ed25519PrivateKey:
    try:
        if text:
            return _decode_private(text)
        if not path:
            raise ImproperlyConfigured("TRACE_SIGNING_KEY is not set.")
        file = Path(path)
        if not file.is_file() and settings.DEBUG:
            _generate_dev_key(file)
        return _decode_private(file.read_text(encoding="ascii"))
    except (ValueError, TypeError, OSError) as exc:
        raise ImproperlyConfigured(
            f"TRACE_SIGNING_KEY (or TRACE_SIGNING_KEY_FILE) is not a usable Ed25519 key: {exc}"
        ) from exc


def private_key() -> ed25519.Ed25519PrivateKey:
    return _private_key(settings.TRACE_SIGNING_KEY, settings.TRACE_SIGNING_KEY_FILE)


def current_key_id() -> str:
    return verifier.key_id(private_key().public_key())


def trusted_keys() -> dict:
    """{key id: public key}: the current key's and the retired ones'."""
    keys = {}
    retired = (settings.TRACE_RETIRED_PUBLIC_KEYS or "").replace(",", " ").strip()
    if retired:
        try:
            keys.update(verifier.load_public_keys(retired))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"TRACE_RETIRED_PUBLIC_KEYS holds something that is not an Ed25519 public "
                f"key: {exc}"
            ) from exc
    public = private_key().public_key()
    keys[verifier.key_id(public)] = public
    return keys


def sign(message: bytes) -> tuple[str, str]:
    """(key id, base64 signature) of `message` with the current key."""
    key = private_key()
    signature = key.sign(message)
    return verifier.key_id(key.public_key()), base64.b64encode(signature).decode("ascii")


def check_configuration() -> None:
    """Raise ImproperlyConfigured unless the key loads (called at start-up)."""
    trusted_keys()
