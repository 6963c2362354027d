from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import geo


class ProducerProfile(models.Model):
    """What a buyer learns about a producer (an Oscar Partner): who, what kind, where."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("Farm household")
        COOPERATIVE = "cooperative", _("Cooperative")
        ENTERPRISE = "enterprise", _("Enterprise")

    partner = models.OneToOneField(
        "partner.Partner",
        on_delete=models.CASCADE,
        related_name="producer_profile",
        verbose_name=_("Producer"),
    )
    slug = models.SlugField(_("Address of the shop page"), max_length=120, unique=True)
    kind = models.CharField(_("Type"), max_length=20, choices=Kind.choices)
    province_code = models.PositiveIntegerField(_("Province"), db_index=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"))
    address_line = models.CharField(_("Street / hamlet"), max_length=255, blank=True)
    story = models.TextField(_("Story"), blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Producer profile")
        verbose_name_plural = _("Producer profiles")

    def __str__(self):
        return str(self.partner)

    def clean(self):
        if not geo.is_valid_province(self.province_code):
            raise ValidationError({"province_code": _("Unknown province.")})
        if not geo.commune_in_province(self.commune_code, self.province_code):
            raise ValidationError(
                {"commune_code": _("This commune is not in the selected province.")}
            )

    @property
    def province_name(self) -> str:
        return geo.province_name(self.province_code)

    @property
    def commune_name(self) -> str:
        return geo.commune_name(self.commune_code)

    @property
    def location(self) -> str:
        return ", ".join(p for p in (self.commune_name, self.province_name) if p)


class ProducerPhoto(models.Model):
    producer = models.ForeignKey(
        ProducerProfile, on_delete=models.CASCADE, related_name="photos", verbose_name=_("Producer")
    )
    image = models.ImageField(_("Photo"), upload_to="producers/%Y/%m/")
    caption = models.CharField(_("Caption"), max_length=200, blank=True)
    display_order = models.PositiveIntegerField(_("Order"), default=0)

    class Meta:
        ordering = ["display_order", "pk"]
        verbose_name = _("Producer photo")
        verbose_name_plural = _("Producer photos")

    def __str__(self):
        return self.caption or self.image.name


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
        ProducerProfile,
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
    scan = models.FileField(_("Scanned certificate"), upload_to="certificates/%Y/%m/", blank=True)
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


class ProductListing(models.Model):
    """Who listed a product for which producer, and whether the operator has approved it.
    Buyers see a product only while its listing is approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn (recall)")

    product = models.OneToOneField(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="listing",
        verbose_name=_("Product"),
    )
    producer = models.ForeignKey(
        ProducerProfile,
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name=_("Producer"),
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    status_reason = models.TextField(_("Reason"), blank=True)
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Listed by"),
    )
    listed_by_staff = models.BooleanField(_("Listed by staff"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("Reviewed at"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Listing")
        verbose_name_plural = _("Listings")
        indexes = [models.Index(fields=["status", "updated"])]

    def __str__(self):
        return f"{self.product} ({self.get_status_display()})"


class MarketplaceSettings(models.Model):
    """Operator-controlled switches (a single row)."""

    require_listing_approval = models.BooleanField(
        _("New or changed products wait for operator approval"), default=True
    )
    free_shipping_threshold = models.PositiveIntegerField(
        _("Free delivery from (đồng)"),
        null=True,
        blank=True,
        help_text=_("Baskets worth at least this much are delivered free. Empty: never."),
    )
    cod_max_amount = models.PositiveIntegerField(
        _("Cash on delivery up to (đồng)"),
        null=True,
        blank=True,
        help_text=_("Orders above this amount cannot be paid on delivery. Empty: no limit."),
    )
    bank_bin = models.CharField(
        _("Bank (BIN)"),
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^\d{6}$", _("A bank BIN has 6 digits."))],
        help_text=_("The 6-digit NAPAS code of the marketplace's bank, e.g. 970436."),
    )
    bank_name = models.CharField(_("Bank name"), max_length=100, blank=True)
    bank_account_number = models.CharField(
        _("Account number"),
        max_length=19,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]{1,19}$", _("Letters and digits only."))],
    )
    bank_account_name = models.CharField(_("Account holder"), max_length=100, blank=True)
    commission_percent = models.DecimalField(
        _("Marketplace commission (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Kept from the cash collected on delivery before it is paid to the farmer."),
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Marketplace settings")
        verbose_name_plural = _("Marketplace settings")

    def __str__(self):
        return str(self._meta.verbose_name)

    @property
    def vietqr_ready(self) -> bool:
        return bool(self.bank_bin and self.bank_account_number and self.bank_account_name)

    @classmethod
    def load(cls) -> "MarketplaceSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class SearchEntry(models.Model):
    """One row per product a buyer may see: folded text for diacritic-insensitive search
    and the facet values, kept in sync by marketplace.indexing. Listing pages read only
    this table (plus the product row and its producer), so their query count is constant."""

    product = models.OneToOneField(
        "catalogue.Product",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_entry",
    )
    title_folded = models.CharField(max_length=255)
    text_folded = models.TextField()
    producer = models.ForeignKey(
        ProducerProfile, on_delete=models.CASCADE, null=True, related_name="+"
    )
    province_code = models.PositiveIntegerField(null=True, db_index=True)
    price = models.DecimalField(max_digits=14, decimal_places=0, null=True, db_index=True)
    in_stock = models.BooleanField(default=False)
    ocop_stars = models.PositiveSmallIntegerField(null=True)
    has_ocop = models.BooleanField(default=False)
    has_vietgap = models.BooleanField(default=False)
    has_globalgap = models.BooleanField(default=False)
    has_organic = models.BooleanField(default=False)
    badges = models.JSONField(default=list)  # [{"kind": "ocop", "label": "OCOP 4★", "id": 3}]
    thumbnail_url = models.CharField(max_length=500, blank=True)
    date_created = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["province_code", "price"])]

    def __str__(self):
        return self.title_folded


# --- Orders: parcels, cash on delivery, payments (checkout issue) ---------------------------

MONEY = {"max_digits": 14, "decimal_places": 0}


class Remittance(models.Model):
    """Cash collected on delivery for one producer's parcels, less the commission, paid
    out to the producer. Created from the parcels it covers; paid once, by whom and when."""

    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        related_name="remittances",
        verbose_name=_("Producer"),
    )
    collected = models.DecimalField(_("Collected on delivery"), **MONEY)
    commission_percent = models.DecimalField(_("Commission (%)"), max_digits=5, decimal_places=2)
    commission = models.DecimalField(_("Commission"), **MONEY)
    amount = models.DecimalField(_("Amount owed"), **MONEY)
    created = models.DateTimeField(_("Created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Created by"),
    )
    paid_at = models.DateTimeField(_("Paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Paid by"),
    )
    reference = models.CharField(_("Transfer reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("COD remittance")
        verbose_name_plural = _("COD remittances")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.partner} {self.amount}"


class Parcel(models.Model):
    """One producer's part of an order, shipped by Vietnam Post as one parcel."""

    class Status(models.TextChoices):
        NEW = "new", _("Awaiting packing")
        PACKED = "packed", _("Packed, awaiting pickup")
        PICKED_UP = "picked_up", _("Picked up by the post office")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, related_name="parcels", verbose_name=_("Order")
    )
    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        related_name="parcels",
        verbose_name=_("Producer"),
    )
    status = models.CharField(
        _("Status"), max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    weight_grams = models.PositiveIntegerField(_("Weight (g)"), default=0)
    goods_total = models.DecimalField(_("Goods"), **MONEY)
    shipping_charge = models.DecimalField(_("Delivery"), **MONEY)
    # What the post office collects from the buyer (goods + delivery) when paid on
    # delivery; 0 when paid in advance.
    cod_amount = models.DecimalField(_("To collect on delivery"), default=0, **MONEY)
    tracking_number = models.CharField(
        _("Tracking number"), max_length=20, blank=True, db_index=True
    )
    packed_at = models.DateTimeField(_("Packed at"), null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    picked_up_at = models.DateTimeField(_("Picked up at"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    delivered_at = models.DateTimeField(_("Delivered at"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cod_collected = models.DecimalField(_("Collected on delivery"), null=True, blank=True, **MONEY)
    cod_collected_at = models.DateTimeField(_("Collected at"), null=True, blank=True)
    cod_collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    remittance = models.ForeignKey(
        Remittance,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("Remittance"),
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Parcel")
        verbose_name_plural = _("Parcels")
        ordering = ["order_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "partner"], name="one_parcel_per_producer"),
            # Two counters typing the same number at once: the database keeps one.
            models.UniqueConstraint(
                fields=["tracking_number"],
                condition=~models.Q(tracking_number="") & ~models.Q(status="cancelled"),
                name="one_active_parcel_per_tracking_number",
            ),
        ]

    def __str__(self):
        return f"{self.order.number}/{self.partner_id}"

    @property
    def payment(self):
        """What this parcel's payment state is: marketplace.payments.state.parcel_payment."""
        from .payments.state import parcel_payment

        return parcel_payment(self)


class StripeEvent(models.Model):
    """Each Stripe webhook event, recorded once by its id (duplicates are ignored)."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    created = models.DateTimeField(help_text="Stripe's creation time of the event")
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self):
        return f"{self.type} {self.event_id}"


class Refund(models.Model):
    """A card refund asked of Stripe by the operator (never more than was paid)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("Order")
    )
    source = models.ForeignKey("payment.Source", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("Amount"), **MONEY)
    reason = models.CharField(_("Reason"), max_length=255, blank=True)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created = models.DateTimeField(_("Created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Created by"),
    )

    class Meta:
        verbose_name = _("Refund")
        verbose_name_plural = _("Refunds")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.order_id} −{self.amount}"


class BankTransfer(models.Model):
    """A bank transfer received for an order: marked by staff, or matched from a bank
    statement line (whose transaction id is recorded once, so re-importing pays nothing
    twice)."""

    order = models.ForeignKey(
        "order.Order",
        on_delete=models.PROTECT,
        related_name="bank_transfers",
        verbose_name=_("Order"),
    )
    amount = models.DecimalField(_("Amount"), **MONEY)
    transaction_id = models.CharField(
        _("Bank transaction"), max_length=100, unique=True, null=True, blank=True
    )
    description = models.CharField(_("Description"), max_length=500, blank=True)
    received_on = models.DateField(_("Received on"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("Recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Recorded by"),
    )

    class Meta:
        verbose_name = _("Bank transfer")
        verbose_name_plural = _("Bank transfers")
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.order_id} +{self.amount}"


class Notification(models.Model):
    """A message sent to a buyer about an order, recorded so it is sent once."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        SHIPPED = "shipped", _("Parcel shipped")
        DELIVERED = "delivered", _("Parcel delivered")

    order = models.ForeignKey("order.Order", on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=10)  # "email" or "sms"
    recipient = models.CharField(max_length=254)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "channel"],
                condition=models.Q(parcel__isnull=True),
                name="order_notification_once",
            ),
            models.UniqueConstraint(
                fields=["order", "parcel", "kind", "channel"],
                condition=models.Q(parcel__isnull=False),
                name="parcel_notification_once",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.channel} {self.recipient}"
