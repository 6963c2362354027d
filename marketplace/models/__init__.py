"""The marketplace app's models, each defined in its domain package (app label
"marketplace": tables, content types and permissions as before)."""

from marketplace.catalogue.models import BatchAllocation, ProductListing, SaleBatch, SearchEntry
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
from marketplace.fulfilment.models import CancelledLine, Notification, Parcel, ProducerNotice
from marketplace.payments.models import Refund, StripeEvent
from marketplace.preorders.models import Preorder, PreorderWindow
from marketplace.shops.models import ProducerPhoto, ProducerProfile
from marketplace.site_settings.models import MarketplaceSettings
from marketplace.wholesale.models import BusinessBuyer, OrderInvoice, PriceBreak

__all__ = [
    "BankTransfer",
    "BusinessBuyer",
    "BatchAllocation",
    "CancelledLine",
    "CodHandover",
    "Certificate",
    "CertificateQuerySet",
    "MarketplaceSettings",
    "Notification",
    "OrderInvoice",
    "Parcel",
    "Payout",
    "PriceBreak",
    "PayoutBatch",
    "Preorder",
    "PreorderWindow",
    "ProducerBalance",
    "ProducerBankAccount",
    "ProducerNotice",
    "ProducerPhoto",
    "ProducerProfile",
    "ProductListing",
    "Refund",
    "Remittance",
    "SaleBatch",
    "SearchEntry",
    "SettlementEntry",
    "StatementImport",
    "StripeEvent",
]
