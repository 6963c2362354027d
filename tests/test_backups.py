"""Backups: `manage.py backup` writes a dated archive (database, media, private files,
manifest with SHA-256 checksums); `manage.py restore` puts it all back after the data is
gone, and refuses a damaged archive before changing anything."""

import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection

from farmers.models import Member
from marketplace.core.backups import prune
from marketplace.core.storage import walk
from marketplace.models import Certificate
from traceability.models import FarmEvent, LabelSheet, Lot, TraceRecord

MODELS = (Member, Certificate, Lot, FarmEvent, TraceRecord, LabelSheet)


def files() -> dict:
    """Every file of both storages, by storage and name, with its bytes."""
    found = {}
    for alias in ("default", "private"):
        storage = storages[alias]
        for name in walk(storage):
            with storage.open(name, "rb") as handle:
                found[(alias, name)] = handle.read()
    return found


def drop_everything() -> None:
    """What a lost server leaves: no tables, no files."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'DROP TABLE "{table}"')
            cursor.execute("PRAGMA foreign_keys = ON")
    for alias, name in files():
        storages[alias].delete(name)


def backup(folder: Path) -> Path:
    out = StringIO()
    call_command("backup", output=str(folder), stdout=out)
    assert "Backup written" in out.getvalue()
    (archive,) = sorted(folder.glob("nongsan-*.tar"))
    return archive


def back_up_drop_and_restore(tmp_path):
    counts = {model: model._base_manager.count() for model in MODELS}
    assert all(counts.values()), counts  # the demo has some of each
    before = files()
    assert any(alias == "private" for alias, _ in before)  # scans, label PDFs
    assert any(alias == "default" for alias, _ in before)  # photos

    archive = backup(tmp_path)
    assert (tmp_path / f"{archive.name}.sha256").is_file()
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "manifest.json" in names
    assert {"database.dump", "database.sqlite3"} & names
    assert {f"{'media' if a == 'default' else 'private'}/{n}" for a, n in before} <= names

    # A damaged copy is refused before anything changes.
    damaged = tmp_path / "damaged" / archive.name
    damaged.parent.mkdir()
    damaged.write_bytes(archive.read_bytes())
    victim = next(name for name in names if name.startswith("private/"))
    _flip_a_byte(damaged, victim)
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(damaged))
    message = str(refused.value)
    assert victim in message and "SHA-256" in message and "Nothing was restored" in message
    (damaged.parent / f"{archive.name}.sha256").write_text(
        (tmp_path / f"{archive.name}.sha256").read_text()
    )
    with pytest.raises(CommandError, match=r"\.tar does not match its checksum in .*\.sha256"):
        call_command("restore", str(damaged))
    assert files() == before

    drop_everything()
    assert files() == {}

    out, err = StringIO(), StringIO()
    call_command("restore", str(archive), stdout=out, stderr=err)
    assert "Restored" in out.getvalue() and err.getvalue() == "", err.getvalue()
    assert {model: model._base_manager.count() for model in MODELS} == counts
    assert files() == before
    traces = StringIO()
    call_command("verify_traces", stdout=traces)  # raises CommandError when a lot changed
    assert "INTACT  log" in traces.getvalue()
    ledger = StringIO()
    call_command("verify_ledger", stdout=ledger)
    assert "The ledger reconciles." in ledger.getvalue()


# Decided before the SQLite test starts, so that skipping it on PostgreSQL does not empty
# the database.
ON_SQLITE = "sqlite" in settings.DATABASES["default"]["ENGINE"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_after_losing_everything_on_postgresql(demo, tmp_path):
    assert connection.vendor == "postgresql"
    back_up_drop_and_restore(tmp_path)


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite only (the test above covers pg_dump)")
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_after_losing_everything_on_sqlite(demo, tmp_path):
    back_up_drop_and_restore(tmp_path)


def _flip_a_byte(archive: Path, member: str) -> None:
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data
    with open(archive, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def test_not_an_archive_is_refused_clearly(tmp_path):
    bogus = tmp_path / "nongsan-20260101-000000.tar"
    bogus.write_bytes(b"not a tar file at all")
    with pytest.raises(CommandError, match="not a readable archive"):
        call_command("restore", str(bogus))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.tar"))


def test_keep_leaves_the_newest_archives(tmp_path):
    for day in range(1, 6):
        (tmp_path / f"nongsan-202612{day:02d}-020000.tar").write_bytes(b"x")
        (tmp_path / f"nongsan-202612{day:02d}-020000.tar.sha256").write_text("x")
    (tmp_path / "notes.txt").write_text("kept")
    removed = prune(tmp_path, 2)
    assert [p.name for p in removed] == [f"nongsan-202612{d:02d}-020000.tar" for d in (1, 2, 3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "nongsan-20261204-020000.tar",
        "nongsan-20261204-020000.tar.sha256",
        "nongsan-20261205-020000.tar",
        "nongsan-20261205-020000.tar.sha256",
        "notes.txt",
    ]


# --- The S3-compatible store (MinIO in compose; a local moto server here) ----------------

BACKUP_MEDIA, BACKUP_PRIVATE = "nongsan-backup-media", "nongsan-backup-private"


def files_on_s3(settings, s3_server):
    """Put the demo's files into buckets of their own on the S3 server and make the site
    use them, as the compose shape does; returns the S3 client."""
    from django.core.files.base import ContentFile

    from config.settings import s3_storages

    # Two files of each top folder of each storage (photos, thumbnails, certificate scans,
    # label sheets, …), not all of them: the moto server answers each S3 request in about
    # 13 ms, and listing a storage asks once per folder.
    local, per_folder = {}, {}
    for (alias, name), data in sorted(files().items()):
        folder = (alias, name.split("/", 1)[0])
        if per_folder.setdefault(folder, 0) < 2:
            per_folder[folder] += 1
            local[(alias, name)] = data
    endpoint, client = s3_server
    for bucket in (BACKUP_MEDIA, BACKUP_PRIVATE):
        client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(endpoint, "test", "test-secret", "us-east-1", BACKUP_MEDIA, BACKUP_PRIVATE),
    }
    for (alias, name), data in local.items():
        assert storages[alias].save(name, ContentFile(data)) == name
    return client


def bucket_keys(client, bucket) -> set:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def back_up_drop_and_restore_on_s3(tmp_path, settings, s3_server):
    client = files_on_s3(settings, s3_server)
    media, private = bucket_keys(client, BACKUP_MEDIA), bucket_keys(client, BACKUP_PRIVATE)
    assert media and private
    back_up_drop_and_restore(tmp_path)  # the buckets emptied, then filled from the archive
    assert bucket_keys(client, BACKUP_MEDIA) == media
    assert bucket_keys(client, BACKUP_PRIVATE) == private


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_with_the_s3_store_on_postgresql(demo, tmp_path, settings, s3_server):
    assert connection.vendor == "postgresql"
    back_up_drop_and_restore_on_s3(tmp_path, settings, s3_server)


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite only (the test above covers pg_dump)")
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_with_the_s3_store_on_sqlite(demo, tmp_path, settings, s3_server):
    back_up_drop_and_restore_on_s3(tmp_path, settings, s3_server)
