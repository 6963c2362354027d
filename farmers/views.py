from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import access, selectors
from .models import Member


@login_required
def staff_home(request):
    """Home of association staff (the post office has its own, and may come here too):
    members by status with the next action, imports, reports, listings and certificates of
    the producers in scope; who they are, what they cover."""
    scope = access.staff_scope(request, hide=False)
    todo = selectors.staff_todo(scope)
    members = reverse("farmers:members")

    def by_status(status):
        return f"{members}?{urlencode({'status': status})}"

    counts = todo["members"]
    tasks = [
        {
            "count": counts.get(Member.Status.SUBMITTED, 0),
            "label": _("Applications to verify"),
            "url": by_status(Member.Status.SUBMITTED),
        },
        {
            "count": counts.get(Member.Status.VERIFIED, 0),
            "label": _("Applications to approve"),
            "url": by_status(Member.Status.VERIFIED),
        },
        {
            "count": counts.get(Member.Status.RETURNED, 0),
            "label": _("Returned for changes"),
            "url": by_status(Member.Status.RETURNED),
        },
        {
            "count": counts.get(Member.Status.DRAFT, 0),
            "label": _("Drafts to finish"),
            "url": by_status(Member.Status.DRAFT),
        },
        {
            "count": todo["listings"],
            "label": _("Products waiting for approval"),
            "url": reverse("farmers:listings"),
        },
    ]
    if not scope.is_post_office:
        tasks.append(
            {
                "count": todo["certificates"],
                "label": _("Certificates to verify"),
                "url": reverse("farmers:certificates"),
            }
        )
    pages = [
        {
            "label": _("Member list"),
            "url": members,
            "hint": _("%(count)s approved") % {"count": counts.get(Member.Status.APPROVED, 0)},
        },
        {"label": _("Register a member"), "url": reverse("farmers:member-create")},
        {
            "label": _("Import a member list"),
            "url": reverse("farmers:imports"),
            "hint": _("%(count)s in progress") % {"count": todo["imports"]}
            if todo["imports"]
            else "",
        },
        {"label": _("Onboarding reports"), "url": reverse("farmers:reports")},
        {"label": _("Products of members"), "url": reverse("farmers:listings")},
    ]
    if not scope.is_post_office:
        pages.append(
            {"label": _("Certificates of members"), "url": reverse("farmers:certificates")}
        )
        # Pre-orders for the coming harvest, of the producers in the scope.
        pages.append(
            {"label": _("Pre-orders for the harvest"), "url": reverse("preorders:producer-windows")}
        )
    if scope.everything or scope.is_association:
        # What the members expect to harvest in the coming weeks (traceability.outlook).
        pages.append(
            {"label": _("Harvest outlook"), "url": reverse("traceability:harvest-outlook")}
        )
    if scope.everything or scope.is_post_office:
        pages.append({"label": _("Post office"), "url": reverse("fulfilment:post-home")})
    return render(
        request,
        "farmers/staff_home.html",
        {
            "membership": scope.membership,
            "organisations": scope.organisations(),
            "tasks": tasks,
            "pages": pages,
        },
    )
