"""How often one client may do an expensive or guessable thing: activation codes, the full
citizen ID, search, sharing a province after a scan. Counted in Django's cache (Redis in
production, so every web process shares the count), per fixed window.

The limits live in settings.RATE_LIMITS: {scope: (requests, seconds)}; a scope set to None
is not limited. Sign-in failures are counted by django-axes instead (config/settings.py).
"""

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _


def clock() -> float:
    """Now, in seconds (tests move it forward to see a limit lift)."""
    return time.time()


def client_address(request) -> str:
    """The address the request came from (REMOTE_ADDR: gunicorn is reached directly, or
    through a proxy that sets it)."""
    return request.META.get("REMOTE_ADDR") or "-"


def throttle(request, *, scope: str, key: str = ""):
    """Count this request against `scope` for its client (the address, plus `key` when
    given, e.g. the phone number a code is typed for). Returns None while under the limit,
    else a 429 response saying in the visitor's language how long to wait."""
    limit = settings.RATE_LIMITS.get(scope)
    if not limit:
        return None
    allowed, window = limit
    now = clock()
    bucket = int(now // window)
    who = key or client_address(request)
    cache_key = f"ratelimit:{scope}:{who}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    if count <= allowed:
        return None
    wait = max(1, int((bucket + 1) * window - now))
    minutes = max(1, -(-wait // 60))
    message = (
        _("Too many attempts in a short time.")
        + " "
        + ngettext(
            "Please wait %(minutes)d minute and try again.",
            "Please wait %(minutes)d minutes and try again.",
            minutes,
        )
        % {"minutes": minutes}
    )
    response = too_many(request, message)
    response["Retry-After"] = str(wait)
    return response


def too_many(request, message: str, detail: str = ""):
    """The 429 page: rendered without context processors (no basket, no queries), so that
    refusing costs next to nothing."""
    html = render_to_string(
        "marketplace/too_many_requests.html",
        {
            "message": message,
            "detail": detail,
            "language": get_language(),
            "shop_name": settings.OSCAR_SHOP_NAME,
            "back_url": reverse("home"),
        },
    )
    return HttpResponse(html, status=429)


def throttled(scope: str, *, methods=("POST",), key=None):
    """A view decorator around `throttle`, for the methods given. `key(request)` may name
    what is being guessed at instead of the address (e.g. the phone number an activation
    code is typed for, so that changing address does not buy more guesses)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                refused = throttle(request, scope=scope, key=key(request) if key else "")
                if refused is not None:
                    return refused
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
