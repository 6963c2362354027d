"""Backups: one dated archive of the database, the public media and the private files, and
putting it back (`python manage.py backup`, `python manage.py restore ARCHIVE`).

The archive is a tar file `nongsan-YYYYMMDD-HHMMSS.tar` holding
- `database.dump` (PostgreSQL: `pg_dump --format=custom`) or `database.sqlite3` (SQLite:
  a consistent copy made with sqlite3's online backup API);
- `media/...` and `private/...`: every file of the storages "default" and "private"
  (marketplace.core.storage), read through the storage API, so local folders and S3
  buckets alike;
- `manifest.json`, written last: when and from what it was made, the SHA-256 and size of
  every other member, the row count of every table, and a fingerprint of
  PERSONAL_DATA_KEY (not the key).
Beside it, `<archive>.sha256` holds the checksum of the whole archive.

No key is in the archive: PERSONAL_DATA_KEY (without which the citizen ID numbers in the
database cannot be read) and the trace signing key are kept elsewhere (README, "Backups").

`restore` checks every checksum before it changes anything, and refuses a damaged archive
naming the member that does not match; then it replaces the database (pg_restore --clean
in one transaction, or the sqlite3 backup API) and writes every file back.
"""

import hashlib
import hmac
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection, connections, transaction
from django.utils import timezone

from .storage import PRIVATE, walk

FORMAT = "nongsan-backup/1"
MANIFEST = "manifest.json"
PREFIX = "nongsan-"
NAME_PATTERN = re.compile(r"^nongsan-\d{8}-\d{6}\.tar$")
FILE_AREAS = {"media": "default", "private": PRIVATE}  # folder in the archive -> storage
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message says why, for a person."""


@dataclass
class Result:
    archive: Path
    manifest: dict
    removed: list = field(default_factory=list)  # old archives dropped by `keep`


# --- helpers ---------------------------------------------------------------------------


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def key_fingerprint() -> str:
    """Tells whether two PERSONAL_DATA_KEYs are the same without revealing either."""
    key = settings.PERSONAL_DATA_KEY.encode()
    return hmac.new(key, b"nongsan backup key check", hashlib.sha256).hexdigest()[:16]


def table_counts() -> dict:
    """Rows in every table of the project's models (compared after a restore)."""
    counts = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            counts[model._meta.label] = model._base_manager.using("default").count()
    return counts


def _pg_env_and_args(executable: str) -> tuple[list[str], dict]:
    tool = shutil.which(executable)
    if tool is None:
        raise BackupError(
            f"{executable} is not installed. Install the PostgreSQL client of the database "
            "server's major version (Debian: postgresql-client-16), then run this again."
        )
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = [tool, "--no-password"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            args += [option, str(db[key])]
    return args, env


def _run(args, env, what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=6 * 3600)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{what} failed: " + " / ".join(detail))


def _add(tar: tarfile.TarFile, name: str, handle, size: int) -> dict:
    """Add one member from an open binary file, hashing it on the way."""
    digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def readinto(self, buffer):
            data = handle.read(len(buffer))
            digest.update(data)
            buffer[: len(data)] = data
            return len(data)

        def readable(self):
            return True

    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BufferedReader(Hashing(), CHUNK))
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup ----------------------------------------------------------------------------


def _tables() -> dict:
    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _dump_database(engine: str, folder: Path) -> tuple[Path, dict]:
    """The database copied into `folder`, and the row count of every table in that copy."""
    if engine == "postgresql":
        target = folder / "database.dump"
        args, env = _pg_env_and_args("pg_dump")
        args += ["--format=custom", "--no-owner", "--no-privileges", "--file", str(target)]
        if connection.in_atomic_block:  # inside a caller's transaction: counts as of now
            counts = table_counts()
            _run([*args, str(connection.settings_dict["NAME"])], env, "pg_dump")
            return target, counts
        # The counts and the dump see the same snapshot, however busy the site is.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = table_counts()
            args += [f"--snapshot={snapshot}", str(connection.settings_dict["NAME"])]
            _run(args, env, "pg_dump")
        return target, counts
    target = folder / "database.sqlite3"
    if connection.in_atomic_block:  # sqlite3's backup would wait for its own write lock
        raise BackupError("Back up SQLite outside a transaction.")
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        counts = {
            label: copy.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for label, table in _tables().items()
        }
    finally:
        copy.close()
    return target, counts


def make_backup(*, output: Path, keep: int | None = None, now=None) -> Result:
    """Write a dated archive into `output` (made if missing); then, with `keep`, remove
    all but the newest `keep` archives there. Raises BackupError."""
    engine = _engine()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    now = timezone.localtime(now or timezone.now())
    archive = output / f"{PREFIX}{now:%Y%m%d-%H%M%S}.tar"
    if archive.exists():
        raise BackupError(f"{archive} already exists.")
    partial = archive.with_name(f".{archive.name}.partial")
    entries = []
    with tempfile.TemporaryDirectory(prefix="nongsan-backup-") as scratch:
        dump, counts = _dump_database(engine, Path(scratch))
        try:
            with tarfile.open(partial, "w") as tar:
                with open(dump, "rb") as handle:
                    entries.append(_add(tar, dump.name, handle, dump.stat().st_size))
                for area, alias in FILE_AREAS.items():
                    storage = storages[alias]
                    for name in walk(storage):
                        with storage.open(name, "rb") as handle:
                            data = handle.read()
                        entries.append(_add(tar, f"{area}/{name}", io.BytesIO(data), len(data)))
                manifest = {
                    "format": FORMAT,
                    "created_at": now.isoformat(),
                    "database": {"engine": engine, "file": dump.name},
                    "members": entries,
                    "counts": counts,
                    "personal_data_key": key_fingerprint(),
                    "keys_included": False,
                }
                body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
                _add(tar, MANIFEST, io.BytesIO(body), len(body))
            os.chmod(partial, 0o600)  # personal data: readable by its owner only
            os.replace(partial, archive)
        finally:
            partial.unlink(missing_ok=True)
    Path(f"{archive}.sha256").write_text(f"{_sha256_of(archive)}  {archive.name}\n")
    removed = prune(output, keep) if keep else []
    return Result(archive=archive, manifest=manifest, removed=removed)


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` archives (by the date in their names)."""
    archives = sorted(p for p in Path(folder).iterdir() if NAME_PATTERN.match(p.name))
    doomed = archives[: max(0, len(archives) - keep)]
    for path in doomed:
        path.unlink()
        Path(f"{path}.sha256").unlink(missing_ok=True)
    return doomed


# --- restore ---------------------------------------------------------------------------


def read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupError(
            "This is not a nongsan backup: it has no readable manifest.json."
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    return manifest


def check_archive(archive: Path) -> dict:
    """Every member against its checksum (and the whole archive against its .sha256 file
    when there is one); returns the manifest. Raises BackupError naming what is wrong."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    sidecar = Path(f"{archive}.sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[0] if sidecar.read_text().split() else ""
        if expected != _sha256_of(archive):
            raise BackupError(
                f"{archive.name} does not match its checksum in {sidecar.name}: the archive "
                "is damaged or was changed. Nothing was restored."
            )
    try:
        with tarfile.open(archive, "r") as tar:
            manifest = read_manifest(tar)
            listed = {entry["path"]: entry for entry in manifest.get("members", [])}
            present = {m.name for m in tar.getmembers() if m.isfile()} - {MANIFEST}
            for name in sorted(present - set(listed)):
                raise BackupError(f"{name} is in the archive but not in its manifest.")
            for name, entry in listed.items():
                if name.startswith("/") or ".." in name.split("/"):
                    raise BackupError(f"Unsafe name in the archive: {name}")
                if name not in present:
                    raise BackupError(f"{name} is missing from the archive. Nothing was restored.")
                digest = hashlib.sha256()
                handle = tar.extractfile(name)
                for block in iter(lambda h=handle: h.read(CHUNK), b""):
                    digest.update(block)
                if digest.hexdigest() != entry["sha256"]:
                    raise BackupError(
                        f"{name} does not match its SHA-256 checksum in the manifest "
                        f"(expected {entry['sha256'][:12]}…, found {digest.hexdigest()[:12]}…): "
                        "the archive is damaged. Nothing was restored."
                    )
    except tarfile.TarError as exc:
        raise BackupError(f"{archive.name} is not a readable archive: {exc}") from exc
    return manifest


def _restore_database(engine: str, dump: Path) -> None:
    connections.close_all()
    if engine == "postgresql":
        args, env = _pg_env_and_args("pg_restore")
        args += [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            str(connection.settings_dict["NAME"]),
            str(dump),
        ]
        _run(args, env, "pg_restore")
        return
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def restore_backup(*, archive: Path) -> dict:
    """Put back the database and the files of `archive`. Returns the manifest, with
    "key_matches" (whether PERSONAL_DATA_KEY is the one the archive was made with) and
    "count_differences" ({table: (in archive, now)}, empty when all is back)."""
    manifest = check_archive(archive)
    engine = _engine()
    if manifest["database"]["engine"] != engine:
        raise BackupError(
            f"This archive holds a {manifest['database']['engine']} database; this site runs "
            f"on {engine}. Nothing was restored."
        )
    with (
        tempfile.TemporaryDirectory(prefix="nongsan-restore-") as scratch,
        tarfile.open(archive, "r") as tar,
    ):
        dump = Path(scratch) / manifest["database"]["file"]
        with open(dump, "wb") as out:
            shutil.copyfileobj(tar.extractfile(manifest["database"]["file"]), out, CHUNK)
        _restore_database(engine, dump)
        for entry in manifest["members"]:
            area, _, name = entry["path"].partition("/")
            if area not in FILE_AREAS:
                continue
            storage = storages[FILE_AREAS[area]]
            if storage.exists(name):
                storage.delete(name)
            saved = storage.save(name, ContentFile(tar.extractfile(entry["path"]).read()))
            if saved != name:
                raise BackupError(f"{entry['path']} was written back as {saved}.")
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    cache.clear()
    now = table_counts()
    manifest["count_differences"] = {
        table: (count, now.get(table))
        for table, count in manifest["counts"].items()
        if now.get(table) != count
    }
    manifest["key_matches"] = manifest.get("personal_data_key") == key_fingerprint()
    return manifest
