from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.core.storage import get_private_storage


class CertificateQuerySet(models.QuerySet):
    def badges(self, *, on=None, product=None):
        """THE badge rule, as a query (Certificate.shows_badge is the same rule for one
        row): verified, valid on `on` (today by default) and, when `product` is given,
        covering it (naming it, or naming no product at all). Filter by producer as well
        where the product is not known to be the producer's."""
        on = on or timezone.localdate()
        rows = self.filter(
            status=Certificate.Status.VERIFIED, valid_from__lte=on, valid_until__gte=on
        )
        if product is not None:
            rows = rows.filter(
                models.Q(products=product) | models.Q(products__isnull=True)
            ).distinct()
        return rows


class Certificate(models.Model):
    """A producer's certificate (OCOP, VietGAP, GlobalGAP, organic). It earns a badge only
    once verified, and only while valid."""

    class Kind(models.TextChoices):
        OCOP = "ocop", "OCOP"
        VIETGAP = "vietgap", "VietGAP"
        GLOBALGAP = "globalgap", "GlobalGAP"
        ORGANIC = "organic", _("Organic")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    producer = models.ForeignKey(
        "marketplace.ProducerProfile",
        on_delete=models.CASCADE,
        related_name="certificates",
        verbose_name=_("Producer"),
    )
    products = models.ManyToManyField(
        "catalogue.Product",
        blank=True,
        related_name="certificates",
        verbose_name=_("Products covered"),
        help_text=_("Leave empty if the certificate covers all of the producer's products."),
    )
    kind = models.CharField(_("Certificate"), max_length=20, choices=Kind.choices)
    ocop_stars = models.PositiveSmallIntegerField(_("OCOP stars"), null=True, blank=True)
    number = models.CharField(_("Certificate number"), max_length=64)
    issuer = models.CharField(_("Issued by"), max_length=200)
    scope = models.CharField(_("Scope"), max_length=255, blank=True)
    valid_from = models.DateField(_("Valid from"))
    valid_until = models.DateField(_("Valid until"))
    # Private until and after verification: read only through the certificate's checked
    # view (marketplace.certificates.views.certificate_scan), never from public media.
    scan = models.FileField(
        _("Scanned certificate"),
        upload_to="certificates/%Y/%m/",
        storage=get_private_storage,
        blank=True,
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    status_reason = models.TextField(_("Reason"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Submitted by"),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Verified by"),
    )
    verified_at = models.DateTimeField(_("Verified at"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_until", "pk"]
        verbose_name = _("Certificate")
        verbose_name_plural = _("Certificates")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="ocop",
                        ocop_stars__isnull=False,
                        ocop_stars__gte=3,
                        ocop_stars__lte=5,
                    )
                    | (~models.Q(kind="ocop") & models.Q(ocop_stars__isnull=True))
                ),
                name="certificate_ocop_stars_3_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="certificate_valid_until_after_valid_from",
            ),
            models.UniqueConstraint(
                fields=["kind", "number", "producer"], name="certificate_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def shows_badge(self, *, on=None, product=None) -> bool:
        """THE badge rule for one certificate (CertificateQuerySet.badges is the same rule
        as a query): verified, valid on `on` (today by default) and, when `product` (a
        product or its id) is given, covering it. Reads `products` from the prefetch cache
        when there is one."""
        on = on or timezone.localdate()
        if self.status != self.Status.VERIFIED or not (self.valid_from <= on <= self.valid_until):
            return False
        if product is None:
            return True
        product_id = getattr(product, "pk", product)
        covered = {p.pk for p in self.products.all()}
        return not covered or product_id in covered

    @property
    def badge_label(self) -> str:
        if self.kind == self.Kind.OCOP and self.ocop_stars:
            return f"OCOP {self.ocop_stars}★"
        return self.get_kind_display()
