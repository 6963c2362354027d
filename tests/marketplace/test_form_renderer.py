"""The form renderer writes Django's simplest widget templates out in Python
(marketplace.core.form_renderer): what it produces must be exactly what the templates
produce, for every kind of widget and value a form here shows, escaping included."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from marketplace.core.form_renderer import FormRenderer
from marketplace.payments.address_forms import ShippingAddressForm

CHOICES = [
    ("", "Chọn tỉnh"),
    (66, "Đắk Lắk"),
    ("a&b", 'Tên "có" <b>thẻ</b>'),
    (Decimal("1.5"), 1234567),
    (_("Nhóm"), [(1, _("Sầu riêng")), (2, mark_safe("<i>Tiêu</i>"))]),
]


class Everything(forms.Form):
    text = forms.CharField(initial='a "quoted" <value> & more', max_length=20)
    empty = forms.CharField(required=False)
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    number = forms.DecimalField(initial=Decimal("12345.50"))
    integer = forms.IntegerField(initial=0, widget=forms.NumberInput(attrs={"min": 0}))
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="x<y")
    hidden = forms.CharField(widget=forms.HiddenInput, initial=mark_safe("<safe>"))
    day = forms.DateField(initial=datetime.date(2026, 12, 7))
    when = forms.DateTimeField(initial=datetime.datetime(2026, 12, 7, 8, 30))
    url = forms.URLField(initial="https://nongsan.test/?a=1&b=2", assume_scheme="https")
    agree = forms.BooleanField(initial=True)
    disagree = forms.BooleanField(required=False)
    notes = forms.CharField(widget=forms.Textarea, initial="dòng 1\n<dòng 2>")
    blank_notes = forms.CharField(widget=forms.Textarea, required=False)
    province = forms.TypedChoiceField(choices=CHOICES, initial=66, coerce=str)
    many = forms.MultipleChoiceField(choices=CHOICES, initial=["a&b", 1])
    radio = forms.ChoiceField(
        choices=CHOICES, initial=66, widget=forms.RadioSelect(attrs={"class": "r&r"})
    )
    radio_plain = forms.ChoiceField(choices=[(1, "Một"), (2, "Hai")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=CHOICES, initial=[2], widget=forms.CheckboxSelectMultiple
    )
    flags = forms.CharField(
        widget=forms.TextInput(attrs={"disabled": True, "readonly": False, "data-x": 3.5})
    )


def both(form):
    """Each field's widget as the renderer here and Django's TemplatesSetting render it."""
    fast, slow = FormRenderer(), TemplatesSetting()
    for name in form.fields:
        bound = form[name]
        widget, value, attrs = bound.field.widget, bound.value(), bound.build_widget_attrs({})
        yield (
            name,
            (
                widget.render(bound.html_name, value, attrs, fast),
                widget.render(bound.html_name, value, attrs, slow),
            ),
        )


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("bound", [False, True])
def test_every_widget_renders_exactly_as_djangos_templates(language, bound):
    data = {"text": "<b>x</b>", "province": "a&b", "many": ["66", "2"], "agree": "on"}
    with translation.override(language):
        form = Everything(data if bound else None)
        for name, (fast, slow) in both(form):
            assert fast == slow, name


@pytest.mark.django_db
def test_the_checkout_address_form_renders_exactly_as_before():
    with translation.override("vi"):
        form = ShippingAddressForm()
        for name, (fast, slow) in both(form):
            assert fast == slow, name
        assert 'name="province"' in str(form)


def test_a_template_overridden_in_the_project_still_renders_through_the_engine(settings, tmp_path):
    widgets = tmp_path / "django" / "forms" / "widgets"
    widgets.mkdir(parents=True)
    (widgets / "input.html").write_text('<input data-own name="{{ widget.name }}">')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    html = forms.TextInput().render("x", "y", renderer=FormRenderer())
    assert html == '<input data-own name="x">'
