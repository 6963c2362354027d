"""Creating, starting, running and expiring an import (run_import is the Celery task's
work, farmers.tasks)."""

import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.core import jobs

from .. import selectors, services
from ..models import MemberImport
from .common import MAX_BYTES, ImportFileError
from .importer import Importer
from .mapping import check_mapping
from .reading import read_table

logger = logging.getLogger(__name__)


def may_import(role: str | None) -> bool:
    """Staff of an association branch, a provincial association or a post office, and the
    operator, may import members (which members, and which imports they see: farmers.scope)."""
    return role in services.STAFF_ROLES


@transaction.atomic
def create_import(*, actor, role: str, membership, upload, language: str = "vi") -> MemberImport:
    """Check and store an uploaded file and read its headers; the import then waits for
    its column mapping (start_import). ImportFileError if the file cannot be used."""
    if not may_import(role):
        raise ImportFileError(_("Your role may not import members."))
    record = MemberImport(
        created_by=actor,
        organisation=membership.organisation if membership else None,
        actor_role=role,
        language=(language or "vi")[:10],
    )
    return store_upload(record, upload)


def store_upload(record, upload, *, guess=None, no_rows: str = ""):
    """Check an uploaded file, read its headers and samples onto `record` (a member or
    product import, not saved yet), store the file privately and save the record.
    ImportFileError if the file cannot be used."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB. Split it into several files."))
    data = upload.read(MAX_BYTES + 1)
    table = read_table(data, **_reading(guess, no_rows))
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    record.original_name = name or f"import.{table.file_format}"
    record.file_format = table.file_format
    record.file_size = len(data)
    record.header_row = table.header_row
    record.headers = table.headers
    record.samples = table.samples
    record.total_rows = len(table.rows)
    record.file.save(f"import.{table.file_format}", ContentFile(data), save=False)
    record.save()
    return record


def _reading(guess, no_rows) -> dict:
    options = {"no_rows": no_rows}
    if guess is not None:
        options["guess"] = guess
    return options


@transaction.atomic
def start_import(*, record: MemberImport, mapping: dict[str, int], options=None) -> MemberImport:
    """Save the confirmed mapping and enqueue the import once the transaction commits."""
    problems = check_mapping(mapping, role=record.actor_role, columns=len(record.headers))
    return start_job(record, mapping, options, problems=problems, task="run_member_import")


def _task(name: str):
    """The Celery task of farmers.tasks called `name` (imported here only: the tasks
    module imports the imports)."""
    from .. import tasks

    return getattr(tasks, name)


def start_job(record, mapping: dict[str, int], options, *, problems, task: str):
    """Save a confirmed mapping (refused with `problems`, when any) on a member or product
    import waiting for it, and enqueue the task named `task` once the transaction commits."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if not record.awaiting_mapping:
        raise ValidationError(_("This import has already started."))
    if problems:
        raise ValidationError(problems)
    record.mapping = {key: int(index) for key, index in mapping.items()}
    record.options = dict(options or {})
    record.queued_at = timezone.now()
    record.save(update_fields=["mapping", "options", "queued_at"])
    transaction.on_commit(partial(_task(task).delay, record.pk))
    return record


def expire_stale(record):
    """For the import's screens: an import whose worker died (no heartbeat for
    jobs.DEAD_AFTER) or that no worker took up is failed with that reason, and may be run
    again (retry_import)."""
    if record.finished or record.queued_at is None:
        return record
    with translation.override(record.language or "vi"):
        return jobs.fail_stalled(type(record), record)


def may_retry(record) -> bool:
    return record.status == record.Status.FAILED and record.queued_at is not None


@transaction.atomic
def retry_import(*, record: MemberImport) -> bool:
    """Run a failed import again from its stored file and mapping (rows already imported
    are matched by CCCD and come out unchanged). False if it had not failed."""
    return retry_job(record, task="run_member_import")


def retry_job(record, *, task: str) -> bool:
    """Queue a failed member or product import again (the task named `task`); False if it
    had not failed."""
    model = type(record)
    updated = model.objects.filter(
        pk=record.pk, status=model.Status.FAILED, queued_at__isnull=False
    ).update(
        status=model.Status.PENDING,
        queued_at=timezone.now(),
        started_at=None,
        heartbeat_at=None,
        finished_at=None,
        attempts=0,
        worker="",
        error="",
        processed_rows=0,
        report=[],
    )
    if updated:
        transaction.on_commit(partial(_task(task).delay, record.pk))
    return bool(updated)


def _counts(importer) -> dict:
    c = importer.counts
    return {
        "created_count": c["created"],
        "updated_count": c["updated"],
        "unchanged_count": c["unchanged"],
        "skipped_count": c["skipped"],
        "error_count": c["error"],
    }


def run_import(import_id: int) -> str:
    """Run a queued member import (the Celery task's work); see run_job. Its rows
    already imported are matched by CCCD."""
    return run_job(MemberImport, import_id, make_importer=_member_importer, kind="member import")


def _member_importer(record: MemberImport) -> Importer:
    user = record.created_by
    membership = selectors.membership_for(user) if user is not None else None
    role = selectors.role_for(user, membership) if user is not None else None
    if user is None or not user.is_active or not may_import(role):
        raise ImportFileError(_("The person who uploaded this file may not import any more."))
    return Importer(record, user=user, role=role, membership=membership)


def run_job(model, import_id: int, *, make_importer, kind: str, guess=None, no_rows="") -> str:
    """Run a queued import of `model` with the importer `make_importer(record)` gives
    (ImportFileError when the uploader may no longer import). Never raises: a failure is
    written on the import. Runs once: an import that is done, failed or run by a live
    worker is left alone; one whose worker died is run again from the start
    (marketplace.core.jobs), the importer matching the rows already imported."""
    claimed = jobs.claim(model, import_id, ready=lambda record: record.queued_at is not None)
    if claimed is None:
        return "skipped"
    record = model.objects.select_related("created_by").get(pk=import_id)
    rows = model.objects.filter(pk=record.pk)
    importer = None
    with translation.override(record.language or "vi"):
        try:
            importer = make_importer(record)
            with record.file.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
            table = read_table(data, **_reading(guess, no_rows))
            rows.update(total_rows=len(table.rows))

            def progress(done):
                rows.update(processed_rows=done, heartbeat_at=timezone.now(), **_counts(importer))

            importer.run(table.rows, progress)
        except Exception as exc:  # recorded on the import, never left running
            if isinstance(exc, ImportFileError):
                message = exc.message
            else:
                logger.exception("%s %s failed", kind, import_id)
                message = _("The import stopped because of an unexpected error.")
            extra = _counts(importer) if importer is not None else {}
            rows.update(
                status=model.Status.FAILED,
                error=message,
                finished_at=timezone.now(),
                report=importer.report if importer is not None else [],
                **extra,
            )
            return "failed"
        rows.update(
            status=model.Status.DONE,
            processed_rows=len(table.rows),
            report=importer.report,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            **_counts(importer),
        )
    return "done"
