"""Certificate pages: the farmer's own list and form, the public certificate page and its
scan, and the operator's verification queue. Thin: rules live in marketplace.certificates.services.

Who gets what:
- farmer pages: anonymous → sign-in; a user who runs no producer shop → 403; another
  producer's certificate → 404.
- public page and scan: an active certificate for everyone; any other only for its
  producer, the operator and association staff in scope, else 404.
- operator pages: anonymous → sign-in; anyone but the operator → 403.
"""

import os

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.certificates import services
from marketplace.certificates.forms import CertificateForm, RejectForm
from marketplace.core.access import operator_required, producer_required
from marketplace.core.redirects import safe_next
from marketplace.core.storage import serve_private
from marketplace.models import Certificate

PAGE_SIZE = 20


# --- Helpers shared with farmers.certificate_views ----------------------------------------


def review_queryset():
    """Certificates with what a review list shows, in a constant number of queries."""
    return Certificate.objects.select_related(
        "producer__partner", "submitted_by", "verified_by"
    ).prefetch_related("products")


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def verify_and_report(request, certificate: Certificate) -> None:
    """Run the verification service and tell the reviewer what happened."""
    try:
        services.verify_certificate(certificate=certificate, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Certificate %(number)s of %(producer)s is verified; buyers now see its badge.")
            % {"number": certificate.number, "producer": certificate.producer.partner.name},
        )


def reject_and_report(request, certificate: Certificate, form: RejectForm) -> bool:
    """Run the rejection service on a valid form; False (with the form's errors) if not."""
    try:
        services.reject_certificate(
            certificate=certificate, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return False
        messages.error(request, " ".join(exc.messages))
        return True
    messages.success(
        request,
        _("Certificate %(number)s of %(producer)s is rejected; the producer sees your reason.")
        % {"number": certificate.number, "producer": certificate.producer.partner.name},
    )
    return True


# --- Farmer -----------------------------------------------------------------------------


@producer_required
def my_certificates(request, producer):
    certificates = (
        producer.certificates.select_related("producer__partner")
        .prefetch_related("products")
        .order_by("-created", "-pk")
    )
    return render(
        request,
        "marketplace/certificates/mine.html",
        {"producer": producer, "certificates": certificates, "today": timezone.localdate()},
    )


@producer_required
def add_certificate(request, producer):
    form = CertificateForm(request.POST or None, request.FILES or None, producer=producer)
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.submit_certificate(
                submitted_by=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Certificate %(number)s is saved and waits for verification.")
                % {"number": certificate.number},
            )
            return redirect("certificates:mine")
    return render(
        request, "marketplace/certificates/form.html", {"producer": producer, "form": form}
    )


@producer_required
def my_certificate(request, producer, pk):
    certificate = get_object_or_404(review_queryset(), pk=pk, producer=producer)
    return _render_detail(request, certificate, owner_view=True)


# --- Public -----------------------------------------------------------------------------


def _viewable(request, pk) -> Certificate:
    certificate = get_object_or_404(review_queryset(), pk=pk)
    if not services.can_view(request.user, certificate):
        raise Http404
    return certificate


def _render_detail(request, certificate, *, owner_view=False):
    today = timezone.localdate()
    products = sorted(certificate.products.all(), key=lambda p: p.title)
    response = render(
        request,
        "marketplace/certificates/detail.html",
        {
            "certificate": certificate,
            "producer": certificate.producer,
            "products": products,
            "is_active": certificate.shows_badge(on=today),
            "owner_view": owner_view,
            "can_review": request.user.is_authenticated and request.user.is_superuser,
            "today": today,
        },
    )
    if not certificate.shows_badge(on=today):
        response["Cache-Control"] = "private, no-store"
    return response


def certificate_detail(request, pk):
    return _render_detail(request, _viewable(request, pk))


def certificate_scan(request, pk):
    """The scan, from the private storage, to whoever may see the certificate
    (services.can_view: anyone once it is verified, else its producer, staff in scope and
    the operator)."""
    certificate = _viewable(request, pk)
    extension = os.path.splitext(certificate.scan.name)[1].lower() or ".bin"
    return serve_private(
        certificate.scan,
        filename=f"chung-nhan-{certificate.pk}{extension}",
        public=certificate.shows_badge(),
    )


# --- Operator -----------------------------------------------------------------------------


def _with_review_urls(page, verify_name: str, reject_name: str):
    for certificate in page:
        certificate.verify_url = reverse(verify_name, args=[certificate.pk])
        certificate.reject_url = reverse(reject_name, args=[certificate.pk])
    return page


@operator_required
def operator_queue(request):
    pending = review_queryset().filter(status=Certificate.Status.PENDING).order_by("created", "pk")
    page = _with_review_urls(
        paginate(request, pending), "certificates:verify", "certificates:reject"
    )
    return render(
        request,
        "marketplace/certificates/queue.html",
        {"page_obj": page, "certificates": page.object_list, "reject_form": RejectForm()},
    )


@operator_required
@require_POST
def operator_verify(request, pk):
    certificate = get_object_or_404(review_queryset(), pk=pk)
    verify_and_report(request, certificate)
    return redirect(safe_next(request, reverse("certificates:queue")))


@operator_required
def operator_reject(request, pk):
    certificate = get_object_or_404(review_queryset(), pk=pk)
    form = RejectForm(request.POST or None)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and reject_and_report(request, certificate, form):
        return redirect(safe_next(request, reverse("certificates:queue")))
    return render(
        request,
        "marketplace/certificates/reject.html",
        {
            "certificate": certificate,
            "form": form,
            "action": reverse("certificates:reject", args=[certificate.pk]),
            "back_url": reverse("certificates:queue"),
            "next": safe_next(request, ""),
        },
    )


@operator_required
def operator_expiring(request):
    today = timezone.localdate()
    page = paginate(request, services.expiring_soon(today=today))
    return render(
        request,
        "marketplace/certificates/expiring.html",
        {
            "page_obj": page,
            "certificates": page.object_list,
            "today": today,
            "days": services.EXPIRING_SOON_DAYS,
        },
    )
