"""Each role's home, and the links its header shows: one place for "where does this user
start".

- the operator (superuser) → the operator's home, `/quan-tri/`;
- post-office staff → the post office's home, `/buu-dien/`;
- Farmers' Association staff (a branch or a provincial association) → `/can-bo/`;
- a user who runs a producer shop → the seller's channel, `/cua-hang/`;
- a farmer whose account onboarding opened (signs in by phone: the username is the
  E.164 number) but who has no shop yet → their member record, `/can-bo/toi/`;
- anyone else (a buyer) → the storefront.

Roles come from the scope rule (marketplace.core.scope, which farmers fills in) and from
marketplace.core.access.producer_of; pages of farmers and traceability are named by their
URL names only, so marketplace imports neither.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from .access import producer_of
from .scope import scope_of

OPERATOR, POST_OFFICE, ASSOCIATION, FARMER, MEMBER, BUYER = (
    "operator",
    "post_office",
    "association",
    "farmer",
    "member",
    "buyer",
)


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class Home:
    role: str
    label: str = ""
    url_name: str = ""
    links: tuple = field(default=())

    @property
    def url(self) -> str:
        return reverse(self.url_name) if self.url_name else settings.LOGIN_REDIRECT_URL


HOMES = {
    OPERATOR: Home(
        OPERATOR,
        _("Operator"),
        "operator:home",
        (
            Link(_("Listings"), "shop:listing-queue"),
            Link(_("Certificates"), "certificates:queue"),
        ),
    ),
    POST_OFFICE: Home(
        POST_OFFICE,
        _("Post office"),
        "fulfilment:post-home",
        (Link(_("Parcels"), "fulfilment:post-parcels"),),
    ),
    ASSOCIATION: Home(
        ASSOCIATION,
        _("Association staff"),
        "farmers:staff-home",
        (Link(_("Members"), "farmers:members"),),
    ),
    FARMER: Home(
        FARMER,
        _("Seller channel"),
        "shop:home",
        (
            Link(_("Orders"), "fulfilment:producer-parcels"),
            Link(_("Products"), "shop:products"),
        ),
    ),
    MEMBER: Home(MEMBER, _("My record"), "farmers:my-record"),
    BUYER: Home(BUYER),
}


def role_of(user) -> str | None:
    """The role whose home `user` starts from (None for an anonymous visitor). At most two
    queries: the staff membership, then the producer shop."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return OPERATOR
    scope = scope_of(user)
    if scope.is_post_office:
        return POST_OFFICE
    if scope.is_association:
        return ASSOCIATION
    if producer_of(user) is not None:
        return FARMER
    if user.get_username().startswith("+"):
        return MEMBER
    return BUYER


def home_of(user) -> Home | None:
    role = role_of(user)
    return HOMES[role] if role else None


def home_url(user) -> str:
    """Where `user` lands after signing in (the storefront for a buyer)."""
    home = home_of(user)
    return home.url if home else settings.LOGIN_REDIRECT_URL


def role_home(request):
    """Context processor: `role_home`, the signed-in user's Home (None for visitors and
    buyers without one), read only when a template uses it."""

    def read():
        home = getattr(request, "_role_home", False)
        if home is False:
            home = home_of(getattr(request, "user", None))
            request._role_home = home
        return home if home is not None and home.url_name else None

    return {"role_home": SimpleLazyObject(read)}
