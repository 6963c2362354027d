from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace import geo


class Organisation(models.Model):
    """A body whose staff bring farmers online: an association branch (commune level),
    a provincial association, or a post office."""

    class Kind(models.TextChoices):
        ASSOCIATION_BRANCH = "branch", _("Farmers' Association branch")
        PROVINCIAL_ASSOCIATION = "province", _("Provincial Farmers' Association")
        POST_OFFICE = "post_office", _("Post office")

    kind = models.CharField(_("Type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("Name"), max_length=200, unique=True)
    province_code = models.PositiveIntegerField(_("Province"), db_index=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("Parent organisation"),
    )

    class Meta:
        verbose_name = _("Organisation")
        verbose_name_plural = _("Organisations")
        ordering = ["province_code", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        if not geo.is_valid_province(self.province_code):
            raise ValidationError({"province_code": _("Unknown province.")})
        if self.commune_code is not None and not geo.commune_in_province(
            self.commune_code, self.province_code
        ):
            raise ValidationError(
                {"commune_code": _("This commune is not in the selected province.")}
            )
        if self.kind == self.Kind.ASSOCIATION_BRANCH and self.commune_code is None:
            raise ValidationError({"commune_code": _("A branch belongs to a commune.")})

    @property
    def province_name(self) -> str:
        return geo.province_name(self.province_code)

    @property
    def commune_name(self) -> str:
        return geo.commune_name(self.commune_code)


class StaffMembership(models.Model):
    """Which organisation a staff user works for: this is the user's scope."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_membership",
        verbose_name=_("User"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("Organisation"),
    )
    title = models.CharField(_("Job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Staff membership")
        verbose_name_plural = _("Staff memberships")

    def __str__(self):
        return f"{self.user} @ {self.organisation}"
