"""The farmer's own products, and the operator's listing approval queue. Thin: the rules
live in marketplace.catalogue.listings.

Who gets what:
- farmer pages: anonymous → sign-in; a user who runs no producer shop → 403; another
  producer's product → 404.
- operator pages: anonymous → sign-in; anyone but the operator → 403.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.core.access import operator_required, producer_required
from marketplace.core.redirects import safe_next
from marketplace.models import MarketplaceSettings, ProductListing
from marketplace.shops import selectors
from marketplace.shops.forms import ApprovalSettingForm, ProductForm, ReasonForm

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
StockRecord = get_model("partner", "StockRecord")

PAGE_SIZE = 20


# --- Helpers shared with farmers.listing_views ----------------------------------------------


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def stock_rows(partner_ids):
    """Stock records of these partners with their product and listing (one query), and
    how many photos each product has."""
    return (
        StockRecord.objects.filter(partner_id__in=partner_ids)
        .select_related("product", "product__listing", "partner")
        .annotate(photo_count=Count("product__images", distinct=True))
        .order_by("-product__date_created", "-pk")
    )


def product_form_view(request, *, producer, product=None, template, context, success_url):
    """Create (product None) or edit a product with ProductForm; on a refused value the form
    comes back with everything typed in it, and the messages beside the fields."""
    form = ProductForm(request.POST or None, request.FILES or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                saved = listings.create_product(
                    producer=producer, by=request.user, **form.service_kwargs()
                )
            else:
                saved = listings.update_product(
                    product=product, by=request.user, **form.service_kwargs()
                )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, saved_message(saved, created=product is None))
            return redirect(success_url)
    images = list(product.images.order_by("display_order", "pk")) if product else []
    return render(
        request,
        template,
        {
            **context,
            "form": form,
            "producer": producer,
            "product": product,
            "images": images,
            "approval_required": listings.approval_required(),
            "photos_lost": bool(request.method == "POST" and form.errors and request.FILES),
        },
    )


def saved_message(product, *, created: bool) -> str:
    listing = getattr(product, "listing", None)
    if listing is not None and listing.status == ProductListing.Status.PENDING:
        if created:
            return _("%(title)s is saved and waits for the operator's approval.") % {
                "title": product.title
            }
        return _("Your changes to %(title)s are saved and wait for the operator's approval.") % {
            "title": product.title
        }
    return _("%(title)s is saved and on sale.") % {"title": product.title}


# --- Farmer ---------------------------------------------------------------------------------


@producer_required
def my_products(request, producer):
    page = paginate(request, stock_rows([producer.partner_id]))
    return render(
        request,
        "marketplace/shop/products.html",
        {
            "producer": producer,
            "page_obj": page,
            "rows": page.object_list,
            "wholesale_url_name": "wholesale:price-breaks",
        },
    )


@producer_required
def add_product(request, producer):
    return product_form_view(
        request,
        producer=producer,
        template="marketplace/shop/product_form.html",
        context={"cancel_url": reverse("shop:products")},
        success_url=reverse("shop:products"),
    )


@producer_required
def edit_product(request, producer, pk):
    product = get_object_or_404(
        Product.objects.filter(stockrecords__partner_id=producer.partner_id).distinct(), pk=pk
    )
    return product_form_view(
        request,
        producer=producer,
        product=product,
        template="marketplace/shop/product_form.html",
        context={"cancel_url": reverse("shop:products")},
        success_url=reverse("shop:products"),
    )


# --- Operator -------------------------------------------------------------------------------


def review_queryset():
    """Listings with what the queue shows, in a constant number of queries."""
    return ProductListing.objects.select_related(
        "product", "producer__partner", "listed_by"
    ).prefetch_related(
        Prefetch(
            "product__stockrecords", queryset=StockRecord.objects.order_by("pk"), to_attr="records"
        ),
        Prefetch(
            "product__images",
            queryset=ProductImage.objects.order_by("display_order", "pk"),
            to_attr="photos",
        ),
        "product__categories",
        Prefetch(
            "product__attribute_values",
            queryset=ProductAttributeValue.objects.select_related("attribute"),
            to_attr="values",
        ),
    )


def _with_review_details(page):
    for listing in page:
        product = listing.product
        listing.record = product.records[0] if product.records else None
        attributes = {value.attribute.code: value.value for value in product.values}
        listing.unit = attributes.get("unit") or ""
        listing.weight = attributes.get("weight")
        listing.description = listings.description_text(product)
        listing.approve_url = reverse("shop:listing-approve", args=[listing.pk])
        listing.reject_url = reverse("shop:listing-reject", args=[listing.pk])
    return page


@operator_required
def listing_queue(request):
    pending = (
        review_queryset().filter(status=ProductListing.Status.PENDING).order_by("updated", "pk")
    )
    page = _with_review_details(paginate(request, pending))
    return render(
        request,
        "marketplace/shop/queue.html",
        {
            "page_obj": page,
            "listings": page.object_list,
            "settings": MarketplaceSettings.load(),
        },
    )


@operator_required
@require_POST
def approve(request, pk):
    listing = get_object_or_404(review_queryset(), pk=pk)
    try:
        listings.approve_listing(listing=listing, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(title)s is approved; buyers see it now.") % {"title": listing.product.title},
        )
    return redirect(safe_next(request, reverse("shop:listing-queue")))


@operator_required
def reject(request, pk):
    listing = get_object_or_404(review_queryset(), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            listings.reject_listing(
                listing=listing, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(safe_next(request, reverse("shop:listing-queue")))
        else:
            messages.success(
                request,
                _("%(title)s is rejected; the producer sees your reason.")
                % {"title": listing.product.title},
            )
            return redirect(safe_next(request, reverse("shop:listing-queue")))
    return render(
        request,
        "marketplace/shop/reject.html",
        {"listing": listing, "form": form, "next": safe_next(request, "")},
    )


@operator_required
@require_POST
def approval_setting(request):
    form = ApprovalSettingForm(request.POST)
    if form.is_valid():
        required = form.cleaned_data["required"]
        listings.set_listing_approval_required(required=required, by=request.user)
        if required:
            messages.success(
                request, _("From now on, new and changed products wait for your approval.")
            )
        else:
            messages.success(
                request,
                _(
                    "From now on, new and changed products go on sale at once. "
                    "Products already waiting stay in this list."
                ),
            )
    else:
        messages.error(request, _("Choose whether products wait for approval."))
    return redirect(reverse("shop:listing-queue"))


# --- The seller's channel: the farmer's home -------------------------------------------------


@producer_required
def seller_home(request, producer):
    """What needs doing now, with counts, then the farmer's pages (products and stock, lots
    and labels, orders, certificates, money, scans)."""
    todo = selectors.seller_todo(producer)
    parcels = reverse("fulfilment:producer-parcels")
    products = reverse("shop:products")
    certificates = reverse("certificates:mine")
    tasks = [
        {"count": todo.to_pack, "label": _("Orders to pack"), "url": f"{parcels}?trang-thai=new"},
        {
            "count": todo.certificates_expiring,
            "label": _("Certificates expiring"),
            "url": certificates,
        },
        {
            "count": todo.waiting_approval,
            "label": _("Products waiting for approval"),
            "url": products,
        },
        {"count": todo.low_stock, "label": _("Low on stock"), "url": products},
    ]
    pages = [
        {"label": _("Products and stock"), "url": products},
        # farmers' bulk pages, by name (marketplace does not import farmers).
        {
            "label": _("Price and stock of many products"),
            "url": reverse("bulk:edit", args=[producer.slug]),
        },
        {
            "label": _("Import products from a spreadsheet"),
            "url": reverse("bulk:imports", args=[producer.slug]),
        },
        # traceability's pages, by name (marketplace does not import traceability).
        {"label": _("Lots and QR labels"), "url": reverse("traceability:lots")},
        {"label": _("Lots on sale"), "url": reverse("traceability:lots-on-sale")},
        {"label": _("Orders"), "url": parcels},
        {"label": _("Pre-orders for the harvest"), "url": reverse("preorders:producer-windows")},
        {"label": _("Certificates"), "url": certificates},
        {"label": _("Money: what I will receive"), "url": reverse("settlements:mine")},
        {"label": _("GLN of producers"), "url": reverse("traceability:producer-glns")},
        {
            "label": _("Scans of my labels"),
            "url": reverse("traceability:lots"),
            "hint": _("by lot"),
        },
    ]
    return render(
        request,
        "marketplace/shop/home.html",
        {"producer": producer, "todo": todo, "tasks": tasks, "pages": pages},
    )
