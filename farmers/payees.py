"""The bank account each member's shop is paid into (registered as marketplace's bank
account provider, marketplace.core.payees)."""

from marketplace.core.payees import BankAccount

from .models import Member


def bank_accounts(partner_ids) -> dict:
    """{partner id: BankAccount} of the members who run these shops and gave a bank, an
    account number and the holder's name (one query)."""
    rows = Member.objects.filter(partner_id__in=partner_ids).values_list(
        "partner_id", "bank_bin", "bank_account", "bank_holder"
    )
    return {
        partner_id: BankAccount(bank_bin=bin_, number=account, holder=holder)
        for partner_id, bin_, account, holder in rows
        if bin_ and account and holder
    }
