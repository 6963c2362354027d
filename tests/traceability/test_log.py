"""The transparency log: RFC 9162 Merkle trees and proofs, signed checkpoints (daily task,
on demand), the public URLs, and proof bundles."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from traceability import services, signing, tasks, transparency, verifier
from traceability.models import Checkpoint, Lot, TraceRecord

# The Merkle tree test vectors of Certificate Transparency (RFC 6962's reference code):
# leaves and the roots of the trees of their first 1 … 8 leaves.
CT_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_tree_matches_the_certificate_transparency_vectors():
    leaves = [verifier.leaf_hash(bytes.fromhex(h)) for h in CT_LEAVES]
    for size, root in enumerate(CT_ROOTS, start=1):
        assert transparency.Tree(leaves[:size]).root().hex() == root
        assert verifier.merkle_root(leaves[:size]).hex() == root


def test_every_inclusion_and_consistency_proof_checks_and_a_wrong_one_does_not():
    leaves = [verifier.leaf_hash(str(i).encode()) for i in range(35)]
    tree = transparency.Tree(leaves)
    for size in range(1, 36):
        root = tree.root(size)
        assert root == verifier.merkle_root(leaves[:size])
        for index in range(size):
            proof = tree.inclusion(index, size)
            assert verifier.verify_inclusion(index, size, leaves[index], proof, root)
            assert not verifier.verify_inclusion(index, size, leaves[index - 1], proof, root) or (
                size == 1
            )
        for old in range(1, size + 1):
            proof = tree.consistency(old, size)
            assert verifier.verify_consistency(old, size, tree.root(old), root, proof)
            if old < size:
                forked = verifier.leaf_hash(b"forked")
                assert not verifier.verify_consistency(old, size, forked, root, proof)
                assert not verifier.verify_consistency(size, old, root, tree.root(old), proof)


@pytest.mark.django_db
def test_records_are_appended_in_order_and_chained_per_lot(traces):
    positions = list(TraceRecord.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(len(positions)))
    lot = Lot.objects.get(code="DEMO-NS0005")
    records = list(lot.records.order_by("seq"))
    assert [r.type for r in records[:2]] == ["lot", "certificates"]
    assert {r.type for r in records} == {"lot", "certificates", "event"}
    assert verifier.check_records([r.as_signed() for r in records], signing.trusted_keys()) == []
    body = json.loads(records[0].body)
    assert body["data"]["producer"]["name"] == "Hộ ông Nguyễn Văn Hùng"
    assert body["data"]["expiry_date"] == lot.expiry_date.isoformat()
    event = json.loads(records[2].body)["data"]
    assert {"event_time", "recorded_at", "hash", "previous_hash", "details"} <= set(event)


@pytest.mark.django_db
def test_checkpoints_are_signed_made_daily_and_on_demand(traces):
    assert not Checkpoint.objects.exists()
    schedule = settings.CELERY_BEAT_SCHEDULE["trace-checkpoint"]
    assert schedule["task"] == "traceability.make_checkpoint"
    size = tasks.make_checkpoint.delay().get()
    assert size == TraceRecord.objects.count()
    assert tasks.make_checkpoint.delay().get() == size  # idempotent: still one checkpoint
    assert Checkpoint.objects.count() == 1
    checkpoint = Checkpoint.objects.get()
    assert verifier.check_checkpoint(checkpoint.as_json(), signing.trusted_keys()) == []
    forged = {**checkpoint.as_json(), "tree_size": size + 1}
    assert [p.code for p in verifier.check_checkpoint(forged, signing.trusted_keys())] == [
        "bad_checkpoint_signature"
    ]
    services.record_event(
        lot=Lot.objects.get(code="DEMO-NS0001"),
        by=None,
        kind="shipping",
        event_time=timezone.now(),
        details={"carrier": "Bưu điện"},
    )
    assert transparency.make_checkpoint().tree_size == size + 1
    report = transparency.verify_log()
    assert report.ok and report.checkpoints == 2 and report.size == size + 1


@pytest.mark.django_db
def test_a_lot_from_before_the_log_is_sealed_by_the_next_checkpoint(traces, client):
    original = Lot.objects.select_related("producer").get(code="DEMO-NS0001")
    lot = Lot.objects.create(
        product=original.product,
        producer=original.producer,
        code="OLD-1",
        short_code="23456789",
        quantity=5,
        unit="kg",
        province_code=original.province_code,
        commune_code=original.commune_code,
    )
    html = client.get(f"/en/t/{lot.short_code}/").content.decode()
    assert "Not verified yet" in html and "Record intact" not in html
    assert services.seal_unrecorded() == 1
    assert services.seal_unrecorded() == 0
    transparency.make_checkpoint()
    from django.core.cache import cache

    cache.clear()
    assert "Record intact" in client.get(f"/en/t/{lot.short_code}/").content.decode()


@pytest.mark.django_db
def test_public_urls_give_keys_checkpoints_proofs_and_bundles(traces, client):
    first = transparency.make_checkpoint()
    services.record_event(
        lot=Lot.objects.get(code="DEMO-NS0002"),
        by=None,
        kind="shipping",
        event_time=timezone.now(),
        details={"carrier": "Bưu điện"},
    )
    keys = client.get("/minh-bach/khoa/").json()
    assert keys["algorithm"] == "Ed25519" and keys["keys"][0]["current"]
    pem = client.get("/minh-bach/khoa.pem").content.decode()
    trusted = verifier.load_public_keys(pem)
    assert set(trusted) == set(signing.trusted_keys())

    # The lot's newest record is not in a checkpoint yet: the bundle makes one.
    lot = Lot.objects.get(code="DEMO-NS0002")
    response = client.get(f"/minh-bach/lo/{lot.short_code}.json?tu={first.tree_size}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    bundle = response.json()
    assert bundle["checkpoint"]["tree_size"] == first.tree_size + 1
    assert verifier.check_bundle(bundle, trusted, earlier=first.as_json()) == []

    latest = client.get("/minh-bach/diem-kiem/").json()
    assert latest == bundle["checkpoint"]
    # Asked for a fresh one while the log has not grown: the same checkpoint.
    assert client.get("/minh-bach/diem-kiem/?moi=1").json() == latest
    listed = client.get("/minh-bach/diem-kiem/tat-ca/").json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == [first.tree_size + 1, first.tree_size]
    proof = client.get(f"/minh-bach/nhat-quan/{first.tree_size}/").json()
    assert proof["from"] == first.as_json() and proof["to"] == latest
    assert verifier.check_log_grew(first.as_json(), latest, proof, trusted) == []

    assert client.get("/minh-bach/nhat-quan/999999999/").status_code == 400
    assert client.get(f"/minh-bach/lo/{lot.short_code}.json?tu=abc").status_code == 400
    assert client.get(f"/minh-bach/lo/{lot.short_code}.json?tu=²").status_code == 400
    assert client.get("/minh-bach/lo/ZZZZZZZZ.json").status_code == 404
    assert client.get("/minh-bach/lo/not-a-code.json").status_code == 404
    assert client.post("/minh-bach/diem-kiem/").status_code == 405
    services.record_event(
        lot=lot, by=None, kind="shipping", event_time=timezone.now(), details={"carrier": "X"}
    )
    asked = client.get("/minh-bach/diem-kiem/?moi=1").json()
    assert asked["tree_size"] == latest["tree_size"] + 1


@pytest.mark.django_db
def test_an_old_checkpoint_is_remade_after_a_day_by_the_task(traces):
    checkpoint = transparency.make_checkpoint()
    Checkpoint.objects.filter(pk=checkpoint.pk)  # append-only: back-date it with SQL
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE traceability_checkpoint SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=1), checkpoint.pk],
        )
    tasks.make_checkpoint.delay().get()
    assert Checkpoint.objects.count() == 2
