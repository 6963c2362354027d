"""A basket line keeps the price it was saved at, and Oscar warns "the price has decreased
since you added it" when the strategy's price differs. A business buyer's line price
follows its quantity (marketplace.wholesale.pricing), so the price it keeps is the one for
its quantity when saved: a warning then means that a price really changed."""

from django.db.models.signals import pre_save
from oscar.core.loading import get_model

Line = get_model("basket", "Line")


def keep_quantity_price(sender, instance, **kwargs) -> None:
    if not Line.basket.is_cached(instance):
        return
    strategy = getattr(instance.basket, "_strategy", None)
    if strategy is None or not getattr(strategy, "wholesale", False):
        return
    instance.__dict__.pop("_info", None)  # Oscar's cached price, for the old quantity
    price = strategy.fetch_for_line(instance, instance.stockrecord).price
    if price.exists and price.is_tax_known:
        instance.price_excl_tax = price.excl_tax
        instance.price_incl_tax = price.incl_tax


def install() -> None:
    pre_save.connect(keep_quantity_price, sender=Line, dispatch_uid="wholesale-line-price")
