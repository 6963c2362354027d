"""The form renderer (settings.FORM_RENDERER): Django's TemplatesSetting, so that templates/
can override any widget template, with Django's own simplest widget templates (inputs,
select and its options, textarea, radio and checkbox lists) written out in Python.

Rendering a widget through the template engine costs about a millisecond, a select of the
34 provinces (one included template per option) several: the checkout's address form alone
spent a quarter of its page's CPU there. The Python below produces exactly what Django's
templates produce (tests/marketplace/test_form_renderer.py compares both over many widgets);
a template that templates/ or an app overrides, and any widget template not listed here,
still renders through the engine.
"""

from functools import cached_property
from pathlib import Path

from django import forms
from django.forms.renderers import TemplatesSetting
from django.template import TemplateDoesNotExist
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime

WIDGETS = "django/forms/widgets/"
DJANGO_TEMPLATES = Path(forms.__file__).parent / "templates"


def _value(value) -> str:
    """`{{ value }}` in a template: local time, localized, escaped unless already safe."""
    value = localize(template_localtime(value))
    return conditional_escape(value if isinstance(value, str) else str(value))


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: safe stays safe, the rest is escaped."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (TypeError, ValueError):
        return ""
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_value(name)}")
        else:
            out.append(f' {_value(name)}="{_formatted(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (and every template that only includes it)."""
    try:
        has_value = widget["value"] != None  # noqa: E711 - the template's comparison
    except Exception:  # the template's {% if %} treats an error as false
        has_value = False
    value = f' value="{_formatted(widget["value"])}"' if has_value else ""
    return (
        f'<input type="{_value(widget["type"])}" name="{_value(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>\n"
    )


def _input_option(widget: dict) -> str:
    """django/forms/widgets/input_option.html"""
    html = _input(widget)
    if not widget.get("wrap_label"):
        return html + "\n"
    id_ = widget["attrs"].get("id")
    label_for = f' for="{_value(id_)}"' if id_ else ""
    return f"<label{label_for}>{html} {_value(widget['label'])}</label>\n"


def _select_option(widget: dict) -> str:
    """django/forms/widgets/select_option.html"""
    return (
        f'<option value="{_formatted(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{_value(widget['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html"""
    out = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_value(group_name)}">')
        for option in group_choices:
            out.append("\n  " + _OPTIONS[option["template_name"]](option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _multiple_input(widget: dict) -> str:
    """django/forms/widgets/multiple_input.html (radio and checkbox lists)."""
    id_ = widget["attrs"].get("id")
    class_ = widget["attrs"].get("class")
    out = ["<div"]
    if id_:
        out.append(f' id="{_value(id_)}"')
    if class_:
        out.append(f' class="{_value(class_)}"')
    out.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_value(group)}</label>")
        for option in options:
            out.append("<div>\n    " + _OPTIONS[option["template_name"]](option) + "</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>\n")
    return "".join(out)


def _textarea(widget: dict) -> str:
    """django/forms/widgets/textarea.html"""
    value = _value(widget["value"]) if widget["value"] else ""
    name, attrs = _value(widget["name"]), _attrs(widget["attrs"])
    return f'<textarea name="{name}"{attrs}>\n{value}</textarea>\n'


_INPUTS = (
    *("checkbox", "color", "date", "datetime", "email", "file", "hidden", "number"),
    *("password", "search", "tel", "text", "time", "url"),
)
# Templates that are `{% include "…" %}` of another and a newline add that newline.
_WIDGETS = {
    **{f"{WIDGETS}{name}.html": lambda w: _input(w) + "\n" for name in _INPUTS},
    f"{WIDGETS}input.html": _input,
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}radio.html": lambda w: _multiple_input(w) + "\n",
    f"{WIDGETS}checkbox_select.html": lambda w: _multiple_input(w) + "\n",
}
_OPTIONS = {
    f"{WIDGETS}select_option.html": _select_option,
    f"{WIDGETS}radio_option.html": lambda w: _input_option(w) + "\n",
    f"{WIDGETS}checkbox_option.html": lambda w: _input_option(w) + "\n",
}
# A radio button or checkbox rendered on its own ({{ radio.tag }} in a template).
_WIDGETS.update(_OPTIONS)
# What the Python above reads in turn: each must be Django's own for it to stand in.
_READ = {
    f"{WIDGETS}{name}"
    for name in ("attrs.html", "input.html", "input_option.html", "multiple_input.html")
}


class FormRenderer(TemplatesSetting):
    @cached_property
    def _python(self) -> dict:
        """The templates written out above that nothing overrides (found where Django
        keeps them), each with its function."""

        def own(name):
            try:
                origin = self.get_template(name).template.origin.name
            except TemplateDoesNotExist:
                return False
            return Path(origin).is_relative_to(DJANGO_TEMPLATES)

        if not all(own(name) for name in _READ | set(_OPTIONS)):
            return {}
        return {name: render for name, render in _WIDGETS.items() if own(name)}

    def render(self, template_name, context, request=None):
        render = self._python.get(template_name)
        widget = context.get("widget") if render else None
        if widget is None or not _options_known(widget):
            return super().render(template_name, context, request=request)
        return mark_safe(render(widget).strip())


def _options_known(widget: dict) -> bool:
    for _group, options, _index in widget.get("optgroups", ()):
        for option in options:
            if option.get("template_name") not in _OPTIONS:
                return False
    return True
