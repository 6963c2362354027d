"""Limits of an import, its row outcomes and the error staff read for an unusable file."""

from django.utils.translation import gettext_lazy

from marketplace.core.jobs import DEAD_AFTER

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 60
MAX_UNPACKED = 150 * 1024 * 1024  # an .xlsx of 20,000 rows unpacks to a few tens of MB
HEADER_SCAN = 10  # the header row is looked for among the first rows (titles come first)
BATCH = 500
# An import whose worker gave no sign of life for this long lost it (marketplace.core.jobs).
STALE_AFTER = DEAD_AFTER
EXAMPLE_CCCD = "001080012345"  # the template's example row: never imported

OUTCOMES = {
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
    "unchanged": gettext_lazy("Unchanged"),
    "skipped": gettext_lazy("Skipped"),
    "error": gettext_lazy("Error"),
}


class ImportFileError(Exception):
    """A file that cannot be imported, with the message staff read."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)
