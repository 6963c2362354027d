"""Private file storage for member documents: outside MEDIA_ROOT, never given a URL.

Files are read back only through the permission-checked views in farmers.member_views.
The location is read from settings.PRIVATE_MEDIA_ROOT at each use (tests move it).
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateStorage(FileSystemStorage):
    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise NotImplementedError("private files have no public URL")


private_storage = PrivateStorage()


def get_private_storage():
    return private_storage
