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
