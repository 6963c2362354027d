"""Password guessing: django-axes counts failed sign-ins on every path that calls
authenticate() (the sign-in page with an e-mail or a phone number, the old phone sign-in
form, the checkout's "returning customer" form, Oscar's dashboard and Django's admin
sign-in) and locks the account, and the address, after settings.AXES_FAILURE_LIMIT
failures for settings.AXES_COOLOFF_TIME. The operator unlocks in Django's admin
(Axes › Access attempts: delete the account's rows) or with
`python manage.py axes_reset_username +84905123404`.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.core.ratelimit import too_many

from .forms import login_name


def account_key(request, credentials) -> str:
    """The account a sign-in counts against, however it was typed (an e-mail in any case,
    0905 123 404 or +84905123404) and whichever form sent it: the account's e-mail, else
    its username (a farmer's phone as E.164); what was typed, normalised, when no account
    has it. A successful sign-in (which names the account by its username) thus clears
    the failures typed as its e-mail."""
    typed = str((credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or "").strip()
    try:
        name = login_name(typed)
    except ValidationError:
        name = typed
    if not name:
        return ""
    account = (
        get_user_model()
        .objects.filter(Q(username=name) | Q(email__iexact=name))
        .order_by("pk")
        .only("username", "email")
        .first()
    )
    if account is None:
        return name.lower()
    return (account.email or account.get_username()).lower()


def locked_out(request, original_response=None, credentials=None):
    """What a locked account or address sees (429): why, for how long, and who can help,
    in the visitor's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many wrong passwords: signing in to this account, or from this address, is "
        "locked for a while to protect it."
    )
    detail = ngettext(
        "Try again in %(minutes)d minute. If you forgot your password, reset it; if you "
        "need in sooner, ask the marketplace operator to unlock your account.",
        "Try again in %(minutes)d minutes. If you forgot your password, reset it; if you "
        "need in sooner, ask the marketplace operator to unlock your account.",
        minutes,
    ) % {"minutes": minutes}
    response = too_many(request, message, detail)
    response["Retry-After"] = str(minutes * 60)
    return response


class LockoutBackend(AxesStandaloneBackend):
    """django-axes's check, first among the backends. An authenticate() call without a
    request is not a sign-in form (Oscar's registration signs the new account in that
    way, with the password just chosen): it is left to the other backends."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
