"""Who may use the staff pages of farmers (members, imports, reports, listings,
certificates, the staff home), in one place. The scope itself is farmers.scope.

- `staff_required`: a view decorator. Anonymous visitors are sent to sign in; a signed-in
  user who is neither the operator nor staff (of one of `kinds`, when given) gets 403,
  or 404 with `hide=True` (the member, import and report pages answer 404, so that they
  do not tell that they exist).
- `staff_scope(request)`: the caller's scope (with its `membership` and `role`), 404 for
  anyone else: for views that need the scope itself; `staff_role(request)` the same as
  (membership, role).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Organisation
from .scope import Scope, membership_for, scope_for_membership

ASSOCIATION_KINDS = (
    Organisation.Kind.ASSOCIATION_BRANCH,
    Organisation.Kind.PROVINCIAL_ASSOCIATION,
)


def scope_with_membership(user) -> Scope:
    """The scope of `user`, with the membership read even for the operator (the staff
    pages show it)."""
    return scope_for_membership(user, membership_for(user))


def _admitted(scope: Scope, kinds) -> bool:
    if scope.everything:
        return True
    if not scope.is_staff:
        return False
    return kinds is None or scope.membership.organisation.kind in kinds


def staff_scope(request, *, kinds=None, may=None, hide=True) -> Scope:
    """The scope of the signed-in staff user (of one of `kinds`, when given) or operator;
    Http404 (PermissionDenied with hide=False) for anyone else, and for a role that
    `may(role)` refuses."""
    scope = scope_with_membership(request.user)
    if not _admitted(scope, kinds) or (may is not None and not may(scope.role)):
        raise Http404 if hide else PermissionDenied
    return scope


def staff_role(request, *, may=None) -> tuple:
    """staff_scope as (membership, role)."""
    scope = staff_scope(request, may=may)
    return scope.membership, scope.role


def staff_required(view=None, *, kinds=None, hide=False):
    """Staff (of one of `kinds`, when given) and the operator; anyone else 403 (404 with
    hide=True); anonymous visitors are sent to sign in. Usable bare or with arguments."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            staff_scope(request, kinds=kinds, hide=hide)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate if view is None else decorate(view)


association_staff_required = staff_required(kinds=ASSOCIATION_KINDS)
