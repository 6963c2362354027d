"""Where something is on Vietnam's map: one abstract model for a province and a commune or
ward (GSO codes, see marketplace.core.geo), with the one check that the commune lies in the
province. Producer profiles, lots, members and organisations inherit it; a model whose
fields differ (an optional commune, no index) redefines the field and keeps the rule."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.core import geo


class Place(models.Model):
    province_code = models.PositiveIntegerField(_("Province"), db_index=True)
    commune_code = models.PositiveIntegerField(_("Commune / ward"))

    class Meta:
        abstract = True

    def place_errors(self) -> dict:
        """The field errors of the place: an unknown province, or a commune elsewhere.
        Empty values are left to the fields' own checks."""
        if self.province_code is None:
            return {}
        if not geo.is_valid_province(self.province_code):
            return {"province_code": _("Unknown province.")}
        if self.commune_code is not None and not geo.commune_in_province(
            self.commune_code, self.province_code
        ):
            return {"commune_code": _("This commune is not in the selected province.")}
        return {}

    def clean(self):
        super().clean()
        errors = self.place_errors()
        if errors:
            raise ValidationError(errors)

    @property
    def province_name(self) -> str:
        return geo.province_name(self.province_code)

    @property
    def commune_name(self) -> str:
        return geo.commune_name(self.commune_code)

    @property
    def location(self) -> str:
        """ "Xã Ea Tu, Tỉnh Đắk Lắk": commune first, as an address is written."""
        return ", ".join(p for p in (self.commune_name, self.province_name) if p)
