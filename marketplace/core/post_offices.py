"""The post offices the marketplace writes to (their daily list of parcels to pick up),
read through a hook so that marketplace never imports farmers, which knows post offices
and their staff (as marketplace.core.payees does for bank accounts).

farmers registers its provider in FarmersConfig.ready() (farmers.post_offices.post_offices).
Without a provider there is no post office to write to.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contact:
    """Where one person is reached: an E.164 phone number, an e-mail address (either may be
    empty)."""

    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class PostOffice:
    pk: int
    name: str
    province_code: int
    contacts: tuple[Contact, ...] = field(default=())


def _none() -> list:
    return []


_provider: Callable[[], list] = _none


def register_post_office_provider(provider: Callable[[], list]) -> None:
    """`provider()` returns every post office as a list of PostOffice (two queries)."""
    global _provider
    _provider = provider


def post_offices() -> list[PostOffice]:
    return list(_provider())
