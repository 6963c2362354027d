"""Certificates: submission, verification, rejection and expiry (services).

Plain functions with keyword-only arguments, one transaction each; state changes lock
the certificate row. A certificate earns a badge only while VERIFIED and within its
validity dates (`Certificate.shows_badge`, `Certificate.objects.badges()`); the search
rows that carry the badges are rebuilt by the model signals on save, and explicitly
after bulk updates here.

Dependency direction: `farmers` uses `marketplace`, never the reverse at import time.
Staff scopes come from `marketplace.core.scope` (the rule farmers registers); `can_verify`
asks it only when a user who is not the operator asks.
"""

import calendar
import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.core.access import producer_of  # noqa: F401  (part of this module's API)
from marketplace.core.scope import scope_of
from marketplace.core.uploads import MAX_UPLOAD_BYTES, clean_image
from marketplace.core.validators import validate_ggn
from marketplace.models import Certificate, ProducerProfile
from marketplace.search import indexing

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

OCOP_STARS = (3, 4, 5)
OCOP_MAX_MONTHS = 36  # an OCOP recognition is valid for 36 months
VIETGAP_MAX_MONTHS = 24  # VietGAP (TCVN 11892-1:2017): at most 2 years
MAX_SCAN_BYTES = MAX_UPLOAD_BYTES  # 10 MB, for PDFs and photos alike
PDF_MAGIC = b"%PDF-"
EXPIRING_SOON_DAYS = 30


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def _date(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


# --- Who may do what --------------------------------------------------------------------


def is_owner(user, certificate: Certificate) -> bool:
    if not user.is_authenticated:
        return False
    return certificate.producer.partner.users.filter(pk=user.pk).exists()


def can_verify(user, certificate: Certificate) -> bool:
    """The operator always; Farmers' Association staff (a commune branch or a provincial
    association) for producers in their scope; post-office staff, farmers and buyers never."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    scope = scope_of(user)
    return scope.is_association and scope.allows(certificate.producer)


def can_view(user, certificate: Certificate, *, today=None) -> bool:
    """Everyone sees an active certificate; one that is not (pending, rejected, expired)
    only its producer, the operator and the association staff who may verify it."""
    if certificate.shows_badge(on=today):
        return True
    if not user.is_authenticated:
        return False
    return user.is_superuser or is_owner(user, certificate) or can_verify(user, certificate)


# --- Submission -------------------------------------------------------------------------


def clean_scan(upload) -> ContentFile:
    """A scanned certificate: a PDF (by its content, at most 10 MB) or a photo (re-encoded
    by clean_image). Stored under a server-generated name; anything else is refused."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_SCAN_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_SCAN_BYTES // 2**20},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read(MAX_SCAN_BYTES + 1)
    if len(data) > MAX_SCAN_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_SCAN_BYTES // 2**20},
            code="too_large",
        )
    if data.startswith(PDF_MAGIC):
        return ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")
    name = (getattr(upload, "name", "") or "").lower()
    content_type = (getattr(upload, "content_type", "") or "").lower()
    if name.endswith(".pdf") or content_type == "application/pdf":
        raise ValidationError(
            _("This file is not a valid PDF document. Please upload the PDF again, or a photo."),
            code="pdf_invalid",
        )
    try:
        return clean_image(ContentFile(data, name=name or "scan"))
    except ValidationError as exc:
        if exc.code in ("format", "invalid"):
            raise ValidationError(
                _(
                    "This file is neither a PDF nor a photo we can read. "
                    "Please upload a PDF, JPEG, PNG or WebP file."
                ),
                code="scan_invalid",
            ) from exc
        raise


def _product_ids(products) -> list[int]:
    ids = []
    for item in products or ():
        pk = getattr(item, "pk", item)
        try:
            ids.append(int(pk))
        except (TypeError, ValueError):
            ids.append(-1)  # not a product: refused below as "not of this producer"
    return sorted(set(ids))


def _validate(
    *, producer, kind, number, issuer, scope, valid_from, valid_until, ocop_stars, ids
) -> dict[str, list[str]]:
    """Every rule a submission must meet: {field: [messages]}, empty when all is well."""
    errors: dict[str, list[str]] = {}

    def error(field, message):
        errors.setdefault(field, []).append(message)

    for field, value in (("number", number), ("issuer", issuer), ("scope", scope)):
        try:
            MaxLengthValidator(Certificate._meta.get_field(field).max_length)(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)

    if kind not in Certificate.Kind.values:
        error("kind", _("Choose the type of certificate."))
    if not number:
        error("number", _("Enter the certificate number."))
    if not issuer:
        error("issuer", _("Enter who issued the certificate."))
    if not isinstance(valid_from, datetime.date):
        error("valid_from", _("Enter the date the certificate is valid from."))
    if not isinstance(valid_until, datetime.date):
        error("valid_until", _("Enter the date the certificate is valid until."))

    if kind == Certificate.Kind.OCOP:
        if ocop_stars not in OCOP_STARS:
            error("ocop_stars", _("An OCOP certificate has 3, 4 or 5 stars."))
    elif ocop_stars not in (None, ""):
        error("ocop_stars", _("Only OCOP certificates have stars."))

    if kind == Certificate.Kind.GLOBALGAP and number:
        try:
            validate_ggn(number)
        except ValidationError as exc:
            errors.setdefault("number", []).extend(str(m) for m in exc.messages)

    dates_given = isinstance(valid_from, datetime.date) and isinstance(valid_until, datetime.date)
    if dates_given:
        if valid_until <= valid_from:
            error("valid_until", _("The end of validity must be after its start."))
        elif kind == Certificate.Kind.OCOP and valid_until > add_months(
            valid_from, OCOP_MAX_MONTHS
        ):
            error("valid_until", _("An OCOP certificate is valid for at most 36 months."))
        elif kind == Certificate.Kind.VIETGAP and valid_until > add_months(
            valid_from, VIETGAP_MAX_MONTHS
        ):
            error("valid_until", _("A VietGAP certificate is valid for at most 2 years."))
        elif valid_until < timezone.localdate():
            error(
                "valid_until",
                _("This certificate expired on %(date)s; only a valid one can be submitted.")
                % {"date": _date(valid_until)},
            )

    if ids:
        own = set(
            StockRecord.objects.filter(partner_id=producer.partner_id, product_id__in=ids)
            .values_list("product_id", flat=True)
            .distinct()
        )
        if own != set(ids):
            error("products", _("Choose only products of your own shop."))

    if number and kind in Certificate.Kind.values:
        duplicate = Certificate.objects.filter(producer=producer, kind=kind, number=number)
        if duplicate.exists():
            error(
                "number",
                _("You have already submitted a %(kind)s certificate with number %(number)s.")
                % {"kind": Certificate.Kind(kind).label, "number": number},
            )
    return errors


@transaction.atomic
def submit_certificate(
    *,
    producer: ProducerProfile,
    submitted_by,
    kind: str,
    number: str,
    issuer: str,
    scope: str = "",
    valid_from: datetime.date,
    valid_until: datetime.date,
    ocop_stars: int | None = None,
    products=(),
    scan=None,
) -> Certificate:
    """Record a producer's certificate, waiting for verification. Raises ValidationError
    (a dict keyed by form field) when anything is wrong; then nothing is saved."""
    number = (number or "").strip()
    issuer = (issuer or "").strip()
    scope = (scope or "").strip()
    if kind == Certificate.Kind.GLOBALGAP:
        number = number.replace(" ", "")
    if ocop_stars in ("", None):
        ocop_stars = None
    else:
        try:
            ocop_stars = int(ocop_stars)
        except (TypeError, ValueError):
            ocop_stars = -1  # refused with the stars message
    ids = _product_ids(products)
    errors = _validate(
        producer=producer,
        kind=kind,
        number=number,
        issuer=issuer,
        scope=scope,
        valid_from=valid_from,
        valid_until=valid_until,
        ocop_stars=ocop_stars,
        ids=ids,
    )
    stored_scan = None
    if scan:
        try:
            stored_scan = clean_scan(scan)
        except ValidationError as exc:
            errors["scan"] = exc.messages
    if errors:
        raise ValidationError(errors)

    certificate = Certificate(
        producer=producer,
        kind=kind,
        number=number,
        issuer=issuer,
        scope=scope,
        valid_from=valid_from,
        valid_until=valid_until,
        ocop_stars=ocop_stars if kind == Certificate.Kind.OCOP else None,
        status=Certificate.Status.PENDING,
        submitted_by=submitted_by if getattr(submitted_by, "pk", None) else None,
    )
    if stored_scan is not None:
        certificate.scan = stored_scan
    try:
        with transaction.atomic():
            certificate.save()
    except IntegrityError as exc:
        # Two submissions of the same number at once: the unique constraint decides.
        if certificate.scan:
            certificate.scan.delete(save=False)
        raise ValidationError(
            {
                "number": _(
                    "You have already submitted a %(kind)s certificate with number %(number)s."
                )
                % {"kind": Certificate.Kind(kind).label, "number": number}
            }
        ) from exc
    if ids:
        certificate.products.set(ids)
    return certificate


# --- Verification -----------------------------------------------------------------------


def _locked(certificate: Certificate) -> Certificate:
    return (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("producer")
        .get(pk=certificate.pk)
    )


@transaction.atomic
def verify_certificate(*, certificate: Certificate, by) -> Certificate:
    """PENDING → VERIFIED, by the operator or association staff in scope."""
    if not can_verify(by, certificate):
        raise PermissionDenied
    locked = _locked(certificate)
    if locked.status != Certificate.Status.PENDING:
        raise ValidationError(
            _(
                "Only a certificate waiting for verification can be verified "
                "(this one is: %(status)s)."
            )
            % {"status": locked.get_status_display()},
            code="not_pending",
        )
    if locked.valid_until < timezone.localdate():
        raise ValidationError(
            _("This certificate expired on %(date)s; it cannot be verified.")
            % {"date": _date(locked.valid_until)},
            code="expired",
        )
    locked.status = Certificate.Status.VERIFIED
    locked.status_reason = ""
    locked.verified_by = by
    locked.verified_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "verified_by", "verified_at", "updated"])
    return locked


@transaction.atomic
def reject_certificate(*, certificate: Certificate, by, reason: str) -> Certificate:
    """PENDING or VERIFIED → REJECTED, with the reason the producer will read."""
    if not can_verify(by, certificate):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Please tell the producer why the certificate is rejected.")}
        )
    locked = _locked(certificate)
    if locked.status not in (Certificate.Status.PENDING, Certificate.Status.VERIFIED):
        raise ValidationError(
            _("This certificate can no longer be rejected (it is: %(status)s).")
            % {"status": locked.get_status_display()},
            code="not_rejectable",
        )
    locked.status = Certificate.Status.REJECTED
    locked.status_reason = reason
    locked.save(update_fields=["status", "status_reason", "updated"])
    return locked


# --- Expiry -----------------------------------------------------------------------------


def affected_product_ids(certificate_ids) -> set[int]:
    """Products whose badges these certificates give: those they name, or every product
    of the producer when a certificate names none."""
    certificate_ids = list(certificate_ids)
    through = Certificate.products.through
    named = set(
        through.objects.filter(certificate_id__in=certificate_ids).values_list(
            "product_id", flat=True
        )
    )
    covering_all = Certificate.objects.filter(pk__in=certificate_ids, products__isnull=True)
    whole_shop = set(
        StockRecord.objects.filter(
            partner__producer_profile__in=covering_all.values("producer_id")
        ).values_list("product_id", flat=True)
    )
    return named | whole_shop


@transaction.atomic
def expire_certificates(*, today: datetime.date | None = None) -> int:
    """Mark VERIFIED certificates whose validity ended before `today` as EXPIRED and take
    their badges off the search rows. Idempotent: a second run finds nothing to do."""
    today = today or timezone.localdate()
    due = Certificate.objects.filter(status=Certificate.Status.VERIFIED, valid_until__lt=today)
    ids = list(due.select_for_update().values_list("pk", flat=True))
    if not ids:
        return 0
    count = Certificate.objects.filter(pk__in=ids, status=Certificate.Status.VERIFIED).update(
        status=Certificate.Status.EXPIRED, updated=timezone.now()
    )
    indexing.index_products(affected_product_ids(ids))
    return count


# --- Reads used by the views and the template tag -----------------------------------------


def expiring_soon(*, today=None, days: int = EXPIRING_SOON_DAYS):
    """Verified certificates whose validity ends within the next `days` days, soonest first."""
    today = today or timezone.localdate()
    return (
        Certificate.objects.filter(
            status=Certificate.Status.VERIFIED,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=days),
        )
        .select_related("producer__partner")
        .order_by("valid_until", "pk")
    )
