from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from . import selectors


@login_required
def staff_home(request):
    """Landing page of association and post-office staff: who they are, what they cover."""
    membership = selectors.membership_for(request.user)
    if membership is None and not request.user.is_superuser:
        raise PermissionDenied
    organisations = selectors.organisations_visible_to(request.user)
    return render(
        request,
        "farmers/staff_home.html",
        {"membership": membership, "organisations": organisations},
    )
