from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.urls import reverse


def healthz(request):
    """Liveness/readiness probe for the load balancer and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def server_error(request):
    """500 page rendered without context processors: it must work when the database
    (which the basket, search form and notification counters query) is what failed."""
    html = loader.get_template("oscar/500.html").render({"homepage_url": reverse("home")})
    return HttpResponseServerError(html)
