"""Oscar's add-to-basket view and form (settings: marketplace.core.loading overrides
``basket.views.BasketAddView``), doing what Oscar's do with the basket the middleware
loaded (marketplace.payments.basket_middleware) instead of asking the database again:

- the product is read with its class and its stock record, which the form, the price and
  the stock check then share (Oscar reads the class, asks whether the product has options,
  lists them, and reads the stock record twice); whether any product option exists at all
  is kept in the cache until an option is saved or deleted (marketplace.core.cached), and
  while none does, no product has any;
- how many of the product the basket already holds is counted from its loaded lines
  (Oscar sums them in a query);
- after adding, the basket keeps its lines, the added or changed one in place, so the
  offers and the "basket total" message read no line again (Oscar drops them, counts the
  lines twice and reads them again with their options, images and product classes).

What the buyer sees and what is checked (price, currency, stock, the basket limit,
wholesale prices, offers and their messages) stays Oscar's: its form fields, its
`add_product` (get-or-create of the line), its messages and its signal."""

from django import forms, shortcuts
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from oscar.apps.basket import forms as oscar_forms
from oscar.apps.basket import views as oscar_views
from oscar.core.loading import get_class, get_model

from marketplace.core.cached import CachedUntilChanged
from marketplace.payments.basket_middleware import no_attributes, set_lines

Applicator = get_class("offer.applicator", "Applicator")
BasketMessageGenerator = get_class("basket.utils", "BasketMessageGenerator")
OfferApplications = get_class("offer.results", "OfferApplications")
Option = get_model("catalogue", "Option")
Product = get_model("catalogue", "Product")

LINE_FIELDS = ("quantity", "price_currency", "price_excl_tax", "price_incl_tax", "tax_code")


_OPTIONS_EXIST = CachedUntilChanged(
    "nongsan:product-options-exist",
    lambda: Option.objects.exists(),
    models=("catalogue.Option",),
)


def options_exist() -> bool:
    """Whether any product option exists at all, from the cache when it knows."""
    return _OPTIONS_EXIST.get()


def product_to_add(pk):
    """The product with what adding it reads: its class and its stock records; that it
    has no options when no option exists (as Oscar's product lists annotate it)."""
    product = shortcuts.get_object_or_404(
        Product.objects.select_related("product_class").prefetch_related("stockrecords"),
        pk=pk,
    )
    if not options_exist():
        product.has_product_class_options = product.has_product_options = False
    return product


def install() -> None:
    """Forget whether product options exist whenever one is saved or deleted."""
    _OPTIONS_EXIST.install()


class AddToBasketForm(oscar_forms.AddToBasketForm):
    def clean(self):
        # Oscar 4.2's checks, the quantity already in the basket counted from its lines.
        info = self.basket.strategy.fetch_for_product(self.product)
        if not info.price.exists:
            raise forms.ValidationError(
                _(
                    "This product cannot be added to the basket because a "
                    "price could not be determined for it."
                )
            )
        if self.basket.currency and info.price.currency != self.basket.currency:
            raise forms.ValidationError(
                _(
                    "This product cannot be added to the basket as its currency "
                    "isn't the same as other products in your basket"
                )
            )
        current_qty = sum(
            line.quantity for line in self.basket.all_lines() if line.product_id == self.product.pk
        )
        desired_qty = current_qty + self.cleaned_data.get("quantity", 1)
        is_permitted, reason = info.availability.is_purchase_permitted(desired_qty)
        if not is_permitted:
            raise forms.ValidationError(reason)
        return self.cleaned_data

    def cleaned_options(self):
        if not self.parent_product.has_options:  # no option fields either
            return []
        return super().cleaned_options()


class BasketAddView(oscar_views.BasketAddView):
    form_class = AddToBasketForm

    def post(self, request, *args, **kwargs):
        self.product = product_to_add(kwargs["pk"])
        return super(oscar_views.BasketAddView, self).post(request, *args, **kwargs)

    def form_valid(self, form):
        basket = self.request.basket
        offers_before = basket.applied_offers()
        if not basket.id:
            basket.save()
            set_lines(basket, [])  # a new basket has none
        lines = list(basket.all_lines())

        self.line, self.line_created = basket.add_product(
            form.product, form.cleaned_data["quantity"], form.cleaned_options()
        )
        keep_lines(basket, lines, self.line, self.line_created)

        messages.success(self.request, self.get_success_message(form), extra_tags="safe noicon")

        # Oscar's BasketMessageGenerator.apply_messages, on the lines kept.
        basket.offer_applications = OfferApplications()
        for line in basket.all_lines():
            line.clear_discount()
        Applicator().apply(basket, self.request.user, self.request)
        for level, message in BasketMessageGenerator().get_messages(
            basket, offers_before, basket.applied_offers()
        ):
            messages.add_message(self.request, level, message, extra_tags="safe noicon")

        self.add_signal.send(
            sender=self, product=form.product, user=self.request.user, request=self.request
        )
        return super(oscar_views.BasketAddView, self).form_valid(form)


def keep_lines(basket, lines, line, created) -> None:
    """The basket's lines after `add_product` gave back `line`: a new line joins the
    others (it has its product and stock record); a line that grew is updated in place."""
    if created:
        if line.line_reference == f"{line.product_id}_{line.stockrecord_id}":
            no_attributes(line)
        lines.append(line)
    else:
        kept = next((kept for kept in lines if kept.pk == line.pk), None)
        if kept is None:  # added meanwhile by another request: as Oscar would read it
            lines.append(line)
        else:
            for field in LINE_FIELDS:
                setattr(kept, field, getattr(line, field))
            kept.__dict__.pop("_info", None)  # its price may follow its quantity
    set_lines(basket, lines)
