import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django's WSGI handler (get_wsgi_application), each address's URL resolution remembered.
from marketplace.core.handlers import application as _application  # noqa: E402

application = _application()


def _freeze_what_start_up_made() -> None:
    """Every worker keeps what start-up made (settings, apps, models, the URL patterns and
    the views they import) for its whole life: moved out of the garbage collector's sight,
    a full collection no longer walks its ~200,000 objects in the middle of a request (the
    search benchmark's slowest pages, 115 ms each, were such collections)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every urls and views module now
    gc.collect()
    gc.freeze()


_freeze_what_start_up_made()
