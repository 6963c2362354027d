"""Wholesale pages. Thin: the rules live in marketplace.wholesale.services and pricing.

Who gets what:
- the buyer's business page (/tai-khoan/doanh-nghiep/): anonymous → sign-in; every
  signed-in user sees and edits only their own details.
- the producer's price breaks (/cua-hang/san-pham/<pk>/gia-si/): anonymous → sign-in; a
  user who runs no producer shop → 403; another producer's product → 404.
- the operator's queue (/quan-tri/khach-doanh-nghiep/): anonymous → sign-in; anyone but
  the operator → 403.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.core.access import operator_required, producer_required
from marketplace.models import BusinessBuyer
from marketplace.wholesale import selectors, services
from marketplace.wholesale.forms import BusinessForm, PriceBreakForm, ReasonForm

Product = get_model("catalogue", "Product")


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Buyer ------------------------------------------------------------------------------------


@login_required
def business_account(request):
    business = selectors.business_of(request.user)
    initial = {}
    if business is not None:
        initial = {
            "kind": business.kind,
            "company_name": business.company_name,
            "tax_code": business.tax_code,
            "address": business.address,
            "invoice_email": business.invoice_email,
        }
    form = BusinessForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.register_business(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Your business details are sent. Wholesale prices apply once the "
                        "marketplace approves them."
                    ),
                )
                return redirect("wholesale:business")
        status = 400
    return render(
        request,
        "marketplace/wholesale/business.html",
        {
            "form": form,
            "business": business,
            "active_tab": "business",
            "page_title": _("Business buyer"),
        },
        status=status,
    )


# --- Producer ---------------------------------------------------------------------------------


def _own_product(producer, pk):
    return get_object_or_404(
        Product.objects.filter(stockrecords__partner_id=producer.partner_id).distinct(),
        pk=pk,
    )


@producer_required
def price_breaks(request, producer, pk):
    product = _own_product(producer, pk)
    record = product.stockrecords.filter(partner_id=producer.partner_id).first()
    form = PriceBreakForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_price_break(
                    partner=producer.partner,
                    product=product,
                    min_quantity=form.cleaned_data["min_quantity"],
                    price=Decimal(form.cleaned_data["price"]),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The wholesale price is saved."))
                return redirect("wholesale:price-breaks", pk=product.pk)
        status = 400
    return render(
        request,
        "marketplace/wholesale/price_breaks.html",
        {
            "producer": producer,
            "product": product,
            "record": record,
            "breaks": selectors.product_breaks(product),
            "form": form,
        },
        status=status,
    )


@producer_required
@require_POST
def remove_price_break(request, producer, pk, break_id):
    product = _own_product(producer, pk)
    try:
        services.remove_price_break(partner=producer.partner, price_break_id=break_id)
    except PermissionDenied:
        raise Http404 from None  # another producer's price break
    messages.success(request, _("The wholesale price is removed."))
    return redirect("wholesale:price-breaks", pk=product.pk)


# --- Operator ---------------------------------------------------------------------------------


@operator_required
def business_queue(request):
    return render(
        request,
        "marketplace/wholesale/queue.html",
        {"pending": list(selectors.pending_businesses()[:100])},
    )


@operator_required
@require_POST
def approve_business(request, pk):
    business = get_object_or_404(BusinessBuyer, pk=pk)
    services.review_business(business_id=business.pk, operator=request.user, approve=True)
    messages.success(
        request,
        _("%(company)s is approved: it gets wholesale prices now.")
        % {"company": business.company_name},
    )
    return redirect("wholesale:queue")


@operator_required
@require_POST
def reject_business(request, pk):
    business = get_object_or_404(BusinessBuyer, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why, so the buyer can correct it."))
        return redirect("wholesale:queue")
    services.review_business(
        business_id=business.pk,
        operator=request.user,
        approve=False,
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("%(company)s is rejected.") % {"company": business.company_name})
    return redirect("wholesale:queue")
