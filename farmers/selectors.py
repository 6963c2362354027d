from .models import Organisation, StaffMembership


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
