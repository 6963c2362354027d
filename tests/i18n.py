"""Find the strings a page shows untranslated.

`record_untranslated("vi")` wraps Django's gettext family while a page renders and
collects every msgid that came back unchanged in that language, whether from a
template tag, a lazy form label or a Python message.
"""

import re
from contextlib import contextmanager

from django.utils import translation
from django.utils.translation import _trans

# Strings that are the same in Vietnamese: brand names, codes, symbols.
SAME_IN_VIETNAMESE = {
    "Nông sản",
    "Email",
    "E-mail",
    "SKU",
    "UPC",
    "VietQR",
    "COD",
    "OCOP",
    "VietGAP",
    "GlobalGAP",
    "GTIN",
    "English",
    "Tiếng Việt",
    "Menu",
    "Oscar",
    "%(num_results)s",
}


PLACEHOLDER = re.compile(r"%\([a-z_.]+\)[sd]|\{[a-z_.]+\}")


def _is_translatable(msgid: str) -> bool:
    """Has words to translate: not only placeholders, symbols or names kept as they are."""
    text = msgid.strip()
    if not any(ch.isalpha() for ch in PLACEHOLDER.sub("", text)):
        return False
    return bool(text) and any(ch.isalpha() for ch in text) and text not in SAME_IN_VIETNAMESE


@contextmanager
def record_untranslated(language: str = "vi"):
    missing: set[str] = set()
    wrapped = {}

    def check(msgid, result):
        if translation.get_language() == language and result == msgid and _is_translatable(msgid):
            missing.add(msgid)

    def wrap(name):
        original = getattr(_trans, name)  # resolves Django's lazy attribute first
        wrapped[name] = original

        def gettext(message):
            result = original(message)
            check(message, result)
            return result

        def pgettext(context, message):
            result = original(context, message)
            check(message, result)
            return result

        def ngettext(singular, plural, number):
            result = original(singular, plural, number)
            check(singular if number == 1 else plural, result)
            return result

        def npgettext(context, singular, plural, number):
            result = original(context, singular, plural, number)
            check(singular if number == 1 else plural, result)
            return result

        return {
            "gettext": gettext,
            "pgettext": pgettext,
            "ngettext": ngettext,
            "npgettext": npgettext,
        }[name]

    for name in ("gettext", "pgettext", "ngettext", "npgettext"):
        setattr(_trans, name, wrap(name))
    try:
        yield missing
    finally:
        for name, original in wrapped.items():
            setattr(_trans, name, original)
