"""THE scope rule: who may see or act on a producer, member, parcel, lot, import or
certificate.

- staff of a commune branch (chi hội) → their commune (and the members of their branch);
- staff of a provincial association or a post office → their province;
- the operator (superuser) → everything;
- anyone else → nothing.

`scope_of(user)` answers once; its methods narrow a queryset or check one object. It is
registered with marketplace.core.scope in FarmersConfig.ready(), so marketplace and
traceability use the same rule without marketplace importing farmers.
"""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from marketplace.core import scope as core
from marketplace.core.scope import BRANCH, OPERATOR, POST_OFFICE, PROVINCE

from .models import Consent, Member, MemberImport, Organisation, StaffMembership

ROLE_OF_KIND = {
    Organisation.Kind.ASSOCIATION_BRANCH: BRANCH,
    Organisation.Kind.PROVINCIAL_ASSOCIATION: PROVINCE,
    Organisation.Kind.POST_OFFICE: POST_OFFICE,
}


def membership_for(user) -> StaffMembership | None:
    """The staff membership of `user` (with its organisation), if any."""
    if user is None or not user.is_authenticated:
        return None
    return (
        StaffMembership.objects.select_related("organisation", "organisation__parent")
        .filter(user=user)
        .first()
    )


@dataclass(frozen=True)
class Scope(core.Scope):
    """marketplace.core.scope.Scope, with the farmers' own records (members, branches,
    organisations, imports)."""

    membership: StaffMembership | None = field(default=None, compare=False, repr=False)

    def _org_pk(self):
        return getattr(self.organisation, "pk", None)

    def producers(self, qs=None):
        if qs is None:
            from marketplace.models import ProducerProfile

            qs = ProducerProfile.objects.select_related("partner")
        return super().producers(qs)

    def members(self, qs=None):
        """A branch: its own members and its commune's; a provincial association: its
        province; a post office: the members of its province who consented to sharing
        with the post office (Law 91/2025: consent per purpose), never drafts; the
        operator: all."""
        qs = Member.objects.select_related("branch") if qs is None else qs
        if self.role == BRANCH:
            return qs.filter(Q(branch=self.organisation) | Q(commune_code=self.commune_code))
        if self.role == POST_OFFICE:
            return (
                self.filter(qs)
                .exclude(status=Member.Status.DRAFT)
                .filter(Exists(_post_office_consents().filter(member=OuterRef("pk"))))
            )
        return self.filter(qs)

    def may_register_in(self, *, province_code, commune_code) -> bool:
        """Where this user may register (or move) a member: a branch its own commune, a
        provincial association its province, the operator anywhere; a post office (which
        sees members only with their consent) and anyone else nowhere."""
        if self.everything:
            return True
        if self.role == BRANCH:
            return commune_code is not None and commune_code == self.commune_code
        if self.role == PROVINCE:
            return province_code is not None and province_code == self.province_code
        return False

    def registration_communes(self) -> list[int] | None:
        """The communes a registration form offers this user: a branch its own; None for
        every commune of the province(s) the user may register in."""
        return [self.commune_code] if self.role == BRANCH else None

    def branches(self, qs=None):
        """Association branches this user may register members into."""
        if qs is None:
            qs = Organisation.objects.filter(kind=Organisation.Kind.ASSOCIATION_BRANCH)
        if self.role == BRANCH:
            return qs.filter(pk=self._org_pk())
        return self.filter(qs)

    def organisations(self, qs=None):
        """The operator: every organisation; staff: their own and those below it."""
        qs = Organisation.objects.select_related("parent") if qs is None else qs
        if self.everything:
            return qs
        if self.role is None:
            return qs.none()
        return qs.filter(pk=self._org_pk()) | qs.filter(parent=self.organisation)

    def imports(self, qs=None):
        """Member imports: those of the user's organisation (a provincial association also
        its branches'); the operator all."""
        if qs is None:
            qs = MemberImport.objects.select_related("created_by", "organisation")
        if self.everything:
            return qs
        if self.role is None:
            return qs.none()
        return qs.filter(
            Q(organisation=self.organisation) | Q(organisation__parent=self.organisation)
        )

    def allows(self, obj, **fields):
        if self.everything:
            return True
        if self.role is None or obj is None:
            return False
        if isinstance(obj, Member):
            if self.role == BRANCH:
                return obj.branch_id == self._org_pk() or obj.commune_code == self.commune_code
            if self.role == POST_OFFICE:
                return (
                    obj.province_code == self.province_code
                    and obj.status != Member.Status.DRAFT
                    and _post_office_consents().filter(member=obj).exists()
                )
            return obj.province_code == self.province_code
        if isinstance(obj, MemberImport):
            org = obj.organisation
            return org is not None and self._org_pk() in (org.pk, org.parent_id)
        if isinstance(obj, Organisation):
            return self._org_pk() in (obj.pk, obj.parent_id)
        return super().allows(obj, **fields)


def _post_office_consents():
    return Consent.objects.filter(purpose=Consent.Purpose.POST_OFFICE, withdrawn_at__isnull=True)


NOBODY = Scope()


def scope_for_membership(user, membership: StaffMembership | None) -> Scope:
    """The scope of `user` whose membership is already known (saves a query)."""
    if user is None or not user.is_authenticated:
        return NOBODY
    if user.is_superuser:
        return Scope(role=OPERATOR, membership=membership)
    if membership is None:
        return NOBODY
    org = membership.organisation
    return Scope(
        role=ROLE_OF_KIND[org.kind],
        province_code=org.province_code,
        commune_code=org.commune_code,
        organisation=org,
        membership=membership,
    )


def scope_of(user) -> Scope:
    """The scope of `user`: one query for staff, none for anonymous visitors and the
    operator (whose `membership` is then None; farmers.access.staff_scope reads it)."""
    if user is None or not user.is_authenticated:
        return NOBODY
    if user.is_superuser:
        return scope_for_membership(user, None)
    return scope_for_membership(user, membership_for(user))
