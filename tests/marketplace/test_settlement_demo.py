"""The demo shows a producer settled and paid out, and its ledger passes every settlement
check; the account a producer is paid into comes from the member first, else from the
marketplace's record."""

import io

import pytest
from django.core.management import call_command

from marketplace.core import payees
from marketplace.finance import settlement_checks
from marketplace.models import Payout, ProducerBankAccount, SettlementEntry
from tests.marketplace.settlement_helpers import partner


@pytest.mark.django_db
def test_the_demo_has_a_settled_and_paid_out_producer(search_index):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    payout = Payout.objects.get()
    assert payout.partner == partner("krongpac")
    assert payout.paid_at is not None and payout.reference
    sales = SettlementEntry.objects.filter(kind="sale", pk__lt=payout.entry.pk)
    assert {sale.partner for sale in sales} == {partner("krongpac")}
    assert all(sale.vat > 0 for sale in sales)  # a household
    assert payout.amount == sum(sale.amount for sale in sales)
    assert settlement_checks.settlement_problems() == []
    call_command("seed_demo", force=True, stdout=io.StringIO())
    assert Payout.objects.count() == 1


@pytest.mark.django_db
def test_a_members_own_account_comes_first(demo):
    eakiet, krongpac = partner("eakiet"), partner("krongpac")
    ProducerBankAccount.objects.create(
        partner=eakiet, bank_bin="970436", number="0011002233", holder="HTX EA KIET"
    )
    ProducerBankAccount.objects.create(
        partner=krongpac, bank_bin="970436", number="0011009999", holder="NGUYEN VAN HUNG"
    )
    previous = payees._provider
    member = payees.BankAccount(bank_bin="970405", number="5100205123404", holder="NGUYEN VAN HUNG")
    payees.register_bank_account_provider(lambda ids: {krongpac.pk: member})
    try:
        found = payees.bank_accounts([eakiet.pk, krongpac.pk, partner("chuse").pk])
    finally:
        payees.register_bank_account_provider(previous)
    assert found[eakiet.pk].number == "0011002233"
    assert found[krongpac.pk] == member
    assert partner("chuse").pk not in found
