from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.money import MONEY
from marketplace.core.storage import get_private_storage


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


class CodHandover(models.Model):
    """Cash on delivery a post office hands over to the marketplace: the collected parcels
    of its province not handed over yet, their sum, who handed it over and when; then the
    operator's confirmation that the money arrived (with the bank or receipt reference).
    Each parcel is in at most one handover."""

    province_code = models.PositiveIntegerField(_("Province"), null=True, blank=True)
    office_name = models.CharField(_("Post office"), max_length=200, blank=True)
    amount = models.DecimalField(_("Amount"), **MONEY)
    created = models.DateTimeField(_("Handed over at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Handed over by"),
    )
    received_at = models.DateTimeField(_("Received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Received by"),
    )
    reference = models.CharField(_("Bank or receipt reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Cash handover")
        verbose_name_plural = _("Cash handovers")
        ordering = ["-created", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="handover_positive"),
            models.CheckConstraint(
                condition=models.Q(received_at__isnull=True) | ~models.Q(reference=""),
                name="handover_received_has_reference",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.amount}"


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


# --- The producer settlement ledger (all payment methods) ---------------------------------
# marketplace.finance.settlements writes these rows; they are never changed once written.


class SettlementEntry(models.Model):
    """One append-only row of a producer's settlement ledger, with its source: a delivered
    parcel (a sale, less commission and tax withheld), an adjustment (refund, return fee,
    shipping, correction) or a payout. ``amount`` is the row's effect on the balance."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Delivered sale")
        REFUND = "refund", _("Refund")
        RETURN = "return", _("Return shipping")
        SHIPPING = "shipping", _("Shipping adjustment")
        CORRECTION = "correction", _("Correction")
        PAYOUT = "payout", _("Payout")

    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        related_name="settlement_entries",
        verbose_name=_("Producer"),
    )
    kind = models.CharField(_("Type"), max_length=12, choices=Kind.choices)
    booked_on = models.DateField(_("Date"), db_index=True)
    parcel = models.OneToOneField(
        "marketplace.Parcel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_entry",
        verbose_name=_("Parcel"),
    )
    payout = models.OneToOneField(
        "marketplace.Payout",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entry",
        verbose_name=_("Payout"),
    )
    refund = models.OneToOneField(
        "marketplace.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_entry",
        verbose_name=_("Refund"),
    )
    sales = models.DecimalField(_("Sales"), default=0, **MONEY)
    commission_percent = models.DecimalField(
        _("Commission (%)"), max_digits=5, decimal_places=2, default=0
    )
    commission = models.DecimalField(_("Commission"), default=0, **MONEY)
    vat_percent = models.DecimalField(_("VAT (%)"), max_digits=5, decimal_places=2, default=0)
    vat = models.DecimalField(_("VAT withheld"), default=0, **MONEY)
    pit_percent = models.DecimalField(
        _("Personal income tax (%)"), max_digits=5, decimal_places=2, default=0
    )
    pit = models.DecimalField(_("Personal income tax withheld"), default=0, **MONEY)
    adjustment = models.DecimalField(_("Adjustment"), default=0, **MONEY)
    paid_out = models.DecimalField(_("Paid out"), default=0, **MONEY)
    amount = models.DecimalField(_("Effect on the balance"), **MONEY)
    reference = models.CharField(_("Reference"), max_length=100, blank=True)
    created = models.DateTimeField(_("Recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Recorded by"),
    )

    class Meta:
        verbose_name = _("Settlement entry")
        verbose_name_plural = _("Settlement entries")
        ordering = ["booked_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="sale") | models.Q(parcel__isnull=False),
                name="settlement_sale_has_parcel",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="payout") | models.Q(payout__isnull=False),
                name="settlement_payout_has_payout",
            ),
        ]

    def __str__(self):
        return f"{self.partner_id} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A settlement entry is never changed: post an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A settlement entry is never deleted: post an adjustment instead.")

    @property
    def tax(self):
        return self.vat + self.pit


class ProducerBalance(models.Model):
    """What the marketplace owes a producer now (the sum of its ledger entries), kept on
    one row that every ledger write locks first: two payout batches, or a payout and a
    late refund, are serialised on it."""

    partner = models.OneToOneField(
        "partner.Partner",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="settlement_balance",
        verbose_name=_("Producer"),
    )
    balance = models.DecimalField(_("Balance"), default=0, **MONEY)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Producer balance")
        verbose_name_plural = _("Producer balances")

    def __str__(self):
        return f"{self.partner_id} {self.balance}"


class PayoutBatch(models.Model):
    """Payouts the operator prepared at once (one payout file)."""

    created = models.DateTimeField(_("Created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Created by"),
    )

    class Meta:
        verbose_name = _("Payout batch")
        verbose_name_plural = _("Payout batches")
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"#{self.pk}"


class Payout(models.Model):
    """A transfer to one producer's bank account, of its balance when the batch was made
    (taken from the balance then); marked paid once, with the bank's reference."""

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, related_name="payouts", verbose_name=_("Batch")
    )
    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("Producer"),
    )
    amount = models.DecimalField(_("Amount"), **MONEY)
    bank_bin = models.CharField(_("Bank"), max_length=6)
    bank_account = models.CharField(_("Account number"), max_length=19)
    bank_holder = models.CharField(_("Account holder"), max_length=120)
    paid_at = models.DateTimeField(_("Paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Paid by"),
    )
    reference = models.CharField(_("Bank reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Payout")
        verbose_name_plural = _("Payouts")
        ordering = ["batch_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_positive"),
            models.CheckConstraint(
                condition=models.Q(paid_at__isnull=True) | ~models.Q(reference=""),
                name="payout_paid_has_reference",
            ),
        ]

    def __str__(self):
        return f"{self.partner_id} {self.amount}"


class ProducerBankAccount(models.Model):
    """The bank account a producer that is not an association member is paid into (a
    member's own account, kept by farmers, comes first: marketplace.core.payees)."""

    partner = models.OneToOneField(
        "partner.Partner",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="bank_account",
        verbose_name=_("Producer"),
    )
    bank_bin = models.CharField(
        _("Bank"),
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("A bank BIN has 6 digits."))],
    )
    number = models.CharField(
        _("Account number"),
        max_length=19,
        validators=[RegexValidator(r"^[0-9A-Za-z]{1,19}$", _("Letters and digits only."))],
    )
    holder = models.CharField(_("Account holder"), max_length=120)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Producer bank account")
        verbose_name_plural = _("Producer bank accounts")

    def __str__(self):
        return f"{self.partner_id} {self.bank_bin} {self.number}"


class StatementImport(models.Model):
    """A bank statement uploaded by the operator, applied by a Celery worker
    (marketplace.tasks.run_statement_import → transfers.run_statement_import) as a job of
    marketplace.core.jobs: taken up once, with a heartbeat, resumed or failed with the true
    reason when its worker dies. Safe to run again: a line already recorded is not applied
    twice (BankTransfer.transaction_id)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being applied")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # Private storage: a statement names buyers and their payments.
    file = models.FileField(
        _("Bank statement"), upload_to="statements/%Y/%m/", storage=get_private_storage
    )
    file_name = models.CharField(_("File name"), max_length=255, blank=True)
    status = models.CharField(
        _("Status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    lines_total = models.PositiveIntegerField(_("Lines to apply"), default=0)
    lines_done = models.PositiveIntegerField(_("Lines done"), default=0)
    report = models.JSONField(_("Report"), default=dict, blank=True)
    error = models.TextField(_("Error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Uploaded by"),
    )
    created_at = models.DateTimeField(_("Uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(_("Finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Bank statement import")
        verbose_name_plural = _("Bank statement imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.file_name or f"#{self.pk}"
