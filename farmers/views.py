from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import access


@login_required
def staff_home(request):
    """Landing page of association and post-office staff: who they are, what they cover."""
    scope = access.staff_scope(request, hide=False)
    return render(
        request,
        "farmers/staff_home.html",
        {"membership": scope.membership, "organisations": scope.organisations()},
    )
