from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core.places import Place
from marketplace.core.validators import validate_gln


class ProducerProfile(Place):
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
    address_line = models.CharField(_("Street / hamlet"), max_length=255, blank=True)
    story = models.TextField(_("Story"), blank=True)
    # Where the producer is in EPCIS exports (traceability.epcis.producer_location).
    gln = models.CharField(
        _("GLN (GS1 location number)"),
        max_length=13,
        blank=True,
        validators=[validate_gln],
        help_text=_("13 digits, issued by GS1 Vietnam. Leave empty if the producer has none."),
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Producer profile")
        verbose_name_plural = _("Producer profiles")

    def __str__(self):
        return str(self.partner)


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
