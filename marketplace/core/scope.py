"""Who may see or act on what, by place: the scope rule, as marketplace sees it.

Branch staff → their commune; provincial association or post-office staff → their
province; the operator (superuser) → everything; anyone else → nothing.

The rule belongs to `farmers`, which knows staff and their organisations: it registers
its provider (farmers.scope.scope_of) in FarmersConfig.ready(). Marketplace code asks
here and never imports farmers. Without a provider the operator sees everything and
everyone else nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

OPERATOR, BRANCH, PROVINCE, POST_OFFICE = "operator", "branch", "province", "post_office"
ASSOCIATION_ROLES = (BRANCH, PROVINCE)


def _get(obj, path: str):
    """obj.a.b for the path "a__b" (None as soon as a step is None)."""
    return reduce(lambda value, name: getattr(value, name, None), path.split("__"), obj)


@dataclass(frozen=True)
class Scope:
    """One user's scope. `role` is OPERATOR, BRANCH, PROVINCE, POST_OFFICE or None
    (no staff role: sees nothing); `organisation` the staff organisation, if any."""

    role: str | None = None
    province_code: int | None = None
    commune_code: int | None = None
    organisation: object = field(default=None, compare=False, repr=False)

    @property
    def everything(self) -> bool:
        return self.role == OPERATOR

    @property
    def is_staff(self) -> bool:
        """The operator or staff of an organisation."""
        return self.role is not None

    @property
    def is_association(self) -> bool:
        """Farmers' Association staff: a commune branch or a provincial association."""
        return self.role in ASSOCIATION_ROLES

    @property
    def is_post_office(self) -> bool:
        return self.role == POST_OFFICE

    def filter(self, qs, *, province_field="province_code", commune_field="commune_code"):
        """`qs` narrowed to this scope, by the given province and commune fields."""
        if self.everything:
            return qs
        if self.role is None:
            return qs.none()
        if self.role == BRANCH:
            return qs.filter(**{commune_field: self.commune_code})
        return qs.filter(**{province_field: self.province_code})

    def producers(self, qs):
        """Producer profiles (marketplace.ProducerProfile) in scope."""
        return self.filter(qs)

    def allows(self, obj, *, province_field="province_code", commune_field="commune_code"):
        """Whether one object is in scope: by its own province and commune, or else by
        its producer's (a certificate, a lot)."""
        if self.everything:
            return True
        if self.role is None or obj is None:
            return False
        if not hasattr(obj, province_field.split("__")[0]) and hasattr(obj, "producer"):
            return self.allows(obj.producer)
        if self.role == BRANCH:
            return _get(obj, commune_field) == self.commune_code
        return _get(obj, province_field) == self.province_code


NOBODY = Scope()
EVERYTHING = Scope(role=OPERATOR)

_provider: Callable | None = None


def register_scope_provider(fn: Callable) -> Callable:
    """Make `fn(user) -> Scope` the scope rule (farmers registers it). Returns `fn`, so it
    may be used as a decorator."""
    global _provider
    _provider = fn
    return fn


def scope_provider() -> Callable | None:
    return _provider


def default_scope(user) -> Scope:
    """Without a provider: the operator sees everything, everyone else nothing."""
    if user.is_authenticated and user.is_superuser:
        return EVERYTHING
    return NOBODY


def scope_of(user) -> Scope:
    """The scope of `user` (anonymous visitors: nothing)."""
    if user is None or not user.is_authenticated:
        return NOBODY
    return (_provider or default_scope)(user)


def producers_in_scope(user, qs):
    """The producer profiles of `qs` that `user` may act for."""
    return scope_of(user).producers(qs)
