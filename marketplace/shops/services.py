"""Writes that matter in the marketplace. Plain functions, keyword-only, one transaction."""

from django.contrib.auth.models import Permission
from django.db import transaction
from oscar.core.loading import get_model
from oscar.core.utils import slugify

from marketplace.models import ProducerProfile

Partner = get_model("partner", "Partner")


def grant_dashboard_access(user) -> None:
    """Oscar 4 partner users need this permission to reach their part of the dashboard."""
    perm = Permission.objects.get(codename="dashboard_access", content_type__app_label="partner")
    user.user_permissions.add(perm)


def unique_producer_slug(name: str) -> str:
    """The shop page address: the name without diacritics (đ → d), made unique."""
    base = slugify(name)[:110] or "nha-san-xuat"
    slug, n = base, 1
    while ProducerProfile.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def open_producer_shop(
    *,
    name: str,
    kind: str,
    province_code: int,
    commune_code: int,
    address_line: str = "",
    story: str = "",
    owner=None,
) -> Partner:
    """Open (or return the already open) shop of a producer: an Oscar Partner + profile.

    Idempotent on the partner's name, so onboarding or seeding twice opens one shop.
    """
    partner, _created = Partner.objects.select_for_update().get_or_create(name=name)
    profile = ProducerProfile.objects.filter(partner=partner).first() or ProducerProfile(
        partner=partner
    )
    if not profile.slug:
        profile.slug = unique_producer_slug(name)
    profile.kind, profile.story = kind, story
    profile.province_code, profile.commune_code = province_code, commune_code
    profile.address_line = address_line
    profile.full_clean(exclude=["partner"])
    profile.save()
    if owner is not None:
        partner.users.add(owner)
        grant_dashboard_access(owner)
    return partner


@transaction.atomic
def set_producer_gln(*, producer_id: int, gln: str) -> ProducerProfile:
    """Record (or clear, with "") a producer's GLN: 13 digits with a right check digit
    (marketplace.core.validators.validate_gln, the model field's validator). EPCIS exports
    then name the producer's location by it (traceability.epcis.producer_location)."""
    profile = ProducerProfile.objects.select_for_update().get(pk=producer_id)
    profile.gln = gln.strip()
    profile.full_clean(exclude=["partner"])
    profile.save(update_fields=["gln"])
    return profile
