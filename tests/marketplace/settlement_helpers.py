"""Orders delivered for the settlement ledger tests: placed through the same code as the
checkout (marketplace.demo.orders.place), paid by each method, then marked delivered (and,
on delivery, collected) directly, as the post-office pages do for real."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.core.payees import BankAccount, register_bank_account_provider
from marketplace.demo.base import PRODUCERS
from marketplace.demo.orders import place
from marketplace.models import Parcel
from marketplace.payments.state import CARD, COD, VIETQR, record_payment

Partner = get_model("partner", "Partner")

DURIAN = "NS0005"  # krongpac, household
AVOCADO = "NS0007"  # krongpac, household
PEPPER = "NS0009"  # chuse, cooperative
GINSENG_TEA = "NS0015"  # ngoclinh, enterprise
CINNAMON = "NS0017"  # trabong, household
METHODS = (COD, VIETQR, CARD)


def partner(key) -> Partner:
    return Partner.objects.get(name=PRODUCERS[key][0])


def buyer():
    return get_user_model().objects.get(email="nguoimua@nongsan.test")


def operator():
    return get_user_model().objects.get(email="quantri@nongsan.test")


def order(items: dict, method: str = COD, *, paid: bool = True):
    """An order of `items` ({upc: quantity}); paid in full when paid in advance."""
    placed = place(buyer(), items, method, "settlement test")
    if paid and method in (VIETQR, CARD):
        record_payment(placed, method=method, amount=placed.total_incl_tax, reference="TEST")
    return placed


def deliver(placed, partner_key=None, when=None) -> list[Parcel]:
    """The order's parcels (or one producer's) delivered; cash collected when due."""
    when = when or timezone.now()
    parcels = Parcel.objects.filter(order=placed)
    if partner_key:
        parcels = parcels.filter(partner=partner(partner_key))
    done = []
    for parcel in parcels:
        parcel.status = Parcel.Status.DELIVERED
        parcel.delivered_at = when
        if parcel.cod_amount > 0:
            parcel.cod_collected = parcel.cod_amount
            parcel.cod_collected_at = when
        parcel.save()
        done.append(parcel)
    return done


class Accounts:
    """A bank account for every producer (the demo producers are not members)."""

    def __call__(self, partner_ids):
        return {
            pk: BankAccount(bank_bin="970405", number=f"510020{pk:07d}", holder=f"NONG DAN {pk}")
            for pk in partner_ids
        }


def with_bank_accounts():
    """Give every producer a bank account; returns a function putting the old rule back."""
    from marketplace.core import payees

    previous = payees._provider
    register_bank_account_provider(Accounts())
    return lambda: register_bank_account_provider(previous)


def dong(value) -> Decimal:
    return Decimal(value)
