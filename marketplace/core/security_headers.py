"""The Content-Security-Policy header, as django-csp writes it, built once.

django-csp builds the policy string from settings twice for every response (the policy
and the report-only policy). A response that changes nothing (no csp_update, csp_replace
or csp_exempt decorator, no nonce asked for) gets the same string every time: it is built
once per settings and reused. Every other response goes through django-csp unchanged.
"""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# Response attributes set by django-csp's decorators: such a response takes django-csp's path.
_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG")
_built: dict = {}


@receiver(setting_changed)
def _forget(setting, **_kwargs):
    if setting in _SETTINGS:
        _built.clear()


def _plain_policies() -> tuple:
    """(policy, its excluded prefixes, report-only policy, its excluded prefixes)."""
    if not _built:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
        _built["plain"] = (
            build_policy(),
            tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()),
            build_policy(report_only=True),
            tuple(report_only.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
    return _built["plain"]


class PrecomputedCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _OVERRIDES
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves Django's debug pages alone
        csp, prefixes, csp_ro, prefixes_ro = _plain_policies()
        path = request.path_info
        if csp and HEADER not in response and not (prefixes and path.startswith(prefixes)):
            response[HEADER] = csp
        if (
            csp_ro
            and HEADER_REPORT_ONLY not in response
            and not (prefixes_ro and path.startswith(prefixes_ro))
        ):
            response[HEADER_REPORT_ONLY] = csp_ro
        # As django-csp: asking for a nonce once the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
