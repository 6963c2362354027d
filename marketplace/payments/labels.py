"""What the names Oscar stores for payment events and payment methods say to a person.

Oscar keeps a name on each PaymentEventType ("Paid", "Refunded") and SourceType ("Cash on
delivery"), written once, in whatever language was active when the row was first made,
and prints it as stored. They are translated when shown instead (a data migration would
fix one language in the database: /en/ would then read Vietnamese, and a row made later
would still be in the language of its day): each row is known by its code, which never
changes, and shown in the reader's language; a row we do not know (one the operator made
in the admin) keeps its own name.
"""

from django.utils.translation import gettext_lazy as _

PAID_EVENT, REFUND_EVENT = "paid", "refunded"
EVENT_LABELS = {PAID_EVENT: _("Paid"), REFUND_EVENT: _("Refunded")}

COD, VIETQR, CARD = "cod", "vietqr", "stripe"
METHOD_LABELS = {
    COD: _("Cash on delivery"),
    VIETQR: _("VietQR bank transfer"),
    CARD: _("Card (Visa, Mastercard, JCB)"),
}


def event_label(event_type) -> str:
    """A PaymentEventType (or ShippingEventType) as the reader reads it."""
    if event_type is None:
        return ""
    return str(EVENT_LABELS.get(event_type.code, event_type.name))


def method_label(source_type) -> str:
    """A payment SourceType as the reader reads it."""
    if source_type is None:
        return ""
    return str(METHOD_LABELS.get(source_type.code, source_type.name))
