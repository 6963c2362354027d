"""Django's WSGI handler (config.wsgi, what gunicorn serves), with each address's URL
resolution remembered.

Resolving an address walks the URL patterns in order until one matches: the basket and
the checkout, Oscar's patterns, come after some 170 others (0.1 to 0.3 ms of CPU a
request). What an address resolves to depends only on the address, the language (the
"/en/" prefix) and the URL patterns, which do not change while a worker runs: the handler
keeps it per (patterns, language, address) and gives each request its own ResolverMatch
(its own kwargs), built from the one kept. Addresses that resolve to no page (404) are
resolved every time; a request with its own urlconf is resolved as Django does.

Early answers: an app may answer some requests whole before Django builds the request
object, runs its request signals and the middleware chain (traceability: a short link's
page its middleware keeps, several times a second from phones scanning labels). It
registers, with register_early_answer, the middleware that answers those requests in the
stack and a function of the WSGI environ that finds the answer (a function that gives
the status, the headers and the body; it makes no SQL query), or None. The handler then
does for the answer what the middleware above that one in settings.MIDDLEWARE would
have done, with the same functions: Prometheus's request and response counts and latency
(PrometheusBeforeMiddleware), the request id in the log lines, the X-Request-ID header and
the access log line (observability.RequestIdMiddleware), and SecurityMiddleware's redirect
to HTTPS (the request then goes through the stack, which redirects) and headers. When any
other middleware stands above it, nothing is answered early: the stack answers. No request
signal is sent for an early answer: their receivers (query logs, the database connection's
age and health, sorl's per-request source cache, the urlconf) keep per-request state such
an answer never touches, and the next request through the stack runs them as ever.
"""

import time

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, get_path_info, get_script_name
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import ResolverMatch, get_resolver
from django.utils.translation import get_language

from . import observability

# Addresses kept per worker; past that, forgotten all at once and kept again.
MAX_ADDRESSES = 2048

PROMETHEUS_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
REQUEST_ID = "marketplace.core.observability.RequestIdMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
# What the handler does itself for an early answer, in place of these middleware.
STANDS_IN_FOR = {PROMETHEUS_BEFORE, REQUEST_ID, SECURITY}

_early_answers: list = []  # (middleware's dotted path, find)


def register_early_answer(middleware: str, find) -> None:
    """`find(environ)`: None, or a function without arguments that gives (status line,
    [(header, value)…], body bytes) for the request, as `middleware` would answer it."""
    if all(registered != middleware for registered, _find in _early_answers):
        _early_answers.append((middleware, find))


def _is_secure(environ) -> bool:
    """HttpRequest.is_secure() for an environ: SECURE_PROXY_SSL_HEADER when the proxy sent
    it, else the server's scheme."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


class _SchemeOnly:
    """What SecurityMiddleware.process_response reads of a request."""

    def __init__(self, secure):
        self.secure = secure

    def is_secure(self):
        return self.secure


_security_headers: dict = {}  # {secure: [(header, value)…]}


@receiver(setting_changed)
def _forget_security_headers(**_kwargs):
    _security_headers.clear()


def security_headers(secure: bool) -> list:
    """The headers SecurityMiddleware adds to a response (HSTS over HTTPS only), from the
    middleware itself, once per process."""
    headers = _security_headers.get(secure)
    if headers is None:
        response = SecurityMiddleware(lambda request: None).process_response(
            _SchemeOnly(secure), HttpResponse()
        )
        headers = [
            (name, value)
            for name, value in response.items()
            if name.lower() not in ("content-type",)
        ]
        _security_headers[secure] = headers
    return headers


class ResolvingWSGIHandler(WSGIHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resolved = {}
        # The finders whose middleware has only STANDS_IN_FOR above it, with what is above.
        self._early = []
        middleware = list(settings.MIDDLEWARE)
        for path, find in _early_answers:
            above = set(middleware[: middleware.index(path)]) if path in middleware else None
            if above is not None and above <= STANDS_IN_FOR:
                self._early.append((find, frozenset(above)))
        if any(PROMETHEUS_BEFORE in above for _find, above in self._early):
            from django_prometheus.middleware import Metrics
            from django_prometheus.utils import Time, TimeSince

            self._metrics, self._time, self._time_since = Metrics.get_instance(), Time, TimeSince
        # SecurityMiddleware reads it when it is made.
        self._ssl_redirect = settings.SECURE_SSL_REDIRECT

    def __call__(self, environ, start_response):
        for find, above in self._early:
            answer = find(environ)
            if answer is not None:
                if SECURITY in above and self._ssl_redirect and not _is_secure(environ):
                    break  # SecurityMiddleware redirects to HTTPS
                return self._answer_early(environ, start_response, answer, above)
        return super().__call__(environ, start_response)

    def _answer_early(self, environ, start_response, answer, above):
        started = time.monotonic()
        metrics = self._metrics if PROMETHEUS_BEFORE in above else None
        if metrics is not None:
            metrics.requests_total.inc()
            before = self._time()
        request_id = None
        if REQUEST_ID in above:
            request_id = observability.request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
            token = observability.bind_request_id(request_id)
        try:
            status, headers, body = answer()
            if request_id is not None:
                script_name = get_script_name(environ)
                path_info = get_path_info(environ) or "/"
                path = "{}/{}".format(script_name.rstrip("/"), path_info.replace("/", "", 1))
                observability.log_access(
                    environ["REQUEST_METHOD"], path, int(status[:3]), request_id, started
                )
        finally:
            if request_id is not None:
                observability.unbind_request_id(token)
        if SECURITY in above:
            present = {name.lower() for name, _value in headers}
            for name, value in security_headers(_is_secure(environ)):
                if name.lower() not in present:
                    headers.append((name, value))
        if request_id is not None:
            headers.append((observability.REQUEST_ID_HEADER, request_id))
        if metrics is not None:
            metrics.responses_total.inc()
            metrics.requests_latency_before.observe(self._time_since(before))
        start_response(status, headers)
        return [body]

    def resolve_request(self, request):
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver = get_resolver()
        key = (resolver, get_language(), request.path_info)
        kept = self._resolved.get(key)
        if kept is None:
            match = resolver.resolve(request.path_info)  # Resolver404: not kept
            kept = (
                match.func,
                match.args,
                match.kwargs,
                match.url_name,
                match.app_names,
                match.namespaces,
                match.route,
                match.captured_kwargs,
                match.extra_kwargs,
            )
            if len(self._resolved) >= MAX_ADDRESSES:
                self._resolved.clear()
            self._resolved[key] = kept
        func, args, kwargs, url_name, app_names, namespaces, route, captured, extra = kept
        match = ResolverMatch(
            func,
            args,
            dict(kwargs),
            url_name,
            app_names,
            namespaces,
            route,
            captured_kwargs=None if captured is None else dict(captured),
            extra_kwargs=None if extra is None else dict(extra),
        )
        request.resolver_match = match
        return match


def application():
    """What django.core.wsgi.get_wsgi_application() returns, with this handler."""
    import django

    django.setup(set_prefix=False)
    return ResolvingWSGIHandler()
