"""The bank account a producer is paid into: a hook, so that marketplace pays producers
without importing farmers (which holds each member's bank, account number and holder).

farmers registers its provider in FarmersConfig.ready() (farmers.payees.bank_accounts).
Without a provider no producer has a bank account, and none can be paid out.
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
    """{partner id: BankAccount} for those of `partner_ids` with a complete account."""
    return _provider(list(partner_ids))
