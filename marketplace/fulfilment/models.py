from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY


class Parcel(models.Model):
    """One producer's part of an order, shipped by Vietnam Post as one parcel."""

    class Status(models.TextChoices):
        NEW = "new", _("Awaiting packing")
        PACKED = "packed", _("Packed, awaiting pickup")
        PICKED_UP = "picked_up", _("Picked up by the post office")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Delivery failed")
        RETURNED = "returned", _("Returned to sender")

    class Role(models.TextChoices):
        BUYER = "buyer", _("the buyer")
        PRODUCER = "producer", _("the producer")
        OPERATOR = "operator", _("the marketplace")

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
    cancelled_at = models.DateTimeField(_("Cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_role = models.CharField(
        _("Cancelled by"), max_length=10, choices=Role.choices, blank=True
    )
    cancel_reason = models.CharField(_("Reason for the cancellation"), max_length=255, blank=True)
    failed_at = models.DateTimeField(_("Delivery failed at"), null=True, blank=True)
    failed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    failure_reason = models.CharField(_("Why the delivery failed"), max_length=255, blank=True)
    returned_at = models.DateTimeField(_("Returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What Vietnam Post charges for bringing a failed parcel back to the producer.
    return_shipping_fee = models.DecimalField(_("Return shipping fee"), default=0, **MONEY)
    remittance = models.ForeignKey(
        "marketplace.Remittance",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("Remittance"),
    )
    # The post office's handover of the cash it collected to the marketplace.
    cod_handover = models.ForeignKey(
        "marketplace.CodHandover",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parcels",
        verbose_name=_("Cash handover"),
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

    # Statuses in which the parcel's goods are still reserved at the producer.
    OPEN_STATUSES = (Status.NEW, Status.PACKED)
    # Statuses in which nothing is delivered nor collected any more.
    CLOSED_STATUSES = (Status.CANCELLED, Status.RETURNED)

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    @property
    def payment(self):
        """What this parcel's payment state is: marketplace.payments.state.parcel_payment."""
        from marketplace.payments.state import parcel_payment

        return parcel_payment(self)


class CancelledLine(models.Model):
    """An order line the producer cannot supply (out of stock, harvest failed), cancelled
    before its parcel was packed; the rest of the parcel goes on. Its reservation is
    released and its amount taken off the parcel (and refunded when it was paid)."""

    line = models.OneToOneField("order.Line", on_delete=models.PROTECT, related_name="cancellation")
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="cancelled_lines")
    quantity = models.PositiveIntegerField(_("Quantity"))
    amount = models.DecimalField(_("Amount"), **MONEY)
    reason = models.CharField(_("Reason for the cancellation"), max_length=255)
    role = models.CharField(_("Cancelled by"), max_length=10, choices=Parcel.Role.choices)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("Cancelled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Cancelled order line")
        verbose_name_plural = _("Cancelled order lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.line_id} ×{self.quantity}"


class Notification(models.Model):
    """A message sent to a buyer about an order, recorded so it is sent once."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        SHIPPED = "shipped", _("Parcel shipped")
        DELIVERED = "delivered", _("Parcel delivered")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Parcel returned to the producer")

    order = models.ForeignKey("order.Order", on_delete=models.CASCADE, related_name="+")
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, null=True, blank=True)
    line = models.ForeignKey(
        "order.Line", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
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
                condition=models.Q(parcel__isnull=False, line__isnull=True),
                name="parcel_notification_once",
            ),
            models.UniqueConstraint(
                fields=["line", "kind", "channel"],
                condition=models.Q(line__isnull=False),
                name="line_notification_once",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.channel} {self.recipient}"


class ProducerNotice(models.Model):
    """A message sent to a producer (a new order to pack, the morning digest) or to a
    post office (the day's parcels to pick up), recorded so that each is sent once per
    channel and recipient: `key` names the message ("parcel:12", "digest:3:2026-12-07",
    "pickup:5:2026-12-07"), and a task run twice finds it already recorded."""

    class Kind(models.TextChoices):
        NEW_ORDER = "new_order", _("New order to pack")
        DIGEST = "digest", _("Morning digest")
        PICKUP = "pickup", _("Parcels to pick up")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=80)
    channel = models.CharField(max_length=10)  # "email", "sms" or "zalo"
    recipient = models.CharField(max_length=254)
    partner = models.ForeignKey(
        "partner.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, null=True, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel", "recipient"], name="producer_notice_once"
            ),
        ]

    def __str__(self):
        return f"{self.key} {self.channel} {self.recipient}"
