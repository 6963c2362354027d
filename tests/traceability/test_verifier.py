"""The standalone verifier (traceability/verifier.py): one file, no Django, no database,
run as a command on an exported bundle, on tampered copies, and with a kept checkpoint."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from traceability import integrity, services, transparency
from traceability.models import Lot

pytestmark = pytest.mark.django_db
VERIFIER = Path(__file__).resolve().parent.parent.parent / "traceability" / "verifier.py"
# Run the file alone, from a directory of its own, with Django made unimportable.
RUNNER = (
    "import runpy, sys; sys.modules['django'] = None; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.fixture
def exported(traces, client, tmp_path):
    """The verifier copied alone into a directory, the public key, and a lot's bundle as
    an inspector downloads them."""
    lot = Lot.objects.get(code="DEMO-NS0005")
    (tmp_path / "verifier.py").write_bytes(VERIFIER.read_bytes())
    (tmp_path / "keys.pem").write_bytes(client.get("/minh-bach/khoa.pem").content)
    bundle = client.get(f"/minh-bach/lo/{lot.short_code}.json").json()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    return tmp_path, lot, bundle


def run(directory, *args):
    return subprocess.run(
        [sys.executable, "-c", RUNNER, "verifier.py", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(directory, name, data) -> str:
    (directory / name).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return name


def test_an_exported_bundle_is_intact(exported):
    directory, lot, bundle = exported
    result = run(directory, "bundle.json", "--key", "keys.pem")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"INTACT: lot {lot.code} ({lot.short_code})" in result.stdout
    assert "Hộ ông Nguyễn Văn Hùng" in result.stdout  # what the records state
    assert "correction" in result.stdout


def test_the_command_exports_the_same_bundle(exported):
    directory, lot, bundle = exported
    out = io.StringIO()
    call_command("trace_bundle", lot.short_code.lower(), stdout=out)
    assert json.loads(out.getvalue()) == bundle


def _tampered(bundle, change):
    copy = json.loads(json.dumps(bundle))
    change(copy)
    return copy


def _edit_body(record, edit):
    body = json.loads(record["body"])
    edit(body)
    record["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: _edit_body(
                b["records"][3], lambda body: body["data"].update(event_time="2020-01-01T00:00:00Z")
            ),
            "Record 4 (event): the signature is not the marketplace's",
        ),
        (
            lambda b: _edit_body(
                b["records"][0], lambda body: body["data"].update(expiry_date="2099-12-31")
            ),
            "Record 1 (lot): the signature is not the marketplace's",
        ),
        (lambda b: b["records"].pop(2), "Record 3 is missing"),
        (lambda b: b["records"][2].update(signature=b["records"][3]["signature"]), "signature"),
        (
            lambda b: b["records"][2].update(position=b["records"][2]["position"] + 1),
            "not in the log",
        ),
        (
            lambda b: b["checkpoint"].update(tree_size=b["checkpoint"]["tree_size"] - 1),
            "checkpoint",
        ),
        (lambda b: b["checkpoint"].update(root_hash="00" * 32), "is not signed"),
        (lambda b: b.update(format="something else"), "not a nongsan trace bundle"),
    ],
    ids=["event", "lot", "deleted", "signature", "position", "size", "root", "format"],
)
def test_a_tampered_bundle_is_not_intact_and_says_why(exported, change, message):
    directory, lot, bundle = exported
    name = write(directory, "tampered.json", _tampered(bundle, change))
    result = run(directory, name, "--key", "keys.pem")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT INTACT" in result.stdout and message in result.stdout


def test_another_key_is_refused(exported):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from traceability import signing

    directory, lot, bundle = exported
    other = signing.public_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    (directory / "other.pem").write_text(other)
    result = run(directory, "bundle.json", "--key", "other.pem")
    assert result.returncode == 1 and "is not signed by the marketplace's key" in result.stdout


def test_a_kept_checkpoint_proves_the_log_only_grew(exported, client):
    directory, lot, bundle = exported
    kept = write(directory, "kept.json", bundle["checkpoint"])
    services.record_event(
        lot=lot, by=None, kind="shipping", event_time=timezone.now(), details={"carrier": "X"}
    )
    size = bundle["checkpoint"]["tree_size"]
    later = client.get(f"/minh-bach/lo/{lot.short_code}.json?tu={size}").json()
    assert later["checkpoint"]["tree_size"] == size + 1
    name = write(directory, "later.json", later)
    result = run(directory, name, "--key", "keys.pem", "--checkpoint", kept)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without the consistency proof the verifier says what to fetch.
    name = write(directory, "bare.json", {k: v for k, v in later.items() if k != "consistency"})
    result = run(directory, name, "--key", "keys.pem", "--checkpoint", kept)
    assert result.returncode == 1 and f"?tu={size}" in result.stdout
    # A kept checkpoint larger than the bundle's: the log shrank.
    older = write(directory, "older.json", bundle)
    (directory / "kept-later.json").write_text(json.dumps(later["checkpoint"]))
    result = run(directory, older, "--key", "keys.pem", "--checkpoint", "kept-later.json")
    assert result.returncode == 1 and "The log shrank" in result.stdout


def test_bad_usage_exits_2(exported):
    directory, lot, bundle = exported
    (directory / "broken.json").write_text("{not json")
    assert run(directory, "broken.json", "--key", "keys.pem").returncode == 2
    assert run(directory, "missing.json", "--key", "keys.pem").returncode == 2


def test_the_verifier_is_one_file_without_django():
    text = VERIFIER.read_text(encoding="utf-8")
    assert "import django" not in text and "from django" not in text
    # The marketplace checks its records with these same functions.
    assert transparency.verifier is integrity.verifier


def test_the_verdict_in_vietnamese(exported):
    directory, lot, bundle = exported
    result = run(directory, "bundle.json", "--key", "keys.pem", "--lang", "vi")
    assert result.returncode == 0 and f"NGUYÊN VẸN (INTACT): lô {lot.code}" in result.stdout
    tampered = _tampered(bundle, lambda b: b["records"].pop(2))
    name = write(directory, "tampered.json", tampered)
    result = run(directory, name, "--key", "keys.pem", "--lang", "vi", "--quiet")
    assert result.returncode == 1
    assert "KHÔNG NGUYÊN VẸN" in result.stdout and "Thiếu bản ghi 3" in result.stdout


def test_every_problem_reads_in_vietnamese(exported):
    """Each problem the checks can raise has a Vietnamese sentence with its values."""
    directory, lot, bundle = exported
    from traceability import signing, verifier

    keys = signing.trusted_keys()
    cases = [
        _tampered(bundle, lambda b: b["records"].pop(2)),
        _tampered(bundle, lambda b: b["records"][2].update(signature="AAAA")),
        _tampered(bundle, lambda b: b["records"][2].update(body="{}")),
        _tampered(bundle, lambda b: b["records"][1].update(position=10**6)),
        _tampered(bundle, lambda b: b["checkpoint"].update(root_hash="00" * 32)),
        _tampered(bundle, lambda b: b.update(records=[])),
        {"format": "?"},
    ]
    seen = set()
    for case in cases:
        for problem in verifier.check_bundle(case, keys):
            seen.add(problem.code)
            assert problem.code in verifier.VIETNAMESE
            vietnamese = problem.text("vi")
            assert vietnamese != problem.message and "{" not in vietnamese
    later = {**bundle["checkpoint"], "tree_size": bundle["checkpoint"]["tree_size"] - 1}
    for problem in verifier.check_log_grew(bundle["checkpoint"], later, None, keys):
        seen.add(problem.code)
        assert "{" not in problem.text("vi")
    assert {"missing_record", "bad_signature", "bad_body", "not_in_log"} <= seen
