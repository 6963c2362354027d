"""Who may import, and which imports a staff user may see."""

from django.db.models import Q

from .. import selectors, services
from ..models import MemberImport


def may_import(role: str | None) -> bool:
    return role in services.STAFF_ROLES


def imports_in_scope(user, membership=None):
    """Imports a staff user may see: those of their organisation (a provincial association
    also its branches'); the operator all; everyone else none."""
    imports = MemberImport.objects.select_related("created_by", "organisation")
    if not user.is_authenticated:
        return imports.none()
    if user.is_superuser:
        return imports
    membership = membership or selectors.membership_for(user)
    if membership is None:
        return imports.none()
    org = membership.organisation
    return imports.filter(Q(organisation=org) | Q(organisation__parent=org))
