"""Reads for the operator's home, each with a query budget in the tests."""

import datetime
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.certificates.services import EXPIRING_SOON_DAYS
from marketplace.models import (
    Certificate,
    CodHandover,
    ProducerBalance,
    ProductListing,
    Refund,
)
from marketplace.payments.state import VIETQR

Source = get_model("payment", "Source")


@dataclass(frozen=True)
class OperatorQueues:
    listings: int
    certificates: int
    certificates_expiring: int
    transfers: int
    refunds: int
    handovers: int
    payouts: int


def operator_queues(*, today=None) -> OperatorQueues:
    """What waits for the operator: listings to approve, certificates to verify or about to
    expire, VietQR orders whose transfer is not matched yet, refunds pending or failed,
    cash the post office handed over not confirmed yet, producers with a balance to pay out.
    Seven queries."""
    today = today or timezone.localdate()
    return OperatorQueues(
        listings=ProductListing.objects.filter(status=ProductListing.Status.PENDING).count(),
        certificates=Certificate.objects.filter(status=Certificate.Status.PENDING).count(),
        certificates_expiring=Certificate.objects.filter(
            status=Certificate.Status.VERIFIED,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=EXPIRING_SOON_DAYS),
        ).count(),
        transfers=Source.objects.filter(
            source_type__code=VIETQR, amount_debited__lt=F("amount_allocated")
        ).count(),
        refunds=Refund.objects.filter(
            status__in=[Refund.Status.PENDING, Refund.Status.FAILED]
        ).count(),
        handovers=CodHandover.objects.filter(received_at__isnull=True).count(),
        payouts=ProducerBalance.objects.filter(balance__gt=0).count(),
    )
