"""The site's header (oscar/partials/nav_accounts.html) without the template engine for a
visitor who has not signed in: every storefront and checkout page draws it.

For a visitor, the header differs from page to page only by the basket's count, the
search box's text, the language form's CSRF token and the path it returns to. The template
is rendered once per language and set of constant values (the shop's name, its home,
whether the page is a checkout step) with markers in those four places, and kept as pieces;
each page then joins the pieces with its own values, escaped as the template escapes them.
The bytes are the template's (tests/marketplace/test_header.py compares them). A signed-in
user's header (their role's links, notifications) is the template, rendered as before.

    {% load header_tags %}{% nav_accounts %}  or  {% nav_accounts checkout_page=True %}
"""

import threading
from types import SimpleNamespace

from django import template
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template
from django.utils.autoreload import file_changed
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

TEMPLATE = "oscar/partials/nav_accounts.html"
# Markers rendered in place of the values (letters, digits and dashes: escaping keeps them).
_COUNT = 918_273_645
_Q = "nsslot-q-3c9e1"
_NEXT = "nsslot-next-3c9e1"
_TOKEN = "nsslot-csrf-3c9e1"
_CSRF_INPUT = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_TOKEN}">'
_SLOTS = {
    str(_COUNT): "count",
    _Q: "q",
    _NEXT: "next",
    _CSRF_INPUT: "csrf",
}

_stencils: dict = {}
_lock = threading.Lock()


def _forget(**_kwargs):
    """In development, a changed template is read again (Django's autoreload): so is this."""
    _stencils.clear()


file_changed.connect(_forget, dispatch_uid="nongsan-header-stencils")


def _split(html: str) -> tuple:
    """The rendered header as (text, slot name, text, slot name, …, text)."""
    pieces = [html]
    for marker, slot in _SLOTS.items():
        split = []
        for piece in pieces:
            if isinstance(piece, tuple):
                split.append(piece)
                continue
            parts = piece.split(marker)
            for i, part in enumerate(parts):
                if i:
                    split.append((slot,))
                split.append(part)
        pieces = split
    return tuple(p[0] if isinstance(p, tuple) else p for p in pieces), tuple(
        isinstance(p, tuple) for p in pieces
    )


def _stencil(key, constants: dict, with_count: bool):
    stencil = _stencils.get((key, with_count))
    if stencil is None:
        request = SimpleNamespace(
            basket=SimpleNamespace(num_items=_COUNT if with_count else 0), GET={"q": _Q}
        )
        html = get_template(TEMPLATE).render(
            {
                **constants,
                "request": request,
                "user": AnonymousUser(),
                "role_home": None,
                "csrf_token": _TOKEN,
                "language_neutral_url_path": _NEXT,
            }
        )
        stencil = _split(html)
        with _lock:
            _stencils[(key, with_count)] = stencil
    return stencil


def _visitor_header(context, checkout_page: bool):
    request = context.get("request")
    basket = getattr(request, "basket", None)
    constants = {
        "homepage_url": context.get("homepage_url"),
        "shop_name": context.get("shop_name"),
        "LANGUAGES": context.get("LANGUAGES"),
        "LANGUAGE_CODE": context.get("LANGUAGE_CODE"),
        "checkout_page": checkout_page,
    }
    key = (
        get_language(),
        checkout_page,
        str(constants["homepage_url"]),
        str(constants["shop_name"]),
        str(constants["LANGUAGE_CODE"]),
        tuple(tuple(str(part) for part in pair) for pair in constants["LANGUAGES"] or ()),
    )
    count = basket.num_items
    pieces, is_slot = _stencil(key, constants, bool(count))
    values = {}
    out = []
    for piece, slot in zip(pieces, is_slot, strict=True):
        if not slot:
            out.append(piece)
            continue
        if piece not in values:
            values[piece] = _value(piece, context, request, count)
        out.append(values[piece])
    return mark_safe("".join(out))


def _value(slot: str, context, request, count) -> str:
    # As the template shows a value: localized, then escaped.
    if slot == "count":
        return str(conditional_escape(localize(count)))
    if slot == "q":
        return str(conditional_escape(localize(request.GET.get("q", ""))))
    if slot == "next":
        return str(conditional_escape(localize(context.get("language_neutral_url_path", ""))))
    # {% csrf_token %}: the token read (and the cookie set) only where the form is drawn.
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return str(format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token))


@register.simple_tag(takes_context=True)
def nav_accounts(context, checkout_page=None):
    """The header: pieced together for a visitor; the template for a signed-in user.
    `checkout_page` as `{% include … with checkout_page=… %}` gives it (else the
    context's)."""
    if checkout_page is None:
        checkout_page = context.get("checkout_page")
    user = context.get("user")
    request = context.get("request")
    if (
        user is not None
        and not user.is_authenticated
        and request is not None
        and hasattr(request, "basket")
        and isinstance(context.get("LANGUAGES"), list | tuple)
    ):
        return _visitor_header(context, bool(checkout_page))
    with context.push(checkout_page=checkout_page):
        return mark_safe(get_template(TEMPLATE).template.render(context))
