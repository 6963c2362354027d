"""Where a redirect after a form may go: a local path, nothing else.

`next` (POST first, then GET) passes only when it is a path on this site: it starts with
a single "/" (not "//" nor "/\\", which browsers read as another host), has no scheme or
host, and no control characters or spaces. Anything else — "abc", "https://evil",
"//evil", "javascript:…" — falls back, so a redirect never leaves the site and never
fails ("abc" would otherwise be taken for a URL name and raise a 500).
"""

from urllib.parse import urlsplit

MAX_LENGTH = 2000


def is_local_path(target) -> bool:
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return False
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    if "\\" in target:
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc and parts.path.startswith("/")


def safe_next(request, fallback: str, *, field: str = "next") -> str:
    """`next` of the request when it is a local path, else `fallback`."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    return target if is_local_path(target) else fallback


def set_language(request):
    """Django's language switch (``set_language``, used by Oscar's header), with its `next`
    held to the same rule: a `next` that is not a local path is dropped, so Django falls
    back to the referring page or "/"."""
    from django.views.i18n import set_language as django_set_language

    for data_name in ("POST", "GET"):
        data = getattr(request, data_name)
        if "next" in data and not is_local_path(data.get("next")):
            data = data.copy()
            del data["next"]
            setattr(request, data_name, data)
    return django_set_language(request)
