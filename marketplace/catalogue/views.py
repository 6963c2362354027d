"""The product page: Oscar's view with its related rows fetched up front (≤ 15 queries),
plus the producer and the product's certificate badges."""

from django.db.models import Prefetch
from oscar.apps.catalogue.views import ProductDetailView as OscarProductDetailView
from oscar.core.loading import get_model

from marketplace.models import SearchEntry
from marketplace.preorders.selectors import open_windows
from marketplace.shops.selectors import province_slug

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


class ProductDetailView(OscarProductDetailView):
    def get_queryset(self):
        return Product.objects.select_related("product_class", "parent").prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")),
            Prefetch(
                "stockrecords",
                queryset=StockRecord.objects.select_related(
                    "partner", "partner__producer_profile"
                ).order_by("pk"),
            ),
            Prefetch(
                "attribute_values",
                queryset=ProductAttributeValue.objects.select_related("attribute"),
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        product = self.object
        records = list(product.stockrecords.all())
        producer = getattr(records[0].partner, "producer_profile", None) if records else None
        entry = SearchEntry.objects.filter(product=product).only("badges").first()
        context["producer"] = producer
        context["province_slug"] = province_slug(producer.province_code) if producer else ""
        context["badges"] = entry.badges if entry else []
        # "Sắp thu hoạch": pre-orders open for this product (one query).
        context["coming"] = open_windows(product_id=product.pk)
        return context
