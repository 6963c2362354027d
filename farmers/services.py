"""Writes that matter for farmer onboarding. Plain functions, keyword-only arguments."""

from django.db import transaction

from .models import Organisation, StaffMembership


@transaction.atomic
def upsert_organisation(
    *, name: str, kind: str, province_code: int, commune_code=None, parent=None
) -> Organisation:
    org = Organisation.objects.filter(name=name).first() or Organisation(name=name)
    org.kind = kind
    org.province_code = province_code
    org.commune_code = commune_code
    org.parent = parent
    org.full_clean()
    org.save()
    return org


@transaction.atomic
def assign_staff(*, user, organisation: Organisation, title: str = "") -> StaffMembership:
    membership, _ = StaffMembership.objects.update_or_create(
        user=user, defaults={"organisation": organisation, "title": title}
    )
    return membership
