"""Links that leave the site (e-mail, SMS, printed labels): one base address for all of
them, SITE_BASE_URL. `make run` sets it from HOST and PORT, so `PORT=8101 make run`
prints and sends links on port 8101; production sets it to the public https address."""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """The full address of a local path: absolute_url("/don-hang/") →
    "https://nongsan.example/don-hang/"."""
    return settings.SITE_BASE_URL.rstrip("/") + "/" + path.lstrip("/")


def site_domain() -> str:
    """The host (and port) of SITE_BASE_URL, as django.contrib.sites keeps it."""
    return urlsplit(settings.SITE_BASE_URL).netloc
