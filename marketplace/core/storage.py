"""Where files live: public media and private files, both through Django's storage API.

Two storages (settings.STORAGES, see config/settings.py "Files"):

- "default": public media (product and producer photos, trace-page photos). Served by a
  web server in front of the app (docker-compose.yml: nginx proxies /media/ to the
  public MinIO bucket), or by Django itself in the embedded default (SERVE_MEDIA).
- "private": files that are not public (certificate scans, label PDFs, member documents
  and ID photos, member import files). They have no URL at all: they are read back only
  by permission-checked views, through `serve_private`.

Each is a local folder by default (MEDIA_ROOT, PRIVATE_MEDIA_ROOT) or an S3-compatible
bucket (django-storages) when S3_ENDPOINT_URL is set, so that several web and worker
replicas share the same files. Code never opens a path on disk: it uses the storage
(`field.open()`, `storage.save()`), which works the same on both.
"""

import mimetypes
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty

PRIVATE = "private"


class NoPublicURL(NotImplementedError):
    pass


@deconstructible
class LocalPrivateStorage(FileSystemStorage):
    """Private files in a local folder, never under MEDIA_ROOT. The folder is read from
    settings.PRIVATE_MEDIA_ROOT at each use (tests move it)."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise NoPublicURL("private files have no public URL")


class _PrivateStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages[PRIVATE]


private_storage = _PrivateStorage()


def get_private_storage():
    """For FileField(storage=...): the "private" storage, resolved when first used."""
    return private_storage


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        private_storage._wrapped = empty


def serve_private(file, *, filename: str, public: bool = False, as_attachment=False):
    """A response with a private file (a FieldFile of the private storage), for a view that
    has checked who may see it. 404 when the storage no longer has the file. Not cached by
    shared caches unless `public` (e.g. the scan of a verified certificate)."""
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except OSError as exc:  # the row names a file the storage no longer has
        raise Http404 from exc
    extension = os.path.splitext(filename)[1].lower()
    content_type = mimetypes.guess_type(f"x{extension}")[0] or "application/octet-stream"
    response = FileResponse(
        handle, content_type=content_type, filename=filename, as_attachment=as_attachment
    )
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def walk(storage, directory: str = ""):
    """Every file name in `storage` under `directory`, sorted (for backups)."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    prefix = f"{directory.rstrip('/')}/" if directory else ""
    for name in sorted(files):
        yield prefix + name
    for sub in sorted(directories):
        yield from walk(storage, prefix + sub)


def move_to_private(names) -> int:
    """Move files from public media to the private storage under the same names (data
    migrations of fields that became private). Returns how many moved."""
    from django.core.files.storage import default_storage

    moved = 0
    for name in names:
        if not name or not default_storage.exists(name):
            continue
        if not private_storage.exists(name):
            with default_storage.open(name, "rb") as handle:
                saved = private_storage.save(name, handle)
            if saved != name:  # never expected: the private name was free
                raise RuntimeError(f"{name} was stored privately as {saved}")
        default_storage.delete(name)
        moved += 1
    return moved
