"""The signing key of the trace records.

    manage.py trace_key new      a new private key (base64, for TRACE_SIGNING_KEY) and its
                                 public key; nothing is stored
    manage.py trace_key public   the public keys in use (PEM), to publish and to give to
                                 traceability/verifier.py --key

Rotation: set TRACE_SIGNING_KEY to the new key and add the old public key (base64, from
`public` before the change) to TRACE_RETIRED_PUBLIC_KEYS.
"""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management.base import BaseCommand

from traceability import signing, verifier


class Command(BaseCommand):
    help = "Make a new trace signing key, or print the public keys in use."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new", "public"])

    def handle(self, *args, action, **options):
        if action == "new":
            key = ed25519.Ed25519PrivateKey.generate()
            raw = key.private_bytes(
                encoding=serialization.Encoding.Raw,
                format=serialization.PrivateFormat.Raw,
                encryption_algorithm=serialization.NoEncryption(),
            )
            public = key.public_key()
            self.stdout.write(f"TRACE_SIGNING_KEY={base64.b64encode(raw).decode('ascii')}")
            self.stdout.write(
                f"# public key {verifier.key_id(public)}: {signing.public_base64(public)}"
            )
            self.stdout.write(signing.public_pem(public))
            return
        for key_id, key in sorted(signing.trusted_keys().items()):
            current = " (current)" if key_id == signing.current_key_id() else ""
            self.stdout.write(f"# key {key_id}{current}: {signing.public_base64(key)}")
            self.stdout.write(signing.public_pem(key))
