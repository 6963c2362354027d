import oscar.apps.dashboard.catalogue.apps as apps
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class ProducersUseTheirShopPages:
    """Oscar lets partner users create and edit products in its dashboard. For a producer
    that would skip nongsan's own product pages (marketplace.catalogue.listings): no operator
    approval, no safe photo rules, no listing record. So only staff (the operator) use
    Oscar's product pages; a producer is sent to the matching page of their shop, which
    applies the approval rules and answers 404 for another producer's product."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not user.is_staff:
            pk = kwargs.get("pk")
            if pk is not None and not kwargs.get("parent_pk"):
                target = reverse("shop:product-edit", args=[pk])
            elif request.resolver_match and "create" in (request.resolver_match.url_name or ""):
                target = reverse("shop:product-add")
            else:
                target = reverse("shop:products")
            messages.info(
                request,
                _(
                    "Manage your products here: new and changed products are shown to "
                    "buyers once the operator approves them."
                ),
            )
            return redirect(target)
        return super().dispatch(request, *args, **kwargs)


def _for_staff_only(view):
    return type(view.__name__, (ProducersUseTheirShopPages, view), {"__module__": __name__})


class CatalogueDashboardConfig(apps.CatalogueDashboardConfig):
    """Oscar's catalogue dashboard; its product pages are for the operator only (see
    ProducersUseTheirShopPages). Oscar's get_class would not look in this fork for the
    views, so ready() wraps the ones it loaded."""

    name = "marketplace.dashboard.catalogue"

    def ready(self):
        super().ready()
        for attribute in (
            "product_list_view",
            "product_bulk_action_confirm_view",
            "product_create_redirect_view",
            "product_createupdate_view",
            "product_delete_view",
        ):
            setattr(self, attribute, _for_staff_only(getattr(self, attribute)))
