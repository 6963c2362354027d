from django.core.exceptions import ValidationError

from marketplace.core.numbers import is_digits
from marketplace.core.text import terms

from .models import Member, StaffMembership
from .scope import membership_for, scope_for_membership, scope_of  # noqa: F401 (re-export)


def organisations_visible_to(user):
    """The operator sees every organisation; staff see their own and those below it."""
    return scope_of(user).organisations()


def producers_in_scope(user):
    """Producer profiles a staff user may act for (farmers.scope)."""
    return scope_of(user).producers()


# --- Members -----------------------------------------------------------------------------------


def role_for(user, membership: StaffMembership | None = None) -> str | None:
    """operator, branch, province, post_office, farmer (a member's own account) or None."""
    from . import services

    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return services.OPERATOR
    membership = membership or membership_for(user)
    if membership is not None:
        return scope_for_membership(user, membership).role
    if Member.objects.filter(user=user).exists():
        return services.FARMER
    return None


def members_in_scope(user, membership: StaffMembership | None = None):
    """Members a staff user may see (farmers.scope: a branch its own members and its
    commune's, a provincial association or post office its province, the operator all)."""
    return _scope(user, membership).members()


def branches_for(user, membership: StaffMembership | None = None):
    """Association branches a staff user may register members into."""
    return _scope(user, membership).branches()


def registration_communes(user, membership: StaffMembership | None = None):
    """The communes a staff user's member form offers (None: every one of the province)."""
    return _scope(user, membership).registration_communes()


def _scope(user, membership):
    if membership is None:
        return scope_of(user)
    return scope_for_membership(user, membership)


def search_members(members, *, q: str = "", commune=None, status: str = "", branch=None):
    """Name without diacritics, phone (any usual form) or CCCD (exact, by keyed hash)."""
    from . import cccd, crypto, phones

    q = (q or "").strip()
    if q:
        digits = cccd.normalise(q)
        if is_digits(digits) and len(digits) == 12:
            members = members.filter(cccd_hash=crypto.keyed_hash(digits))
        else:
            try:
                members = members.filter(phone=phones.to_e164(q))
            except ValidationError:
                for term in terms(q):
                    members = members.filter(name_folded__contains=term)
    if commune:
        members = members.filter(commune_code=commune)
    if status:
        members = members.filter(status=status)
    if branch:
        members = members.filter(branch=branch)
    return members


def member_page(member: Member) -> dict:
    """Everything the member page shows, in a fixed number of queries."""
    return {
        "documents": list(member.documents.all()),
        "events": list(member.events.select_related("actor")),
        "consents": list(member.consents.select_related("collected_by", "withdrawn_by")),
    }


def access_log(member: Member):
    return member.accesses.select_related("user", "document")


# --- The staff home ----------------------------------------------------------------------------


def staff_todo(scope) -> dict:
    """What the staff member's scope holds now: members by status, listings waiting for
    approval and certificates waiting for verification of producers in scope, imports not
    finished. Four queries."""
    from django.db.models import Count

    from marketplace.models import Certificate, ProductListing

    from .models import MemberImport

    by_status = dict(
        scope.members(Member.objects.all()).order_by().values_list("status").annotate(n=Count("pk"))
    )
    producers = scope.producers()
    return {
        "members": by_status,
        "listings": ProductListing.objects.filter(
            producer__in=producers, status=ProductListing.Status.PENDING
        ).count(),
        "certificates": Certificate.objects.filter(
            producer__in=producers, status=Certificate.Status.PENDING
        ).count(),
        "imports": scope.imports(MemberImport.objects.all())
        .filter(status__in=[MemberImport.Status.PENDING, MemberImport.Status.RUNNING])
        .count(),
    }
