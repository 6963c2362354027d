from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core import geo


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
