"""The operator's food-safety review: lots harvested inside a pre-harvest interval wait
here (reached from the operator's home through marketplace.core.queues) until the operator
clears them for sale or refuses them. Thin: the rules live in traceability.safety."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from marketplace.core.access import operator_required

from . import safety, services
from .forms import SafetyReviewForm
from .models import BannedIngredient, FarmEvent, Lot

PAGE_SIZE = 20


@operator_required
def queue(request):
    lots = (
        safety.lots_to_review()
        .select_related("product", "producer__partner")
        .order_by("updated_at", "pk")
    )
    page = Paginator(lots, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "traceability/safety_queue.html", {"page_obj": page, "lots": page.object_list}
    )


@operator_required
def review(request, pk):
    lot = get_object_or_404(
        Lot.objects.select_related("product", "producer__partner", "recall"), pk=pk
    )
    events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
    form = SafetyReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            safety.review_lot(
                lot=lot,
                by=request.user,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for key, errors in exc.error_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(
                request, _("Your decision on lot %(code)s is saved.") % {"code": lot.code}
            )
            return redirect("traceability:safety-queue")
    return render(
        request,
        "traceability/safety_review.html",
        {
            "lot": lot,
            "form": form,
            "breaches": safety.breaches(lot, events),
            "refusals": safety.sale_refusals(lot, events=events),
            "rows": services.timeline(events),
        },
    )


@operator_required
def banned_ingredients(request):
    """The list of banned active ingredients as it stands (kept in the admin)."""
    return render(
        request,
        "traceability/banned_ingredients.html",
        {"ingredients": BannedIngredient.objects.order_by("-active", "name")},
    )
