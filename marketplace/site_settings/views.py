"""The operator's payment and delivery settings: free-delivery threshold, the cash on
delivery limit, the bank account buyers transfer to (VietQR) and the commission kept from
cash collected on delivery. Delivery rates per zone and weight are Oscar's weight-based
shipping methods, edited in Oscar's dashboard (linked from this page)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core import queues as queues_of_apps
from marketplace.core.access import operator_required
from marketplace.core.banks import BANKS
from marketplace.core.money import DongField
from marketplace.models import MarketplaceSettings
from marketplace.site_settings import selectors


class PaymentSettingsForm(forms.ModelForm):
    bank_bin = forms.ChoiceField(label=gettext_lazy("Bank"), required=False)
    # Text inputs read by parse_dong: a number input turns "500.000" into 500.
    free_shipping_threshold = DongField(required=False, max_value=2**31 - 1)
    cod_max_amount = DongField(required=False, max_value=2**31 - 1)

    class Meta:
        model = MarketplaceSettings
        fields = [
            "free_shipping_threshold",
            "cod_max_amount",
            "bank_bin",
            "bank_account_number",
            "bank_account_name",
            "commission_percent",
            "withholding_vat_percent",
            "withholding_pit_percent",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("free_shipping_threshold", "cod_max_amount"):
            model_field = MarketplaceSettings._meta.get_field(name)
            self.fields[name].label = model_field.verbose_name
            self.fields[name].help_text = model_field.help_text
        # The withholding rates keep their value when a form without them is posted.
        for name in ("withholding_vat_percent", "withholding_pit_percent"):
            self.fields[name].required = False
        self.fields["bank_bin"].choices = [("", gettext_lazy("No bank transfer"))] + [
            (code, f"{short} — {name}") for code, short, name in BANKS
        ]
        self.fields["bank_account_name"].help_text = gettext_lazy(
            "As the bank shows it, in capitals without diacritics, e.g. CONG TY NONG SAN."
        )

    def clean_bank_account_name(self):
        name = self.cleaned_data["bank_account_name"].strip().upper()
        if name and not name.isascii():
            raise forms.ValidationError(
                _("Write the name without diacritics, as the bank shows it.")
            )
        return name

    def _keep(self, name):
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_withholding_vat_percent(self):
        return self._keep("withholding_vat_percent")

    def clean_withholding_pit_percent(self):
        return self._keep("withholding_pit_percent")

    def clean(self):
        cleaned = super().clean()
        bank = cleaned.get("bank_bin")
        number = cleaned.get("bank_account_number")
        name = cleaned.get("bank_account_name")
        given = [bool(bank), bool(number), bool(name)]
        if any(given) and not all(given):
            raise forms.ValidationError(
                _(
                    "For bank transfers give the bank, the account number and the holder; "
                    "or leave all three empty to switch transfers off."
                )
            )
        return cleaned

    def save(self, commit=True):
        row = super().save(commit=False)
        names = {code: short for code, short, _name in BANKS}
        row.bank_name = names.get(row.bank_bin, "")
        if commit:
            row.save()
        return row


@operator_required
def payment_settings(request):
    row = MarketplaceSettings.load(fresh=True)
    form = PaymentSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Payment and delivery settings saved."))
        return redirect("shop:payment-settings")
    return render(request, "marketplace/settings/payments.html", {"form": form, "row": row})


# --- The operator's home ---------------------------------------------------------------------


@operator_required
def operator_home(request):
    """The operator's queues with counts, then the settings and Oscar's dashboard (for the
    catalogue's administration)."""
    queues = selectors.operator_queues()
    tasks = [
        {
            "count": queues.listings,
            "label": _("Listings to approve"),
            "url": reverse("shop:listing-queue"),
        },
        {
            "count": queues.certificates,
            "label": _("Certificates to verify"),
            "url": reverse("certificates:queue"),
        },
        {
            "count": queues.certificates_expiring,
            "label": _("Certificates expiring"),
            "url": reverse("certificates:expiring"),
        },
        {
            "count": queues.transfers,
            "label": _("Bank transfers to match"),
            "url": reverse("transfers:awaiting"),
        },
        {
            "count": queues.refunds,
            "label": _("Refunds pending or failed"),
            "url": reverse("dashboard:order-list"),
        },
        {
            "count": queues.handovers,
            "label": _("Cash from the post office to confirm"),
            "url": reverse("handovers:operator"),
        },
        {
            "count": queues.payouts,
            "label": _("Producers to pay out"),
            "url": reverse("settlements:ledger"),
        },
        *queues_of_apps.operator_tasks(),  # registered by the other apps
    ]
    pages = [
        {"label": _("Payment and delivery settings"), "url": reverse("shop:payment-settings")},
        {"label": _("Bank statement import"), "url": reverse("transfers:import")},
        {"label": _("Farmers' onboarding"), "url": reverse("farmers:staff-home")},
        {"label": _("Parcels"), "url": reverse("fulfilment:post-parcels")},
        {
            "label": _("Catalogue administration (Oscar dashboard)"),
            "url": reverse("dashboard:index"),
        },
        *queues_of_apps.operator_pages(),
    ]
    return render(
        request,
        "marketplace/settings/operator_home.html",
        {"queues": queues, "tasks": tasks, "pages": pages},
    )
