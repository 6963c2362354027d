"""Pre-orders for the coming harvest ("đặt trước mùa vụ").

A producer opens a ``PreorderWindow`` for a product: the expected harvest window, a
quantity cap, the price, and the share of it the buyer pays in advance as a deposit (0:
everything on delivery). Buyers place a ``Preorder`` each (never beyond the cap); one
with a deposit has a *deposit order* (an Oscar order without lines, paid by VietQR or
card through the ordinary payment flows, so transfers and Stripe's webhook mark it
paid). When the lot is harvested the producer converts the pre-orders into real orders
from that lot in order of placement (marketplace.preorders.services.convert).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY


class PreorderWindow(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open for pre-orders")
        CLOSED = "closed", _("Closed, waiting for the harvest")
        CONVERTED = "converted", _("Harvested: pre-orders converted into orders")

    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        related_name="preorder_windows",
        verbose_name=_("Producer"),
    )
    product = models.ForeignKey(
        "catalogue.Product",
        on_delete=models.PROTECT,
        related_name="preorder_windows",
        verbose_name=_("Product"),
    )
    harvest_from = models.DateField(_("Harvest expected from"))
    harvest_to = models.DateField(_("Harvest expected until"))
    cap = models.PositiveIntegerField(_("Quantity that may be pre-ordered"))
    price = models.DecimalField(_("Price"), **MONEY)
    deposit_percent = models.PositiveSmallIntegerField(_("Deposit (%)"), default=0)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("Opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("Closed at"), null=True, blank=True)
    converted_at = models.DateTimeField(_("Converted at"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The harvested lot the pre-orders were filled from (a lot of traceability, kept by id:
    # marketplace reaches lots only through marketplace.core.lots).
    lot_id = models.PositiveBigIntegerField(_("Lot"), null=True, blank=True)
    lot_code = models.CharField(_("Lot code"), max_length=64, blank=True)
    harvested = models.PositiveIntegerField(_("Quantity harvested for pre-orders"), default=0)

    class Meta:
        verbose_name = _("Pre-order window")
        verbose_name_plural = _("Pre-order windows")
        ordering = ["harvest_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(harvest_to__gte=models.F("harvest_from")),
                name="preorder_window_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(deposit_percent__lte=100), name="preorder_deposit_percent"
            ),
            models.CheckConstraint(condition=models.Q(cap__gt=0), name="preorder_cap_positive"),
        ]

    def __str__(self):
        return f"{self.product_id} {self.harvest_from:%d/%m/%Y}–{self.harvest_to:%d/%m/%Y}"

    @property
    def takes_deposit(self) -> bool:
        return self.deposit_percent > 0


class Preorder(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("Pre-ordered")
        CANCELLED = "cancelled", _("Cancelled")
        CONVERTED = "converted", _("Converted into an order")
        UNFILLED = "unfilled", _("Cancelled: the harvest fell short")

    class Method(models.TextChoices):
        COD = "cod", _("Cash on delivery")
        VIETQR = "vietqr", _("VietQR bank transfer")
        CARD = "stripe", _("Card (Visa, Mastercard, JCB)")

    window = models.ForeignKey(PreorderWindow, on_delete=models.PROTECT, related_name="preorders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="preorders"
    )
    quantity = models.PositiveIntegerField(_("Quantity"))
    price = models.DecimalField(_("Price"), **MONEY)
    deposit = models.DecimalField(_("Deposit"), default=0, **MONEY)
    method = models.CharField(_("Payment"), max_length=10, choices=Method.choices)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PLACED, db_index=True
    )
    address = models.ForeignKey(
        "address.UserAddress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(_("Placed at"), auto_now_add=True)
    # The deposit's own order (no lines): paid by VietQR or card like any order.
    deposit_order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The order it became, for `converted` of the quantity asked.
    order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    converted = models.PositiveIntegerField(_("Quantity delivered"), default=0)
    # What of the deposit paid counts as payment of that order.
    deposit_credited = models.DecimalField(default=0, **MONEY)
    ended_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Pre-order")
        verbose_name_plural = _("Pre-orders")
        ordering = ["placed_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="preorder_quantity"),
            models.CheckConstraint(
                condition=models.Q(converted__lte=models.F("quantity")),
                name="preorder_converted_at_most_asked",
            ),
        ]

    def __str__(self):
        return f"{self.window_id}/{self.pk} ×{self.quantity}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PLACED
