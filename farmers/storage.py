"""Private file storage for member documents and imports: the project's "private" storage
(marketplace.core.storage), never given a URL. Kept here because migrations name
`farmers.storage.get_private_storage`."""

from marketplace.core.storage import get_private_storage, private_storage

__all__ = ["get_private_storage", "private_storage"]
