"""Lots on sale, for farmers and staff on their behalf: put a harvested lot on sale (from
the lot's page) and see what each product sold from lots has left, lot by lot (from the
farmer's home). Thin: the rules live in traceability.sale and marketplace.catalogue.batches.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from marketplace.catalogue import batches, stock
from marketplace.core.numbers import parse_int

from . import safety, sale
from .access import lot_manager_required, lots_for, producers_for

StockRecord = get_model("partner", "StockRecord")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


@lot_manager_required
def put_on_sale(request, pk):
    lot = get_object_or_404(
        lots_for(request.user).select_related("product", "producer__partner", "recall"), pk=pk
    )
    unit = sale.product_unit(lot.product)
    most = sale.most_on_sale(lot)
    errors = []
    typed = request.POST.get("quantity", "") if request.method == "POST" else ""
    if request.method == "POST":
        quantity = parse_int(typed.strip(), minimum=1, maximum=batches.MAX_QUANTITY)
        if quantity is None:
            errors.append(_("Enter a whole number greater than zero."))
        else:
            try:
                batch = sale.put_lot_on_sale(lot=lot, by=request.user, quantity=quantity)
            except (ValidationError, PermissionDenied) as exc:
                errors.extend(getattr(exc, "messages", None) or [str(exc)])
            else:
                record = StockRecord.objects.get(pk=batch.stockrecord_id)
                messages.success(
                    request,
                    _("Lot %(code)s is on sale: %(product)s now has %(count)s %(unit)s to sell.")
                    % {
                        "code": lot.code,
                        "product": lot.product.get_title(),
                        "count": stock.available(record),
                        "unit": unit,
                    },
                )
                return redirect("traceability:lots-on-sale")
    return render(
        request,
        "traceability/lot_sell.html",
        {
            "lot": lot,
            "unit": unit,
            "most": most,
            "refusal": safety.sale_refusal(lot),
            "on_sale": batches.is_source_on_sale(lot.pk),
            "quantity": typed or (most if most else ""),
            "errors": errors,
        },
    )


@lot_manager_required
def take_off_sale(request, pk):
    """Take a lot off sale by hand: a confirmation page, then the withdrawal."""
    lot = get_object_or_404(
        lots_for(request.user).select_related("product", "producer__partner"), pk=pk
    )
    unit = sale.product_unit(lot.product)
    left = batches.left_of_source(lot.pk)
    if request.method == "POST" and left is not None:
        try:
            gone = sale.take_off_sale(lot=lot, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(
                request,
                _(
                    "Lot %(code)s is no longer on sale: %(count)s %(unit)s left the stock "
                    "of %(product)s."
                )
                % {
                    "code": lot.code,
                    "count": gone,
                    "unit": unit,
                    "product": lot.product.get_title(),
                },
            )
        return redirect("traceability:lot", lot.pk)
    return render(
        request,
        "traceability/lot_unsell.html",
        {
            "lot": lot,
            "unit": unit,
            "left": left,
            "on_sale": left is not None,
        },
    )


@lot_manager_required
def lots_on_sale(request):
    """The caller's products sold from lots: what may still be ordered, and each lot on
    sale (first to be sold first), then the lots no longer sold. Three queries."""
    records = list(
        StockRecord.objects.filter(
            partner__producer_profile__in=producers_for(request.user).values("pk"),
            sale_batches__isnull=False,
        )
        .distinct()
        .select_related("product", "partner")
        .order_by("partner__name", "product__title", "pk")[:200]
    )
    by_record = batches.batches_of(r.pk for r in records)
    units = dict(
        ProductAttributeValue.objects.filter(
            product_id__in=[r.product_id for r in records], attribute__code="unit"
        ).values_list("product_id", "value_text")
    )
    rows = [
        {
            "record": record,
            "left": stock.available(record),
            "unit": units.get(record.product_id) or "",
            "batches": by_record.get(record.pk, []),
        }
        for record in records
    ]
    return render(request, "traceability/lots_on_sale.html", {"rows": rows})
