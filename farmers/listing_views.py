"""Association and post-office staff list products on behalf of farmers in their scope.

A commune branch covers its commune, a provincial association or post office its
province, the operator everything (farmers.scope). Anyone without
a staff membership (buyers, farmers) gets 403; a producer or product outside the
caller's scope gets 404. The listing records the staff user: "listed by staff X for
farmer Y". The rules live in marketplace.catalogue.listings.
"""

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from oscar.core.loading import get_model

from marketplace.shops.views import paginate, product_form_view, stock_rows

from . import selectors
from .access import staff_required

Product = get_model("catalogue", "Product")


def products_in_scope(user):
    producers = selectors.producers_in_scope(user)
    return Product.objects.filter(stockrecords__partner__producer_profile__in=producers).distinct()


@staff_required
def staff_products(request):
    producers = selectors.producers_in_scope(request.user).order_by("partner__name", "pk")
    page = paginate(request, producers)
    rows_by_partner = {}
    for row in stock_rows([producer.partner_id for producer in page]):
        rows_by_partner.setdefault(row.partner_id, []).append(row)
    for producer in page:
        producer.rows = rows_by_partner.get(producer.partner_id, [])
    return render(
        request,
        "farmers/listings/products.html",
        {
            "membership": selectors.membership_for(request.user),
            "page_obj": page,
            "producers": page.object_list,
        },
    )


@staff_required
def staff_add_product(request, producer_slug):
    producer = get_object_or_404(selectors.producers_in_scope(request.user), slug=producer_slug)
    return product_form_view(
        request,
        producer=producer,
        template="farmers/listings/form.html",
        context={"cancel_url": reverse("farmers:listings")},
        success_url=reverse("farmers:listings"),
    )


@staff_required
def staff_edit_product(request, product_pk):
    product = get_object_or_404(products_in_scope(request.user), pk=product_pk)
    producer = (
        selectors.producers_in_scope(request.user)
        .filter(partner__stockrecords__product=product)
        .order_by("pk")
        .first()
    )
    return product_form_view(
        request,
        producer=producer,
        product=product,
        template="farmers/listings/form.html",
        context={"cancel_url": reverse("farmers:listings")},
        success_url=reverse("farmers:listings"),
    )
