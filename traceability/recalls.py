"""Recalls, and the lots order lines were packed from.

`recall_lot` takes a lot off the market, in one transaction:
- a Recall row (one per lot: a recalled lot cannot be recalled again, and it is final);
- the product's ProductListing is WITHDRAWN with the reason (created if the product had
  none) and the product is no longer public, so it leaves the catalogue, the product page
  and the search index (marketplace.search.receivers reindex on both saves);
- one RecallNotice per order holding a line linked to the lot (LineLot);
- after commit: the trace page cache head of the lot is dropped (the page is keyed by a
  head that includes the recall, so the red banner shows at once) and the Celery task
  `traceability.send_recall_notices` e-mails the buyers.

The task is idempotent: a notice is claimed (sent_at set by a conditional UPDATE) before
its e-mail goes, so running the task twice, or two workers at once, sends each buyer one
e-mail per order.

`link_line` records which lot a producer packed an order line from (LineLot), so that the
buyer sees a trace link in the order and is reached by a recall.
"""

import io
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.catalogue import batches
from marketplace.models import ProductListing

from . import caching, safety, scans, transparency  # noqa: F401 - scans registers record_scan
from .access import lots_for, producers_for
from .models import LineLot, Lot, Recall, RecallNotice

logger = logging.getLogger(__name__)

Order = get_model("order", "Order")
Line = get_model("order", "Line")
Product = get_model("catalogue", "Product")

MAX_REASON = 2000


def clean_reason(reason) -> str:
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Please say why the lot is recalled.")]})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {
                "reason": [
                    _("The reason is too long: at most %(max)s characters.") % {"max": MAX_REASON}
                ]
            }
        )
    return reason


def affected_orders(lot):
    """Orders with at least one line packed from the lot, or sold from it (a line may
    have taken from two lots on sale: marketplace.catalogue.batches)."""
    return Order.objects.filter(
        Q(lines__trace_lot__lot=lot) | Q(lines__batch_allocations__batch__source_id=lot.pk)
    ).distinct()


@transaction.atomic
def recall_lot(*, lot, by, reason, base_url="") -> Recall:
    """Recall `lot` (see the module docstring). `by` must manage the lot; `base_url`
    ("https://host") makes the links in the buyers' e-mails absolute."""
    reason = clean_reason(reason)
    if by is not None and not lots_for(by).filter(pk=lot.pk).exists():
        raise PermissionDenied(_("You cannot recall this lot."))
    # What is left of the lot leaves the stock first: the stock record is locked before
    # the lot and its product, as placing an order does (which links its lines to them).
    batches.withdraw(source_id=lot.pk, reason=safety.RECALLED)
    lot = Lot.objects.select_for_update().select_related("product").get(pk=lot.pk)
    if Recall.objects.filter(lot=lot).exists():
        raise ValidationError(_("This lot has already been recalled."))
    recall = Recall.objects.create(lot=lot, reason=reason, recalled_by=by)
    transparency.record_recall(lot=lot, recall=recall)

    product = Product.objects.select_for_update().get(pk=lot.product_id)
    listing = ProductListing.objects.select_for_update().filter(product=product).first()
    if listing is None:
        listing = ProductListing(product=product, producer=lot.producer, listed_by=by)
    listing.status = ProductListing.Status.WITHDRAWN
    listing.status_reason = reason
    listing.reviewed_by = by
    listing.reviewed_at = timezone.now()
    listing.save()  # marketplace.search.receivers reindex the product
    if product.is_public:
        product.is_public = False
        product.save()

    RecallNotice.objects.bulk_create(
        [RecallNotice(recall=recall, order=order) for order in affected_orders(lot)],
        ignore_conflicts=True,
    )
    lot_pk, recall_pk = lot.pk, recall.pk
    transaction.on_commit(lambda: caching.invalidate_lot(lot_pk))
    transaction.on_commit(lambda: send_recall_notices.delay(recall_pk, base_url))
    return recall


def _notice_text(notice, base_url) -> tuple[str, str]:
    recall = notice.recall
    lot = recall.lot
    product = lot.product.get_title()
    subject = _("Recall: %(product)s, lot %(code)s (order %(number)s)") % {
        "product": product,
        "code": lot.code,
        "number": notice.order.number,
    }
    body = _(
        "Hello,\n\n"
        "Your order %(number)s contains %(product)s from lot %(code)s. "
        "The producer or the marketplace has recalled this lot on %(date)s.\n\n"
        "Reason: %(reason)s\n\n"
        "Please do not eat or use this product. Keep the package and contact the "
        "producer or the marketplace about a refund or a replacement.\n\n"
        "Details of the lot: %(link)s\n\n"
        "Nông sản"
    ) % {
        "number": notice.order.number,
        "product": product,
        "code": lot.code,
        "date": timezone.localtime(recall.recalled_at).strftime("%d/%m/%Y"),
        "reason": recall.reason,
        "link": f"{base_url.rstrip('/')}/t/{lot.short_code}/",
    }
    return subject, body


@shared_task(name="traceability.send_recall_notices")
def send_recall_notices(recall_id, base_url=""):
    """E-mail every buyer of the recall not yet notified; returns how many were sent."""
    sent = 0
    notices = (
        RecallNotice.objects.filter(recall_id=recall_id, sent_at__isnull=True)
        .select_related("recall__lot__product", "order__user")
        .order_by("pk")
    )
    for notice in notices:
        # Claim the notice first: a second run (or a second worker) finds it taken.
        claimed = RecallNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if not claimed:
            continue
        email = notice.order.email or ""
        if not email:
            RecallNotice.objects.filter(pk=notice.pk).update(email="")
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _notice_text(notice, base_url)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:
            # Give the notice back so that a retry sends it.
            RecallNotice.objects.filter(pk=notice.pk).update(sent_at=None)
            raise
        RecallNotice.objects.filter(pk=notice.pk).update(email=email)
        sent += 1
    return sent


# --- Order lines packed from lots ----------------------------------------------------------------


def lines_for(user):
    """Order lines of the producers this user manages (the operator: all)."""
    if not user.is_authenticated:
        return Line.objects.none()
    if user.is_superuser:
        return Line.objects.all()
    return Line.objects.filter(partner__producer_profile__in=producers_for(user).values("pk"))


def lots_for_line(user, line):
    """Lots this user may link `line` to: same product and producer, not recalled."""
    return lots_for(user).filter(
        product_id=line.product_id,
        producer__partner_id=line.partner_id,
        recall__isnull=True,
    )


@transaction.atomic
def link_line(*, line, lot_id, by) -> LineLot:
    """Record that `line` was packed from lot `lot_id`. The line must be one of `by`'s
    (else PermissionDenied); the lot one of lots_for_line (else ValidationError)."""
    if not lines_for(by).filter(pk=line.pk).exists():
        raise PermissionDenied(_("You cannot link this order line."))
    try:
        lot_id = int(lot_id)
    except (TypeError, ValueError):
        lot_id = None
    lot = (
        lots_for_line(by, line).select_related("recall").filter(pk=lot_id).first()
        if lot_id
        else None
    )
    if lot is None:
        raise ValidationError(
            {"lot": [_("Choose a lot of this product that you manage and that is not recalled.")]}
        )
    refusal = safety.sale_refusal(lot)  # expired, or harvested inside a pre-harvest interval
    if refusal is not None:
        raise ValidationError({"lot": [refusal.message]})
    try:
        with transaction.atomic():
            return LineLot.objects.create(line=line, lot=lot, linked_by=by)
    except IntegrityError:
        raise ValidationError(_("This order line is already linked to a lot.")) from None


# --- Demo -----------------------------------------------------------------------------------------

DEMO_RECALLED = "NS0018"
DEMO_REASON = (
    "Kiểm tra định kỳ phát hiện độ ẩm vượt mức cho phép, có nguy cơ nấm mốc. "
    "Vui lòng không sử dụng sản phẩm thuộc lô này."
)


def seed_demo(stdout=None) -> list[str]:
    """Recall the demo lot of NS0018, Quế Trà Bồng bột (idempotent), so the demo has a
    recalled lot; its product is withdrawn. For settings.DEMO_SEEDERS, after
    "traceability.demo.seed". Returns the lines `seed_demo` prints."""
    stdout = stdout or io.StringIO()
    lot = Lot.objects.filter(product__upc=DEMO_RECALLED, code=f"DEMO-{DEMO_RECALLED}").first()
    if lot is None:
        return []
    if not Recall.objects.filter(lot=lot).exists():
        recall_lot(lot=lot, by=None, reason=DEMO_REASON)
        stdout.write(f"Recalled demo lot {lot.code} ({lot.short_code})\n")
    return [f"  Trace     http://127.0.0.1:8000/t/{lot.short_code}/  (recalled lot)"]
