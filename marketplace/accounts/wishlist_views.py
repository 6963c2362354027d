"""Oscar's "new wish list with this product" page: a product that no longer exists sends
the buyer to the plain "new wish list" page (Oscar named that URL without its namespace,
which raised NoReverseMatch: a 500)."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from oscar.apps.customer.wishlists.views import WishListCreateView as OscarWishListCreateView
from oscar.core.loading import get_model

Product = get_model("catalogue", "Product")


class WishListCreateView(OscarWishListCreateView):
    def dispatch(self, request, *args, **kwargs):
        if "product_pk" in kwargs:
            try:
                Product.objects.get(pk=kwargs["product_pk"])
            except ObjectDoesNotExist:
                messages.error(request, _("The requested product no longer exists"))
                return redirect("customer:wishlists-create")
        return super().dispatch(request, *args, **kwargs)
