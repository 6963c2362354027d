"""The signing key: from the environment or a file, never the database; production refuses
to start without one; a development key is made on first use; rotation keeps old records
verifiable."""

import base64
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.management import call_command

from tests.starting import start
from traceability import integrity, signing, verifier
from traceability.models import Lot, TraceRecord

ROOT = Path(__file__).resolve().parent.parent.parent


def _raw(key) -> str:
    return base64.b64encode(
        key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    ).decode()


def test_production_refuses_to_start_without_a_usable_signing_key(tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_bytes(signing.private_pem(ed25519.Ed25519PrivateKey.generate()))
    missing, absent_file, raw, from_file = start(
        {"TRACE_SIGNING_KEY": None},
        {"TRACE_SIGNING_KEY": None, "TRACE_SIGNING_KEY_FILE": str(tmp_path / "absent.pem")},
        {"TRACE_SIGNING_KEY": _raw(ed25519.Ed25519PrivateKey.generate())},
        {"TRACE_SIGNING_KEY": None, "TRACE_SIGNING_KEY_FILE": str(pem)},
    )
    assert "TRACE_SIGNING_KEY is missing" in missing
    assert "TRACE_SIGNING_KEY is missing" in absent_file
    # The traceability app checks the key itself as Django starts.
    assert "not a usable Ed25519 key" in start({"TRACE_SIGNING_KEY": "not-a-key"})[0]
    assert raw is None  # loads with a raw base64 key
    assert from_file == "started"  # and starts with a PEM file


def test_compose_requires_the_signing_key():
    from django.conf import settings

    assert "TRACE_SIGNING_KEY" in settings.PRODUCTION_ENV_VARS
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    for name in ("web", "worker", "beat"):
        environment = compose["services"][name]["environment"]
        assert ":?" in environment["TRACE_SIGNING_KEY"]


def test_development_makes_a_key_file_once(settings, tmp_path):
    settings.DEBUG = True
    settings.TRACE_SIGNING_KEY = ""
    settings.TRACE_SIGNING_KEY_FILE = str(tmp_path / "var" / "trace-signing-key.pem")
    first = signing.current_key_id()
    path = Path(settings.TRACE_SIGNING_KEY_FILE)
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    signing._private_key.cache_clear()
    assert signing.current_key_id() == first


@pytest.mark.django_db
def test_after_a_rotation_old_records_stay_verifiable(traces, settings, capsys):
    lot = Lot.objects.get(code="DEMO-NS0001")
    old_public = signing.public_base64(signing.private_key().public_key())
    old_id = signing.current_key_id()
    settings.TRACE_SIGNING_KEY = _raw(ed25519.Ed25519PrivateKey.generate())
    assert signing.current_key_id() != old_id

    def verdict():
        records = list(TraceRecord.objects.filter(lot=lot).select_related("event"))
        return integrity.verify_lot(
            lot, records=records, events=integrity.signed_events(records), certificates={}
        )

    assert [p.code for p in verdict().problems if p.code == "bad_signature"]
    settings.TRACE_RETIRED_PUBLIC_KEYS = old_public
    assert set(signing.trusted_keys()) == {old_id, signing.current_key_id()}
    assert not [p for p in verdict().problems if p.code == "bad_signature"]
    # New records are signed with the new key, and the chain goes on.
    from django.utils import timezone

    from traceability import services

    services.record_event(
        lot=lot, by=None, kind="shipping", event_time=timezone.now(), details={"carrier": "X"}
    )
    newest = TraceRecord.objects.filter(lot=lot).order_by("-seq").first()
    assert newest.key_id == signing.current_key_id()
    call_command("verify_traces")
    assert "all intact" in capsys.readouterr().out
    call_command("trace_key", "public")
    printed = capsys.readouterr().out
    assert old_id in printed and signing.current_key_id() in printed


def test_trace_key_new_prints_a_usable_key(capsys):
    call_command("trace_key", "new")
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("TRACE_SIGNING_KEY=")
    key = signing._decode_private(line.split("=", 1)[1])
    assert verifier.key_id(key.public_key())
