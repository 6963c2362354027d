from django.core.exceptions import ValidationError
from django.db.models import Q

from marketplace.core.text import terms

from .models import Member, Organisation, StaffMembership


def membership_for(user) -> StaffMembership | None:
    if not user.is_authenticated:
        return None
    return (
        StaffMembership.objects.select_related("organisation", "organisation__parent")
        .filter(user=user)
        .first()
    )


def organisations_visible_to(user):
    """The operator sees every organisation; staff see their own and those below it."""
    if user.is_superuser:
        return Organisation.objects.select_related("parent")
    membership = membership_for(user)
    if membership is None:
        return Organisation.objects.none()
    org = membership.organisation
    return Organisation.objects.select_related("parent").filter(pk=org.pk) | (
        Organisation.objects.select_related("parent").filter(parent=org)
    )


def producers_in_scope(user):
    """Producer profiles a staff user may act for: a branch covers its commune, a
    provincial association or post office its province; the operator covers all."""
    from marketplace.models import ProducerProfile

    producers = ProducerProfile.objects.select_related("partner")
    if user.is_superuser:
        return producers
    membership = membership_for(user)
    if membership is None:
        return producers.none()
    org = membership.organisation
    if org.kind == Organisation.Kind.ASSOCIATION_BRANCH:
        return producers.filter(commune_code=org.commune_code)
    return producers.filter(province_code=org.province_code)


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
        return {
            Organisation.Kind.ASSOCIATION_BRANCH: services.BRANCH,
            Organisation.Kind.PROVINCIAL_ASSOCIATION: services.PROVINCE,
            Organisation.Kind.POST_OFFICE: services.POST_OFFICE,
        }[membership.organisation.kind]
    if Member.objects.filter(user=user).exists():
        return services.FARMER
    return None


def members_in_scope(user, membership: StaffMembership | None = None):
    """Members a staff user may see: a branch its own members and its commune's, a
    provincial association or post office its province, the operator all; others none."""
    members = Member.objects.select_related("branch")
    if not user.is_authenticated:
        return members.none()
    if user.is_superuser:
        return members
    membership = membership or membership_for(user)
    if membership is None:
        return members.none()
    org = membership.organisation
    if org.kind == Organisation.Kind.ASSOCIATION_BRANCH:
        return members.filter(Q(branch=org) | Q(commune_code=org.commune_code))
    return members.filter(province_code=org.province_code)


def branches_for(user, membership: StaffMembership | None = None):
    """Association branches a staff user may register members into."""
    branches = Organisation.objects.filter(kind=Organisation.Kind.ASSOCIATION_BRANCH)
    if user.is_superuser:
        return branches
    membership = membership or membership_for(user)
    if membership is None:
        return branches.none()
    org = membership.organisation
    if org.kind == Organisation.Kind.ASSOCIATION_BRANCH:
        return branches.filter(pk=org.pk)
    return branches.filter(province_code=org.province_code)


def search_members(members, *, q: str = "", commune=None, status: str = "", branch=None):
    """Name without diacritics, phone (any usual form) or CCCD (exact, by keyed hash)."""
    from . import cccd, crypto, phones

    q = (q or "").strip()
    if q:
        digits = cccd.normalise(q)
        if digits.isdigit() and len(digits) == 12:
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
