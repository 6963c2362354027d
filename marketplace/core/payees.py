"""The bank account a producer is paid into: the member's own (bank, account number and
holder kept by farmers, read through a hook so that marketplace never imports farmers),
else the producer's account recorded by the marketplace (``ProducerBankAccount``, for
cooperatives and enterprises that are not members).

farmers registers its provider in FarmersConfig.ready() (farmers.payees.bank_accounts).
A producer with neither cannot be paid out.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BankAccount:
    bank_bin: str  # NAPAS 6-digit BIN (marketplace.core.banks)
    number: str
    holder: str  # as the bank shows it: capitals without diacritics


def _none(partner_ids) -> dict:
    return {}


_provider: Callable[[list], dict] = _none


def register_bank_account_provider(provider: Callable[[list], dict]) -> None:
    """`provider(partner_ids)` returns {partner id: BankAccount} in one query."""
    global _provider
    _provider = provider


def bank_accounts(partner_ids) -> dict:
    """{partner id: BankAccount} for those of `partner_ids` with a complete account (two
    queries)."""
    from marketplace.models import ProducerBankAccount

    partner_ids = list(partner_ids)
    found = {
        row.partner_id: BankAccount(bank_bin=row.bank_bin, number=row.number, holder=row.holder)
        for row in ProducerBankAccount.objects.filter(partner_id__in=partner_ids)
    }
    found.update(_provider(partner_ids))
    return found
