from functools import cache

from django.contrib.staticfiles import finders
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.generic import TemplateView
from oscar.core.loading import get_model

from marketplace.core import geo, observability
from marketplace.preorders.selectors import open_windows
from marketplace.search.views import ListingView, card_links
from marketplace.shops import selectors

Category = get_model("catalogue", "Category")


@never_cache
@transaction.non_atomic_requests
def healthz(request):
    """Liveness: the process answers (no database, no Redis: a restart would not help
    them). Docker's health check and the load balancer's liveness probe."""
    return JsonResponse({"status": "ok"})


@never_cache
@transaction.non_atomic_requests
def readyz(request):
    """Readiness: the database, Redis and a Celery worker answer (503 naming what does
    not). With the embedded default (SQLite, tasks in-process) only the database counts."""
    checks = observability.readiness()
    ready = all(value.startswith("ok") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "error", "checks": checks}, status=200 if ready else 503
    )


@never_cache
@transaction.non_atomic_requests
def metrics(request):
    """Prometheus metrics, for the scraper only (observability.may_read_metrics)."""
    if not observability.may_read_metrics(request):
        raise Http404
    body, content_type = observability.metrics_text()
    return HttpResponse(body, content_type=content_type)


@cache
def _favicon() -> bytes:
    with open(finders.find("nongsan/favicon.ico"), "rb") as handle:
        return handle.read()


@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request):
    """/favicon.ico, which browsers ask for on their own: the site's icon, not a 404."""
    return HttpResponse(_favicon(), content_type="image/x-icon")


def server_error(request):
    """500 page rendered without context processors: it must work when the database
    (which the basket, search form and notification counters query) is what failed."""
    html = loader.get_template("oscar/500.html").render({"homepage_url": reverse("home")})
    return HttpResponseServerError(html)


class HomeView(TemplateView):
    """The storefront's front page, as a provincial marketplace: a banner with the
    provinces that have products (the one with the most first), category tiles, OCOP
    products, featured producers with their certificate badges, and the newest products."""

    template_name = "marketplace/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        provinces = selectors.provinces_with_products()
        context["provinces"] = provinces
        context["top_province"] = max(provinces, key=lambda p: p["count"], default=None)
        context["categories"] = list(Category.objects.filter(depth=1, is_public=True))
        context["ocop_entries"] = list(selectors.ocop_entries(4))
        context["producers"] = selectors.featured_producers(4)
        context["entries"] = list(selectors.latest_entries(8))
        card_links(context["ocop_entries"] + context["entries"])
        return context


class ProvinceView(ListingView):
    """ "Đặc sản Đắk Lắk": a province's producers and products."""

    template_name = "marketplace/province.html"
    hide_facets = ("province",)

    def dispatch(self, request, *args, **kwargs):
        self.province_code = selectors.province_by_slug(kwargs["slug"])
        if self.province_code is None:
            raise Http404(_("Unknown province."))
        return super().dispatch(request, *args, **kwargs)

    def get_scope(self):
        return Q(province_code=self.province_code)

    def get_summary(self):
        return _("Specialities of %(province)s") % {
            "province": geo.province_name(self.province_code)
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["province_name"] = geo.province_name(self.province_code)
        context["producers"] = list(selectors.producers_in_province(self.province_code))
        context["coming"] = open_windows(province_code=self.province_code)
        return context


class ProducerView(ListingView):
    """A producer's shop: who they are, where, their certificates and products."""

    template_name = "marketplace/producer.html"
    hide_facets = ("producer", "province")

    def dispatch(self, request, *args, **kwargs):
        self.producer = selectors.producer_for_page(kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get_scope(self):
        return Q(producer_id=self.producer.pk)

    def get_summary(self):
        return self.producer.partner.name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        context.update(
            producer=self.producer,
            province_slug=selectors.province_slug(self.producer.province_code),
            certificates=[(c, c.shows_badge(on=today)) for c in self.producer.public_certificates],
        )
        return context
