from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    # Decree 117/2025/NĐ-CP: tax withheld on sales by households and individuals.
    withholding_vat_percent = models.DecimalField(
        _("VAT withheld from households (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "Withheld on the goods sold by household businesses and individuals "
            "(Decree 117/2025/NĐ-CP); cooperatives and enterprises declare their own tax."
        ),
    )
    withholding_pit_percent = models.DecimalField(
        _("Personal income tax withheld from households (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "Withheld on the goods sold by household businesses and individuals "
            "(Decree 117/2025/NĐ-CP)."
        ),
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

    @classmethod
    def load_for(cls, basket) -> "MarketplaceSettings":
        """`load`, read once for a basket object (the basket middleware loads it once a
        request): the checkout's delivery quote (free-delivery threshold) and payment step
        (cash-on-delivery limit, bank account) read the same row."""
        row = getattr(basket, "_marketplace_settings", None)
        if row is None:
            row = basket._marketplace_settings = cls.load()
        return row
