from django import forms
from django.contrib import admin
from oscar.core.loading import get_model

from marketplace.models import ProducerBankAccount, ProducerProfile


@admin.register(ProducerProfile)
class ProducerProfileAdmin(admin.ModelAdmin):
    list_display = ("partner", "kind", "province_code", "commune_code")
    list_filter = ("kind",)


@admin.register(ProducerBankAccount)
class ProducerBankAccountAdmin(admin.ModelAdmin):
    """Where the operator records the account a producer that is not a member is paid into
    (marketplace.core.payees)."""

    list_display = ("partner", "bank_bin", "number", "holder")
    search_fields = ("partner__name", "number", "holder")


# --- Oscar's own admin pages: malformed input is a form error, never a 500 -----------------
#
# Oscar's models check themselves in clean() assuming their fields are set (a vote reads its
# review, a benefit compares its value, an address reads its country), and Django calls the
# model's clean() even when a field of the form was refused: a malformed field then became a
# RelatedObjectDoesNotExist or a TypeError. FieldsFirstForm runs the model's checks only
# once every field is valid. Records only the site makes (a voucher applied at checkout, a
# basket line, a vote on a review) have required fields the admin shows read-only: adding
# one by hand could only fail, so their admin adds none.


class FieldsFirstForm(forms.ModelForm):
    def _post_clean(self):
        if self._errors:  # a refused field: the model's clean() would read it unset
            return
        super()._post_clean()


class NoAddByHand:
    def has_add_permission(self, request):
        return False


def _harden(app_label: str, model_name: str, *, addable: bool = True) -> None:
    """Register Oscar's admin of the model again with FieldsFirstForm (and, for records
    only the site makes, without "add")."""
    model = get_model(app_label, model_name)
    original = type(admin.site._registry[model])
    bases = (original,) if addable else (NoAddByHand, original)
    hardened = type(original.__name__, bases, {"form": FieldsFirstForm, "__module__": __name__})
    admin.site.unregister(model)
    admin.site.register(model, hardened)


for _app, _model in (("offer", "Condition"), ("offer", "Benefit"), ("address", "UserAddress")):
    _harden(_app, _model)
for _app, _model in (("voucher", "VoucherApplication"), ("basket", "Line"), ("reviews", "Vote")):
    _harden(_app, _model, addable=False)
