"""Django's WSGI handler (config.wsgi, what gunicorn serves), with each address's URL
resolution remembered.

Resolving an address walks the URL patterns in order until one matches: the basket and
the checkout, Oscar's patterns, come after some 170 others (0.1 to 0.3 ms of CPU a
request). What an address resolves to depends only on the address, the language (the
"/en/" prefix) and the URL patterns, which do not change while a worker runs: the handler
keeps it per (patterns, language, address) and gives each request its own ResolverMatch
(its own kwargs), built from the one kept. Addresses that resolve to no page (404) are
resolved every time; a request with its own urlconf is resolved as Django does.
"""

from django.core.handlers.wsgi import WSGIHandler
from django.urls import ResolverMatch, get_resolver
from django.utils.translation import get_language

# Addresses kept per worker; past that, forgotten all at once and kept again.
MAX_ADDRESSES = 2048


class ResolvingWSGIHandler(WSGIHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resolved = {}

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
