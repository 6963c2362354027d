"""Who may use the farmer, post-office and operator pages of the marketplace (one place for
the product, certificate and fulfilment views). Staff scopes come from
marketplace.core.scope (the rule farmers registers)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from marketplace.core.scope import scope_of
from marketplace.models import ProducerProfile


def producer_of(user) -> ProducerProfile | None:
    """The producer whose shop this user runs (a user of its Oscar Partner), if any."""
    if not user.is_authenticated:
        return None
    return (
        ProducerProfile.objects.select_related("partner")
        .filter(partner__users=user)
        .order_by("pk")
        .first()
    )


def operator_required(view):
    """Anonymous visitors are sent to sign in; signed-in users other than the operator
    get 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def producer_required(view):
    """The signed-in user must run a producer shop; the view receives its profile."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        producer = producer_of(request.user)
        if producer is None:
            raise PermissionDenied
        return view(request, producer, *args, **kwargs)

    return wrapped


def post_office_required(view):
    """Post-office staff or the operator; the view receives the user's scope (its
    `organisation` is the post office, None for the operator, who sees every parcel).
    Anonymous visitors are sent to sign in; anyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        scope = scope_of(request.user)
        if not (scope.everything or scope.is_post_office):
            raise PermissionDenied
        return view(request, scope, *args, **kwargs)

    return wrapped
