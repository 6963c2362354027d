"""The marketplace app's models, each defined in its domain package (app label
"marketplace": tables, content types and permissions as before)."""

from marketplace.catalogue.models import ProductListing, SearchEntry
from marketplace.certificates.models import Certificate, CertificateQuerySet
from marketplace.finance.models import (
    BankTransfer,
    CodHandover,
    Payout,
    PayoutBatch,
    ProducerBalance,
    ProducerBankAccount,
    Remittance,
    SettlementEntry,
    StatementImport,
)
from marketplace.fulfilment.models import CancelledLine, Notification, Parcel
from marketplace.payments.models import Refund, StripeEvent
from marketplace.shops.models import ProducerPhoto, ProducerProfile
from marketplace.site_settings.models import MarketplaceSettings

__all__ = [
    "BankTransfer",
    "CancelledLine",
    "CodHandover",
    "Certificate",
    "CertificateQuerySet",
    "MarketplaceSettings",
    "Notification",
    "Parcel",
    "Payout",
    "PayoutBatch",
    "ProducerBalance",
    "ProducerBankAccount",
    "ProducerPhoto",
    "ProducerProfile",
    "ProductListing",
    "Refund",
    "Remittance",
    "SearchEntry",
    "SettlementEntry",
    "StatementImport",
    "StripeEvent",
]
