"""Farmers' Association staff verify the certificates of producers in their scope.

A commune branch covers its commune, a provincial association its province, the operator
everything (farmers.scope). Post-office staff onboard farmers but
do not verify certificates: 403. A certificate outside the caller's scope: 404.
"""

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marketplace.certificates.forms import RejectForm
from marketplace.certificates.views import (
    paginate,
    reject_and_report,
    review_queryset,
    verify_and_report,
)
from marketplace.core.redirects import safe_next
from marketplace.models import Certificate

from . import selectors
from .access import association_staff_required
from .scope import scope_of


def in_scope(user):
    """Certificates of the producers this user may act for."""
    return review_queryset().filter(producer__in=scope_of(user).producers())


@association_staff_required
def staff_certificates(request):
    pending = (
        in_scope(request.user).filter(status=Certificate.Status.PENDING).order_by("created", "pk")
    )
    page = paginate(request, pending)
    for certificate in page:
        certificate.verify_url = reverse("farmers:certificate-verify", args=[certificate.pk])
        certificate.reject_url = reverse("farmers:certificate-reject", args=[certificate.pk])
    return render(
        request,
        "farmers/certificates/queue.html",
        {
            "membership": selectors.membership_for(request.user),
            "page_obj": page,
            "certificates": page.object_list,
            "reject_form": RejectForm(),
        },
    )


@association_staff_required
@require_POST
def staff_verify(request, pk):
    certificate = get_object_or_404(in_scope(request.user), pk=pk)
    verify_and_report(request, certificate)
    return redirect(safe_next(request, reverse("farmers:certificates")))


@association_staff_required
def staff_reject(request, pk):
    certificate = get_object_or_404(in_scope(request.user), pk=pk)
    form = RejectForm(request.POST or None)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and reject_and_report(request, certificate, form):
        return redirect(safe_next(request, reverse("farmers:certificates")))
    return render(
        request,
        "farmers/certificates/reject.html",
        {
            "certificate": certificate,
            "form": form,
            "action": reverse("farmers:certificate-reject", args=[certificate.pk]),
            "back_url": reverse("farmers:certificates"),
            "next": safe_next(request, ""),
        },
    )
