"""verify_ledger checks the settlement ledger too: a ledger written by its services
reconciles; a balance changed behind the ledger's back is named."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from marketplace.finance.settlements import record_adjustment
from marketplace.models import ProducerBalance, ProducerProfile


@pytest.mark.django_db
def test_the_ledger_reconciles_and_a_tampered_balance_is_named(demo):
    producer = ProducerProfile.objects.order_by("pk").first()
    record_adjustment(
        producer=producer, amount=-50000, kind="correction", reference="test", by=None
    )
    out = io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=io.StringIO())
    assert "ledger_checks: ok" in out.getvalue()
    assert "The ledger reconciles." in out.getvalue()

    balance = ProducerBalance.objects.get(partner=producer.partner)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ProducerBalance._meta.db_table} SET balance = balance + 1000 "
            "WHERE partner_id = %s",
            [balance.pk],
        )
    err = io.StringIO()
    with pytest.raises(CommandError, match="does not reconcile"):
        call_command("verify_ledger", stdout=io.StringIO(), stderr=err)
    assert f"producer {balance.pk}" in err.getvalue()
