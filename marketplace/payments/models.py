from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY


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
    """Money given back to a buyer, never more than was paid: a card refund asked of
    Stripe, or a bank transfer back (VietQR and collected cash on delivery) that stays
    pending until the operator records the transfer made (account, reference, who, when).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        CARD = "card", _("To the card, through Stripe")
        TRANSFER = "transfer", _("By bank transfer to the buyer")

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
    method = models.CharField(
        _("Method"), max_length=10, choices=Method.choices, default=Method.CARD
    )
    parcel = models.ForeignKey(
        "marketplace.Parcel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("Parcel"),
    )
    # A refund of goods the producer delivered (chosen by the operator): once made, the
    # producer's sale is reduced by it (marketplace.finance.settlements.charge_refund).
    # Refunds of cancelled or returned parcels are not: those were never sold.
    charges_producer = models.BooleanField(_("Charged to the producer"), default=False)
    # The transfer back, recorded by the operator once made.
    bank_bin = models.CharField(_("Bank"), max_length=6, blank=True)
    account_number = models.CharField(_("Account number"), max_length=19, blank=True)
    account_name = models.CharField(_("Account holder"), max_length=70, blank=True)
    bank_reference = models.CharField(_("Bank reference"), max_length=100, blank=True)
    executed_at = models.DateTimeField(_("Transferred at"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Transferred by"),
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
