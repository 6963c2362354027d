"""Products in bulk, for a farmer's own shop and for staff on behalf of farmers in their
scope: a product list imported from a spreadsheet (upload, column mapping, progress,
report, template), and one page to change the price and stock of many products.

Whoever may list products for the producer may use them (marketplace.catalogue.listings
.may_list_for: the producer's own users, the operator, staff whose scope covers the
producer); anyone else signed in gets 404 (the pages do not tell that a producer or an
import exists), anonymous visitors are sent to sign in. The work is done by
farmers.imports.products and the listing services.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.core.numbers import parse_id
from marketplace.models import ProducerProfile, ProductListing

from .import_views import (
    LIGHT_FIELDS,
    ColumnsForm,
    UploadForm,
    job_state,
    mapping_shown,
    no_store,
    report_page,
)
from .imports import ImportFileError, expire_stale
from .imports import products as product_imports
from .models import ProductImport

StockRecord = get_model("partner", "StockRecord")

IMPORTS_SHOWN = 10
EDIT_PAGE_SIZE = 20
NUMERIC = {"inputmode": "numeric", "autocomplete": "off", "class": "form-control"}


def _producer(request, producer_slug) -> ProducerProfile:
    producer = ProducerProfile.objects.select_related("partner").filter(slug=producer_slug).first()
    if producer is None or not listings.may_list_for(request.user, producer):
        raise Http404
    return producer


def _frame(request, producer) -> dict:
    """Where the pages lead back to: the farmer's products, or staff's products of farmers."""
    if listings.runs_shop(request.user, producer):
        back = {"back_url": reverse("shop:products"), "back_label": _("My products")}
    else:
        back = {"back_url": reverse("farmers:listings"), "back_label": _("Products of farmers")}
    return {"producer": producer, **back}


def _record(request, producer_slug, pk, *, light=False):
    producer = _producer(request, producer_slug)
    records = ProductImport.objects.filter(producer=producer).select_related("created_by")
    if light:
        records = records.defer(*LIGHT_FIELDS)
    return producer, expire_stale(get_object_or_404(records, pk=pk))


class ProductUploadForm(UploadForm):
    file = forms.FileField(
        label=gettext_lazy("Product list (.xlsx or .csv)"),
        help_text=UploadForm.base_fields["file"].help_text,
        widget=UploadForm.base_fields["file"].widget,
        error_messages=UploadForm.base_fields["file"].error_messages,
    )


class ProductMappingForm(ColumnsForm):
    FIELDS = product_imports.FIELDS

    @classmethod
    def initial_for(cls, record) -> dict:
        guessed = product_imports.guess_product_mapping(record.headers)
        return {f"col_{index}": key for key, index in guessed.items()}

    def problems(self, mapping) -> list[str]:
        return product_imports.check_product_mapping(mapping, columns=len(self.record.headers))


# --- Import -------------------------------------------------------------------------------------


@login_required
def imports(request, producer_slug):
    """The producer's product imports, and the upload of a new list."""
    producer = _producer(request, producer_slug)
    form = ProductUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = product_imports.create_product_import(
                actor=request.user,
                producer=producer,
                upload=form.cleaned_data["file"],
                language=get_language() or "vi",
            )
        except ImportFileError as exc:
            form.add_error("file", exc.message)
        except PermissionDenied:
            raise Http404 from None
        else:
            return redirect("bulk:import-map", producer_slug=producer.slug, pk=record.pk)
    records = (
        ProductImport.objects.filter(producer=producer)
        .select_related("created_by")
        .defer(*LIGHT_FIELDS)[:IMPORTS_SHOWN]
    )
    return render(
        request,
        "farmers/products/imports.html",
        {
            **_frame(request, producer),
            "form": form,
            "records": records,
            "fields": product_imports.FIELDS,
            "approval_required": listings.approval_required(),
        },
    )


@login_required
@require_safe
def import_template(request, producer_slug):
    producer = _producer(request, producer_slug)
    response = HttpResponse(
        product_imports.template_product_xlsx(producer),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = _("product-list-template.xlsx")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)


@login_required
def import_map(request, producer_slug, pk):
    producer, record = _record(request, producer_slug, pk)
    detail = reverse("bulk:import-detail", args=[producer.slug, record.pk])
    if not record.awaiting_mapping:
        return redirect(detail)
    form = ProductMappingForm(
        request.POST or None, record=record, initial=ProductMappingForm.initial_for(record)
    )
    if request.method == "POST" and form.is_valid():
        try:
            mapping = form.cleaned_data["mapping"]
            product_imports.start_product_import(record=record, mapping=mapping)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The import has started."))
            return redirect(detail)
    return render(
        request,
        "farmers/products/map.html",
        {**_frame(request, producer), "record": record, "form": form},
    )


def _state(producer, record) -> dict:
    return job_state(
        record,
        report_url=reverse("bulk:import-report", args=[producer.slug, record.pk]),
        retry_url=reverse("bulk:import-retry", args=[producer.slug, record.pk]),
    )


@login_required
@require_safe
def import_detail(request, producer_slug, pk):
    producer, record = _record(request, producer_slug, pk)
    if record.awaiting_mapping:
        return redirect("bulk:import-map", producer_slug=producer.slug, pk=record.pk)
    state = _state(producer, record)
    return render(
        request,
        "farmers/products/detail.html",
        {
            **_frame(request, producer),
            "record": record,
            "state": state,
            **report_page(request, record, state),
            "mapping": mapping_shown(record, product_imports.FIELD_LABELS),
        },
    )


@login_required
@require_safe
def import_progress(request, producer_slug, pk):
    producer, record = _record(request, producer_slug, pk, light=True)
    response = JsonResponse(_state(producer, record))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def import_retry(request, producer_slug, pk):
    producer, record = _record(request, producer_slug, pk, light=True)
    if product_imports.retry_product_import(record=record):
        messages.success(request, _("The import runs again."))
    return redirect("bulk:import-detail", producer_slug=producer.slug, pk=record.pk)


@login_required
@require_safe
def import_report(request, producer_slug, pk):
    _producer_, record = _record(request, producer_slug, pk)
    response = HttpResponse(
        product_imports.product_report_csv(record), content_type="text/csv; charset=utf-8"
    )
    filename = _("import-report-%(number)s.csv") % {"number": record.pk}
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)


# --- Price and stock of many products ----------------------------------------------------------


class PriceStockForm(forms.Form):
    """One product's price and stock, as typed (the listing rules read and check them)."""

    record = forms.CharField(widget=forms.HiddenInput, max_length=20)
    price = forms.CharField(
        label=gettext_lazy("Price (đồng)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs=NUMERIC),
    )
    num_in_stock = forms.CharField(
        label=gettext_lazy("Stock"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs=NUMERIC),
    )


PriceStockFormSet = forms.formset_factory(
    PriceStockForm, extra=0, max_num=EDIT_PAGE_SIZE, absolute_max=EDIT_PAGE_SIZE, validate_max=True
)


def _edit_rows(producer):
    return (
        StockRecord.objects.filter(partner_id=producer.partner_id)
        .select_related("product", "product__listing")
        .order_by("product__title", "pk")
    )


def _initial(record) -> dict:
    return {
        "record": str(record.pk),
        "price": str(int(record.price)) if record.price is not None else "",
        "num_in_stock": "" if record.num_in_stock is None else str(record.num_in_stock),
    }


class _Refused(Exception):
    pass


def _save(request, producer, formset) -> int | None:
    """Save every changed row in one transaction, through listings.update_product; None
    (nothing saved, the messages beside the cells) when a row is refused."""
    ids = [parse_id(form.cleaned_data.get("record")) for form in formset]
    found = {
        record.pk: record
        for record in _edit_rows(producer).filter(pk__in=[pk for pk in ids if pk is not None])
    }
    changes = []
    for form, pk in zip(formset, ids, strict=True):
        record = found.get(pk)
        if record is None:
            form.add_error(None, _("This product is no longer in the shop: reload the page."))
            continue
        values = {key: form.cleaned_data.get(key, "") for key in form.changed_data}
        values.pop("record", None)
        if not values:
            continue
        for key, problems in listings.field_errors(values, product=record.product).items():
            for problem in problems:
                form.add_error(key, problem)
        changes.append((form, record, values))
    if any(form.errors for form in formset):
        return None
    saved = 0
    try:
        with transaction.atomic():
            for form, record, values in changes:
                try:
                    product = listings.update_product(
                        product=record.product, by=request.user, **values
                    )
                except ValidationError as exc:
                    errors = exc.message_dict if hasattr(exc, "error_dict") else {}
                    for key, problems in errors.items():
                        form.add_error(key if key in form.fields else None, problems)
                    if not errors:
                        form.add_error(None, exc.messages)
                    raise _Refused from None
                saved += bool(getattr(product, "changed_fields", None))
    except _Refused:
        return None
    except PermissionDenied:
        raise Http404 from None
    return saved


@login_required
def bulk_edit(request, producer_slug):
    """Price and stock of the producer's products, a page at a time: change the cells and
    save once. A price change waits for the operator's approval (when required), a stock
    change is on sale at once (listings.update_product); a refused cell saves nothing and
    says why beside it."""
    producer = _producer(request, producer_slug)
    page = listings_page(request, _edit_rows(producer))
    rows = list(page.object_list)
    formset = PriceStockFormSet(
        request.POST if request.method == "POST" else None,
        initial=[_initial(record) for record in rows],
        prefix="sp",
    )
    if request.method == "POST":
        saved = _save(request, producer, formset) if formset.is_valid() else None
        if saved is not None:
            messages.success(request, _saved_message(producer, saved))
            url = reverse("bulk:edit", args=[producer.slug])
            return redirect(f"{url}?page={page.number}" if page.number > 1 else url)
    forms_by_record = {form.initial.get("record"): form for form in formset}
    if request.method == "POST":
        forms_by_record = {form["record"].value(): form for form in formset}
    lines = [(record, forms_by_record.pop(str(record.pk), None)) for record in rows]
    # Forms of rows not on this page (a forged or stale form): their messages on top.
    stray = [error for form in forms_by_record.values() for error in _all_errors(form)]
    return render(
        request,
        "farmers/products/edit.html",
        {
            **_frame(request, producer),
            "page_obj": page,
            "formset": formset,
            "lines": lines,
            "stray": stray,
            "approval_required": listings.approval_required(),
        },
    )


def _all_errors(form) -> list[str]:
    return [str(error) for errors in form.errors.values() for error in errors]


def listings_page(request, queryset):
    return Paginator(queryset, EDIT_PAGE_SIZE).get_page(request.GET.get("page"))


def _saved_message(producer, saved: int) -> str:
    if not saved:
        return _("Nothing changed.")
    waiting = ProductListing.objects.filter(
        producer=producer, status=ProductListing.Status.PENDING
    ).count()
    text = ngettext("%(count)s product saved.", "%(count)s products saved.", saved) % {
        "count": saved
    }
    if waiting and listings.approval_required():
        text += " " + ngettext(
            "%(count)s product waits for the operator's approval.",
            "%(count)s products wait for the operator's approval.",
            waiting,
        ) % {"count": waiting}
    return text
