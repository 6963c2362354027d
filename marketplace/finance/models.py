from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY


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
