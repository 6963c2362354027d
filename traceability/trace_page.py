"""The public trace page's HTML: its one markup, written here rather than as a template.

The page is rendered once for every first scan of a lot (and again whenever the lot
changes): with Django's template language that was the largest share of a cold scan's
CPU (each {% trans %} and variable goes through the template machinery, each number and
date through localize), while the page is small and on its own (no base template, no
include, no JavaScript; inline style from trace_page.css, allowed by the CSP). Here it
is plain string building with the same rules the template applied:

- every value is escaped as the template escaped it (`_v`: numbers as localize writes
  them, None as "None"), the translated labels ({% trans %}) too, and a sentence with
  values ({% blocktrans %}) gets its values escaped, the translation as it is;
- dates as the `date` filter writes "d/m/Y" (dd/mm/yyyy, the site's one format) and
  "d/m/Y H:i", recall dates in the site's time zone, event times where they happened;
- the msgids are the template's (the .po entries stay); `ngettext` where it counted.

render(context) takes what views.render_trace_page gathers and returns the page.
"""

import functools
import re
import threading
from html import escape
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as django_gettext

from marketplace.core import geo

from .models import FarmEvent

STYLE = (Path(__file__).with_name("trace_page.css")).read_text(encoding="utf-8")
# What get_kind_display gives, without building the choices again for every event.
KIND_LABELS = dict(FarmEvent.Kind.choices)


def _v(value) -> str:
    """A value as the template wrote {{ value }}: localized when it is not text, then
    escaped (safe strings as they are). Whole numbers as localize writes them without a
    thousands separator (the site uses none: settings.USE_THOUSAND_SEPARATOR)."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    if type(value) is not str:
        value = localize(value)
        if not isinstance(value, str):
            value = str(value)
        if hasattr(value, "__html__"):
            return str(value)
    return escape(value)


class _Catalog(dict):
    """A language's messages as this page uses them, looked up in Django's catalog the
    first time (msgids are the page's own constants)."""

    def __init__(self, escaped: bool):
        super().__init__()
        self.escaped = escaped

    def __missing__(self, msgid: str) -> str:
        text = django_gettext(msgid)
        self[msgid] = value = escape(text) if self.escaped else text
        return value


_catalogs: dict = {}  # {language: (escaped, as they are)}
_current = threading.local()  # the catalogs of the page being rendered


@receiver(setting_changed)
def _forget(setting, **_kwargs):
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "USE_I18N"):
        _catalogs.clear()


# Named as gettext's keywords, so that makemessages finds the page's msgids.
def _(msgid: str) -> str:
    """{% trans msgid %}: translated, then escaped."""
    return _current.escaped[msgid]


def gettext(msgid: str) -> str:
    """The translation of a {% blocktrans %} sentence (its values are escaped, not it)."""
    return _current.raw[msgid]


_PLAIN = re.compile(r"^[-A-Za-z0-9_]+$")
_STAND_IN = "zz0standin0zz"


@functools.cache
def _around(name: str, kwarg: str, language, prefix: str, urlconf, root: str) -> tuple:
    """reverse(name) with a stand-in for its one keyword argument, split around it."""
    before, _found, after = reverse(name, kwargs={kwarg: _STAND_IN}).partition(_STAND_IN)
    return before, after


def reverse_one(name: str, **kwargs) -> str:
    """reverse(name, kwargs=kwargs) for a URL of one argument (a short code, a slug),
    worked out once a language and process: the argument, when it is letters, digits,
    "-" or "_" (written as they are), goes between the parts around it."""
    ((kwarg, value),) = kwargs.items()
    if not isinstance(value, str) or not _PLAIN.match(value):
        return reverse(name, kwargs=kwargs)
    before, after = _around(
        name, kwarg, get_language(), get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    )
    return f"{before}{value}{after}"


def _dmy(value) -> str:
    """The `date` filter with "d/m/Y" ("" for no date)."""
    if value is None or value == "":
        return ""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def _dmy_hm(value) -> str:
    """The `date` filter with "d/m/Y H:i", the time as it is (no time zone change)."""
    return f"{_dmy(value)} {value.hour:02d}:{value.minute:02d}"


@functools.cache
def _province_options(choices: tuple) -> str:
    return "".join(f'<option value="{_v(code)}">{_v(name)}</option>' for code, name in choices)


def province_options() -> str:
    """The <option>s of the province question (the list of provinces never changes while
    the process runs: built once)."""
    return _province_options(tuple(geo.province_choices()))


def _header(c) -> list[str]:
    language, other = c["language"], c["other_language"]
    links = c["links"]
    return [
        '<!doctype html>\n<html lang="',
        _v(language),
        '">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>',
        gettext("Origin of %(product)s") % {"product": _v(c["product_title"])},
        ' | Nông sản</title>\n<link rel="alternate" hreflang="vi" href="',
        _v(links["short"]["vi"]),
        '">\n<link rel="alternate" hreflang="en" href="',
        _v(links["short"]["en"]),
        '">\n<style>\n',
        STYLE,
        '</style>\n<script type="application/ld+json">',
        c["ld_json"],
        '</script>\n</head>\n<body>\n<main>\n<header>\n<a href="/',
        f"{_v(language)}/" if language != "vi" else "",
        '">Nông sản</a>\n<a href="',
        _v(c["other_language_url"]),
        '" hreflang="',
        _v(other),
        '" lang="',
        _v(other),
        '">',
        "English" if other == "en" else "Tiếng Việt",
        "</a>\n</header>\n\n",
    ]


def _recall(c) -> list[str]:
    recall = c["recall"]
    if not recall:
        return []
    recalled_on = _dmy(timezone.localtime(recall.recalled_at))
    return [
        '<div class="box recall" role="alert"><strong>',
        _("Recalled: do not eat or use this product"),
        "</strong><br>",
        gettext("This lot was recalled on %(date)s.") % {"date": _v(recalled_on)},
        " ",
        _("Reason"),
        ": ",
        _v(recall.reason),
        "</div>",
    ]


def _verdict(c) -> list[str]:
    verdict = c["verdict"]
    bundle_url = _v(c["bundle_url"])
    if verdict.state == "intact":
        return [
            '\n<p class="box ok"><strong>',
            _("Record intact"),
            '</strong><br><span class="muted">',
            gettext(
                "Every fact on this page matches the records the marketplace signed and "
                "entered in its public log (checked against the log of %(size)s records): "
                "nothing has been changed or removed since."
            )
            % {"size": _v(verdict.log_size)},
            ' <a href="',
            bundle_url,
            '">',
            _("Proof to check yourself"),
            "</a></span></p>\n",
        ]
    if verdict.state == "pending":
        return [
            '\n<p class="box"><strong>',
            _("Not verified yet"),
            '</strong><br><span class="muted">',
            _(
                "This lot was recorded before the public log; it enters the log at the next "
                "daily checkpoint."
            ),
            "</span></p>\n",
        ]
    return [
        '\n<div class="box bad" role="alert"><strong>',
        _("Warning: this record has been changed"),
        "</strong><ul>",
        *(f"<li>{_v(m)}</li>" for m in c["verdict_messages"]),
        "</ul>",
        _("Do not rely on this history; contact the producer or the marketplace."),
        ' <a href="',
        bundle_url,
        '">',
        _("Proof to check yourself"),
        "</a></div>\n",
    ]


def _facts(c) -> list[str]:
    lot, producer = c["lot"], c["producer"]
    out = ['<div class="box">\n<dl>\n<dt>', _("Producer"), '</dt><dd><a href="']
    out += [_v(c["shop_url"]), '">', _v(c["producer_name"]), "</a></dd>\n"]
    if c["brand"]:
        out += ["<dt>", _("Brand"), "</dt><dd>", _v(c["brand"]), "</dd>"]
    out += ["\n<dt>", _("Address"), "</dt><dd>"]
    if producer.address_line:
        out += [_v(producer.address_line), ", "]
    out += [_v(producer.location), "</dd>\n<dt>", _("Origin"), "</dt><dd>", _v(lot.location)]
    if lot.latitude is not None:
        out += [
            ' <span class="muted">(',
            escape(str(localize(lot.latitude, use_l10n=False))),
            ", ",
            escape(str(localize(lot.longitude, use_l10n=False))),
            ")</span>",
        ]
    out += ["</dd>\n<dt>", _("Lot"), "</dt><dd>", _v(lot.code), "</dd>\n"]
    gtin = c["links"]["gtin"]
    if gtin:
        out += ["<dt>GTIN</dt><dd>", _v(gtin), "</dd>"]
    out += ["\n<dt>", _("Trace code"), "</dt><dd>", _v(lot.short_code), "</dd>\n"]
    out += ["<dt>", _("Quantity"), "</dt><dd>", _v(lot.quantity.normalize()), " "]
    out += [_v(lot.unit), "</dd>\n"]
    if c["harvested_on"]:
        out += ["<dt>", _("Harvested"), "</dt><dd>", _dmy(c["harvested_on"]), "</dd>"]
    out.append("\n")
    if lot.production_date:
        out += ["<dt>", _("Production date"), "</dt><dd>", _dmy(lot.production_date), "</dd>"]
    out += ["\n<dt>", _("Expiry date"), "</dt><dd>"]
    out.append(_dmy(lot.expiry_date) if lot.expiry_date else _("not given"))
    out += ["</dd>\n<dt>", _("Standards applied"), "</dt><dd>"]
    standards = c["standards"]
    out.append("; ".join(_v(s) for s in standards) if standards else _("not given"))
    out.append("</dd>\n</dl>\n</div>\n\n")
    return out


def _certificates(c) -> list[str]:
    out = ["<h2>", _("Certificates valid at harvest"), "</h2>\n"]
    certificates = c["certificates"]
    if not certificates:
        out += [
            '\n<p class="muted">',
            _("No verified certificate covered this product at harvest time."),
            "</p>\n",
        ]
        return out
    out.append("\n<ul>")
    for cert in certificates:
        valid = gettext("valid %(start)s – %(end)s") % {
            "start": _v(_dmy(cert.valid_from)),
            "end": _v(_dmy(cert.valid_until)),
        }
        out += [
            f"<li><strong>{_v(cert.badge_label)}</strong> {_v(cert.number)} — ",
            f'{_v(cert.issuer)} <span class="muted">({valid})</span></li>',
        ]
    out.append("</ul>\n")
    return out


def _pre_harvest(c) -> list[str]:
    rows = c["pre_harvest"]
    if not rows:
        return []
    out = ["\n<h2>", _("Fertilisers and pesticides"), "</h2>\n<table>\n<tr><th>"]
    out += [_("Product applied"), "</th><th>", _("Pre-harvest interval"), "</th><th>"]
    out += [_("Harvest"), "</th></tr>\n"]
    for p in rows:
        out += ["\n<tr", ' class="warn"' if p.ok is False else "", ">\n<td>"]
        out += [_v(p.product_name), '<br><span class="muted">', _dmy(p.applied_on)]
        out += ["</span></td>\n<td>"]
        days = p.interval_days
        out.append(ngettext("%(days)s day", "%(days)s days", days) % {"days": _v(days)})
        out.append("</td>\n<td>")
        if p.ok is None:
            out.append(_("not harvested yet"))
        elif p.ok:
            text = ngettext(
                "%(days)s day after, interval respected",
                "%(days)s days after, interval respected",
                p.days,
            )
            out += ["✔ ", text % {"days": _v(p.days)}]
        else:
            text = ngettext(
                "only %(days)s day after: harvested before the interval ended",
                "only %(days)s days after: harvested before the interval ended",
                p.days,
            )
            out += ["✘ ", text % {"days": _v(p.days)}]
        out.append("</td>\n</tr>\n")
    out.append("\n</table>\n")
    return out


def _timeline(c) -> list[str]:
    out = ["<h2>", _("From farm to package"), "</h2>\n"]
    rows = c["rows"]
    if not rows:
        out += ['\n<p class="muted">', _("No event recorded yet."), "</p>\n"]
        return out
    correction = c["CORRECTION"]
    photo = corrected_by = None
    out.append('\n<ol class="tl">\n')
    for row in rows:
        e = row.event
        sequence = _v(e.sequence)
        out += ['\n<li id="e', sequence, '" class="']
        if row.corrected_by:
            out.append("corrected")
        if e.kind == correction:
            out.append(" correction")
        out += ['">\n<span class="muted">#', sequence, '</span> <strong class="what">']
        out += [_v(KIND_LABELS.get(e.kind, e.kind)), '</strong> <span class="muted">']
        out.append(_dmy_hm(row.local_time))
        if e.location:
            out += [" · ", _v(e.location)]
        out.append("</span>\n")
        lines = row.lines
        if lines:
            out.append("<dl>")
            for label, value in lines:
                out += ["<dt>", _v(label), "</dt><dd>", _v(value), "</dd>"]
            out.append("</dl>")
        out.append("\n")
        urls = row.photo_urls
        if urls:
            photo = photo or _("Photo")
            out.append('<p class="ev-photos">')
            for counter, url in enumerate(urls, start=1):
                out += [f'<a href="{_v(url)}"><img src="{_v(url)}" loading="lazy" width="96" ']
                out.append(f'height="96" alt="{photo} {counter}"></a> ')
            out.append("</p>")
        out.append("\n")
        if row.corrects_sequence:
            n = _v(row.corrects_sequence)
            out += ['<div class="muted">', _("Corrects event"), f' <a href="#e{n}">#{n}</a></div>']
        out.append("\n")
        for fix in row.corrected_by:
            corrected_by = corrected_by or _("Corrected by")
            n = _v(fix.sequence)
            details = fix.details
            reason = (
                _v(details["reason"]) if isinstance(details, dict) and "reason" in details else ""
            )
            out.append(
                f'<div class="warn">{corrected_by} <a href="#e{n}">#{n}</a> ({reason})</div>'
            )
        out.append("\n</li>\n")
    out.append("\n</ol>\n")
    return out


def render(c) -> str:
    """The page for the context views.render_trace_page gathers, in the active language."""
    language = get_language()
    catalogs = _catalogs.get(language)
    if catalogs is None:
        catalogs = _catalogs[language] = (_Catalog(escaped=True), _Catalog(escaped=False))
    _current.escaped, _current.raw = catalogs
    lot = c["lot"]
    out = _header(c)
    out += _recall(c)
    out += ["\n<h1>", _v(c["product_title"]), "</h1>\n", c["serial_marker"], "\n"]
    image_url = c["image_url"]
    if image_url:
        url = _v(image_url)
        out += [f'<a href="{url}"><img class="photo" src="{url}" loading="lazy" alt="']
        out += [_v(c["product_title"]), '"></a>']
    out.append("\n\n")
    out += _verdict(c)
    out.append("\n\n")
    refusals = c["refusals"]
    if refusals:
        out += [
            '<div class="box bad" role="alert" id="not-for-sale"><strong>',
            _("Not for sale: do not buy or eat this lot"),
            "</strong><ul>",
            *(f"<li>{_v(r.message)}</li>" for r in refusals),
            "</ul>",
            _("Other lots of this product may still be on sale from the producer."),
            "</div>",
        ]
    out.append("\n\n")
    if c["pre_harvest_violation"]:
        out += [
            '\n<p class="box bad"><strong>',
            _("Harvested before the pre-harvest interval ended"),
            "</strong><br>",
            _(
                "A pesticide or fertiliser was applied too close to the harvest. See the "
                "details below."
            ),
            "</p>\n",
        ]
    out.append("\n\n")
    out += _facts(c)
    if not refusals:
        out += ['<a class="buy" href="', _v(c["product_url"]), '">', _("Buy this product")]
        out.append("</a>")
    out.append("\n\n")
    out += _certificates(c)
    out.append("\n\n")
    out += _pre_harvest(c)
    out.append("\n\n")
    out += _timeline(c)
    action = _v(reverse_one("traceability:scan-province", short_code=lot.short_code))
    out += [
        f'\n\n<form class="box" method="get" action="{action}">\n<label for="tinh">',
        _("Share your province with the producer (optional)"),
        '</label><br>\n<select id="tinh" name="tinh"><option value="">—</option>',
        province_options(),
        '</select>\n<button type="submit">',
        _("Share your province"),
        '</button>\n</form>\n\n<p class="muted">',
        gettext(
            "Information recorded by the producer under Circular 02/2024/TT-BKHCN on product "
            "traceability. Times are local times where each event happened."
        ),
        "</p>\n</main>\n</body>\n</html>\n",
    ]
    return "".join(out)
