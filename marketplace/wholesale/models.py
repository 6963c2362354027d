from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY


class PriceBreak(models.Model):
    """A producer's wholesale price for a product: from `min_quantity` (in the product's
    unit) a business buyer pays `price` a unit (marketplace.wholesale.pricing.unit_price)."""

    product = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="price_breaks",
        verbose_name=_("Product"),
    )
    min_quantity = models.PositiveIntegerField(_("From quantity"))
    price = models.DecimalField(_("Unit price"), **MONEY)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Wholesale price")
        verbose_name_plural = _("Wholesale prices")
        ordering = ["product_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "min_quantity"], name="one_price_break_per_quantity"
            ),
            models.CheckConstraint(
                condition=models.Q(min_quantity__gte=2), name="price_break_from_two"
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="price_break_positive"),
        ]

    def __str__(self):
        return f"{self.product_id} ≥{self.min_quantity}: {self.price}"


class BusinessBuyer(models.Model):
    """A buyer registered as a business, with the details for its VAT invoices; wholesale
    prices apply once the operator approves it."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("Shop")
        RESTAURANT = "restaurant", _("Restaurant")
        COOPERATIVE = "cooperative", _("Cooperative")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="business",
        verbose_name=_("User"),
    )
    kind = models.CharField(_("Type of business"), max_length=12, choices=Kind.choices)
    company_name = models.CharField(_("Company name"), max_length=200)
    tax_code = models.CharField(_("Tax code (MST)"), max_length=14, db_index=True)
    address = models.CharField(_("Address on the invoice"), max_length=255)
    invoice_email = models.EmailField(_("E-mail for invoices"))
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reason = models.CharField(_("Reason for the rejection"), max_length=255, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Business buyer")
        verbose_name_plural = _("Business buyers")
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.company_name} ({self.tax_code})"


class OrderInvoice(models.Model):
    """The VAT invoice details of an order placed by an approved business buyer, as they
    were when the order was placed."""

    order = models.OneToOneField(
        "order.Order", on_delete=models.CASCADE, related_name="invoice", verbose_name=_("Order")
    )
    company_name = models.CharField(_("Company name"), max_length=200)
    tax_code = models.CharField(_("Tax code (MST)"), max_length=14)
    address = models.CharField(_("Address on the invoice"), max_length=255)
    email = models.EmailField(_("E-mail for invoices"))

    class Meta:
        verbose_name = _("VAT invoice details")
        verbose_name_plural = _("VAT invoice details")

    def __str__(self):
        return f"{self.order_id}: {self.tax_code}"
