"""Member import pages (under /can-bo/nhap-hoi-vien/): upload, column mapping, progress,
report, the template and the original file.

Only staff whose role may register members reach them (everyone else signed in gets 404,
anonymous visitors are sent to sign in), and every import is looked up through
farmers.scope (Scope.imports): another organisation's import, its report and its file
are 404. The work is done by farmers.imports (and its Celery task).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from . import access, imports
from .models import MemberImport

PAGE_SIZE = 25
REPORT_PAGE_SIZE = 50
LIGHT_FIELDS = ("report", "samples", "headers", "mapping", "options")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Member list (.xlsx or .csv)"),
        help_text=gettext_lazy(
            "Excel workbook (.xlsx) or CSV in UTF-8; at most 5 MB and 20,000 rows."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control-file",
                "accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet,text/csv",
            }
        ),
        error_messages={
            "required": gettext_lazy("Choose the file to import."),
            "empty": gettext_lazy("The file is empty."),
        },
    )


class ColumnsForm(forms.Form):
    """One choice per column of an uploaded file: which of our `FIELDS` it holds (or
    none). Member and product imports each say their fields and their mapping check."""

    FIELDS = imports.FIELDS

    def __init__(self, *args, record, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        choices = [("", gettext_lazy("— not imported —"))] + [
            (key, label) for key, label in self.FIELDS
        ]
        self.columns = []
        for index, header in enumerate(record.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                widget=forms.Select(attrs={"class": "form-control"}),
            )
            samples = record.samples[index] if index < len(record.samples) else []
            self.columns.append({"index": index, "header": header, "samples": samples})

    def bound_columns(self):
        for column in self.columns:
            yield {**column, "field": self[f"col_{column['index']}"]}

    def problems(self, mapping) -> list[str]:
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        labels = dict(self.FIELDS)
        mapping: dict[str, int] = {}
        for index in range(len(self.record.headers)):
            key = data.get(f"col_{index}")
            if not key:
                continue
            if key in mapping:
                raise ValidationError(
                    _("Two columns are mapped to “%(field)s”: choose one.") % {"field": labels[key]}
                )
            mapping[key] = index
        problems = self.problems(mapping)
        if problems:
            raise ValidationError(problems)
        data["mapping"] = mapping
        return data


class MappingForm(ColumnsForm):
    """A member list's columns, and the unit of its farm areas."""

    area_unit = forms.ChoiceField(
        label=gettext_lazy("Farm area given in"),
        choices=(("m2", "m²"), ("ha", "ha")),
        widget=forms.Select(attrs={"class": "form-control"}),
    )

    @classmethod
    def initial_for(cls, record: MemberImport) -> dict:
        guessed = imports.guess_mapping(record.headers)
        initial = {f"col_{index}": key for key, index in guessed.items()}
        initial["area_unit"] = imports.guess_area_unit(record.headers, guessed)
        return initial

    def problems(self, mapping) -> list[str]:
        return imports.check_mapping(
            mapping, role=self.record.actor_role, columns=len(self.record.headers)
        )


def _import(request, pk, *, light=False):
    scope = access.staff_scope(request, may=imports.may_import)
    records = scope.imports()
    if light:
        records = records.defer(*LIGHT_FIELDS)
    record = get_object_or_404(records, pk=pk)
    return imports.expire_stale(record), scope.membership, scope.role


@login_required
@require_safe
def import_list(request):
    scope = access.staff_scope(request, may=imports.may_import)
    membership, records = scope.membership, scope.imports().defer(*LIGHT_FIELDS)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "farmers/imports/list.html",
        {"membership": membership, "page_obj": page, "records": page.object_list},
    )


@login_required
def import_new(request):
    membership, role = access.staff_role(request, may=imports.may_import)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = imports.create_import(
                actor=request.user,
                role=role,
                membership=membership,
                upload=form.cleaned_data["file"],
                language=get_language() or "vi",
            )
        except imports.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("farmers:import-map", pk=record.pk)
    return render(
        request,
        "farmers/imports/new.html",
        {
            "form": form,
            "max_rows": imports.MAX_ROWS,
            "fields": imports.FIELDS,
            "required": imports.REQUIRED,
        },
    )


@login_required
def import_map(request, pk):
    record, _membership, _role = _import(request, pk)
    if not record.awaiting_mapping:
        return redirect("farmers:import-detail", pk=record.pk)
    form = MappingForm(request.POST or None, record=record, initial=MappingForm.initial_for(record))
    if request.method == "POST" and form.is_valid():
        try:
            imports.start_import(
                record=record,
                mapping=form.cleaned_data["mapping"],
                options={"area_unit": form.cleaned_data["area_unit"]},
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The import has started."))
            return redirect("farmers:import-detail", pk=record.pk)
    return render(
        request,
        "farmers/imports/map.html",
        {"record": record, "form": form, "required": imports.REQUIRED},
    )


def _state(record: MemberImport) -> dict:
    return job_state(
        record,
        report_url=reverse("farmers:import-report", args=[record.pk]),
        retry_url=reverse("farmers:import-retry", args=[record.pk]),
    )


def job_state(record, *, report_url: str, retry_url: str) -> dict:
    """What an import's page and its progress JSON show (member and product imports)."""
    return {
        "status": record.status,
        "status_label": str(record.get_status_display()),
        "processed": record.processed_rows,
        "total": record.total_rows,
        "percent": record.percent,
        "progress_label": _("%(done)s of %(total)s rows")
        % {"done": record.processed_rows, "total": record.total_rows},
        "finished": record.finished,
        "counts": {
            "created": record.created_count,
            "updated": record.updated_count,
            "unchanged": record.unchanged_count,
            "skipped": record.skipped_count,
            "error": record.error_count,
        },
        "error": record.error if record.status == record.Status.FAILED else "",
        "report_url": report_url if record.finished else None,
        # A failed import (its worker died, say) may be run again from its stored file.
        "retry_url": retry_url if imports.may_retry(record) else None,
    }


def report_page(request, record, state, *, page_size=REPORT_PAGE_SIZE) -> dict:
    """The report's rows of one outcome (?ket-qua=…), paginated, and the outcome filters."""
    outcome = request.GET.get("ket-qua", "")
    entries = record.report or []
    if outcome in imports.OUTCOMES:
        entries = [entry for entry in entries if entry.get("outcome") == outcome]
    else:
        outcome = ""
    page = Paginator(entries, page_size).get_page(request.GET.get("page"))
    rows = [
        {**entry, "outcome_label": imports.OUTCOMES.get(entry.get("outcome"), "")}
        for entry in page.object_list
    ]
    filters = [
        {"value": key, "label": label, "count": state["counts"][key]}
        for key, label in imports.OUTCOMES.items()
    ]
    return {"page_obj": page, "rows": rows, "outcome": outcome, "filters": filters}


def mapping_shown(record, labels) -> list[tuple[str, str]]:
    """(header, field label) of each mapped column, in the file's order."""
    return [
        (record.headers[index], labels.get(key, key))
        for key, index in sorted(record.mapping.items(), key=lambda item: item[1])
        if index < len(record.headers)
    ]


def no_store(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def import_detail(request, pk):
    record, _membership, _role = _import(request, pk)
    if record.awaiting_mapping:
        return redirect("farmers:import-map", pk=record.pk)
    state = _state(record)
    return render(
        request,
        "farmers/imports/detail.html",
        {
            "record": record,
            "state": state,
            **report_page(request, record, state),
            "mapping": mapping_shown(record, imports.FIELD_LABELS),
        },
    )


@login_required
@require_POST
def import_retry(request, pk):
    record, _membership, _role = _import(request, pk, light=True)
    if imports.retry_import(record=record):
        messages.success(request, _("The import runs again."))
    return redirect("farmers:import-detail", pk=record.pk)


@login_required
@require_safe
def import_progress(request, pk):
    record, _membership, _role = _import(request, pk, light=True)
    response = JsonResponse(_state(record))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_safe
def import_report(request, pk):
    record, _membership, _role = _import(request, pk)
    response = HttpResponse(imports.report_csv(record), content_type="text/csv; charset=utf-8")
    filename = _("import-report-%(number)s.csv") % {"number": record.pk}
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def import_file(request, pk):
    record, _membership, _role = _import(request, pk, light=True)
    try:
        handle = record.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if record.file_format == MemberImport.Format.XLSX
        else "text/csv"
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=record.original_name or f"import.{record.file_format}",
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def import_template(request):
    membership, _role = access.staff_role(request, may=imports.may_import)
    response = HttpResponse(
        imports.template_xlsx(request.user, membership),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = _("member-list-template.xlsx")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
