from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
        "marketplace.ProducerProfile",
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


class SearchEntry(models.Model):
    """One row per product a buyer may see: folded text for diacritic-insensitive search
    and the facet values, kept in sync by marketplace.search.indexing. Listing pages read only
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
        "marketplace.ProducerProfile", on_delete=models.CASCADE, null=True, related_name="+"
    )
    province_code = models.PositiveIntegerField(null=True, db_index=True)
    # The product's categories for the category facet, read without joining the
    # catalogue's product-category links: the lowest category id, and the others (a JSON
    # list) only when it has several; a product's every category is in exactly one of them.
    category_pk = models.PositiveIntegerField(null=True)
    more_category_pks = models.JSONField(null=True)
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


class SaleBatch(models.Model):
    """A quantity of a product put on sale from one batch of goods (a lot of
    traceability, known here only by its opaque `source_id` and `label`): orders take
    from the batch that expires first (marketplace.catalogue.batches). A stock record with
    a batch is sold from batches only: what may be ordered is what its batches still hold.
    """

    stockrecord = models.ForeignKey(
        "partner.StockRecord",
        on_delete=models.CASCADE,
        related_name="sale_batches",
        verbose_name=_("Stock record"),
    )
    source_id = models.PositiveBigIntegerField(_("Source"))
    label = models.CharField(_("Lot code"), max_length=64)
    expires_on = models.DateField(_("Expiry date"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("Quantity put on sale"))
    # What order lines hold of it (reserved or gone with their parcel), net of what came
    # back: the sum of its allocations' quantity - released.
    taken = models.PositiveIntegerField(_("Quantity sold"), default=0)
    withdrawn_at = models.DateTimeField(_("Withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("Why it was withdrawn"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Lot on sale")
        verbose_name_plural = _("Lots on sale")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(taken__lte=models.F("quantity")),
                name="salebatch_taken_within_quantity",
            ),
            models.UniqueConstraint(
                fields=["source_id"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="salebatch_one_open_per_source",
            ),
        ]
        indexes = [
            models.Index(
                fields=["stockrecord", "expires_on"],
                name="salebatch_open_fefo",
                condition=models.Q(withdrawn_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.quantity})"

    @property
    def remaining(self) -> int:
        return 0 if self.withdrawn_at is not None else self.quantity - self.taken


class BatchAllocation(models.Model):
    """What one order line took from one batch when it was placed (`quantity`), and how
    much of it came back to the batch (`released`: the line cancelled, its parcel
    returned)."""

    batch = models.ForeignKey(
        SaleBatch, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("Lot")
    )
    line = models.ForeignKey(
        "order.Line",
        on_delete=models.CASCADE,
        related_name="batch_allocations",
        verbose_name=_("Line"),
    )
    quantity = models.PositiveIntegerField(_("Quantity"))
    released = models.PositiveIntegerField(_("Released"), default=0)

    class Meta:
        verbose_name = _("Lot of an order line")
        verbose_name_plural = _("Lots of order lines")
        constraints = [
            models.UniqueConstraint(fields=["line", "batch"], name="batchallocation_once"),
            models.CheckConstraint(
                condition=models.Q(released__lte=models.F("quantity")),
                name="batchallocation_released_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.line_id} ← {self.batch_id} ({self.quantity})"
