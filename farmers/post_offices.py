"""The post offices and their staff, as marketplace.core.post_offices reads them (for the
daily list of parcels to pick up)."""

from django.db.models import Prefetch

from marketplace.core.post_offices import Contact, PostOffice

from .models import Organisation, StaffMembership


def _contact(user) -> Contact:
    username = user.get_username()
    return Contact(phone=username if username.startswith("+") else "", email=user.email or "")


def post_offices() -> list[PostOffice]:
    """Every post office with its active staff (two queries)."""
    offices = Organisation.objects.filter(kind=Organisation.Kind.POST_OFFICE).prefetch_related(
        Prefetch("memberships", queryset=StaffMembership.objects.select_related("user"))
    )
    return [
        PostOffice(
            pk=office.pk,
            name=office.name,
            province_code=office.province_code,
            contacts=tuple(_contact(m.user) for m in office.memberships.all() if m.user.is_active),
        )
        for office in offices
    ]
