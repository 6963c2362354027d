"""Who may manage which lots.

- a farmer: the lots of their own producer (they are a user of its Oscar Partner);
- association or post-office staff: the lots of producers in their scope
  (the scope rule, farmers.scope), on the farmers' behalf;
- the operator (superuser): every lot.
Anonymous visitors are sent to sign in; signed-in users who are none of these get 403;
a lot outside the caller's producers is a 404.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from farmers.scope import scope_of  # traceability may read farmers
from marketplace.models import ProducerProfile

from .models import Lot


def producers_for(user):
    """Producers whose lots this user manages."""
    if not user.is_authenticated:
        return ProducerProfile.objects.none()
    if user.is_superuser:
        return ProducerProfile.objects.select_related("partner")
    own = ProducerProfile.objects.filter(partner__users=user).values("pk")
    staff = scope_of(user).producers().values("pk")
    return ProducerProfile.objects.select_related("partner").filter(pk__in=own) | (
        ProducerProfile.objects.select_related("partner").filter(pk__in=staff)
    )


def lots_for(user):
    if not user.is_authenticated:
        return Lot.objects.none()
    if user.is_superuser:
        return Lot.objects.all()
    return Lot.objects.filter(producer__in=producers_for(user).values("pk"))


def may_manage_lots(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return ProducerProfile.objects.filter(partner__users=user).exists() or scope_of(user).is_staff


def lot_manager_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not may_manage_lots(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
