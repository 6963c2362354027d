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
from oscar.core.loading import get_model

from marketplace.core.cached import CachedUntilChanged

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


def _read_source_types() -> dict:
    SourceType = get_model("payment", "SourceType")
    return {row.code: row for row in SourceType.objects.all()}


# The payment methods' rows (a handful, never changed by a buyer): every order placed needs
# one, read from the cache until a row is saved or deleted.
_SOURCE_TYPES = CachedUntilChanged(
    "nongsan:payment-source-types", _read_source_types, models=("payment.SourceType",)
)


def source_type(code: str):
    """The payment SourceType of `code` (COD, VIETQR, CARD), created with its label the
    first time; from the cache (no query) once known."""
    found = _SOURCE_TYPES.get().get(code)
    if found is None:
        SourceType = get_model("payment", "SourceType")
        found, _created = SourceType.objects.get_or_create(
            code=code, defaults={"name": str(METHOD_LABELS[code])}
        )
    return found


def install():
    """Forget the payment methods' rows whenever one changes."""
    _SOURCE_TYPES.install()
