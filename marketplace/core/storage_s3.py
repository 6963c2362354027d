"""The S3-compatible storages (django-storages) of marketplace.core.storage, named by
settings.STORAGES when S3_ENDPOINT_URL is set (MinIO in docker-compose.yml). A module of
its own so that the embedded default never imports boto3."""

from urllib.parse import quote

from django.conf import settings
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .storage import NoPublicURL


class PublicS3Storage(S3Storage):
    """Public media in a bucket: its URL is MEDIA_URL + the name, where the proxy in front
    of the app (or a CDN) answers from the bucket; no signed query string."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + quote(clean_name(name))


class PrivateS3Storage(S3Storage):
    """Private files in a bucket of their own that nobody may read anonymously; they have
    no URL (marketplace.core.storage.serve_private reads them for a checked view)."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NoPublicURL("private files have no public URL")
