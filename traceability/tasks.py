"""Celery tasks of the traceability app live beside the code they serve; importing the
modules here registers them with the worker (Celery autodiscovers `tasks` modules)."""

from datetime import timedelta

from celery import shared_task

from marketplace.core import jobs

from . import labels, recalls, sale  # noqa: F401
from .models import LabelSheet


@shared_task(
    name="traceability.make_label_sheet",
    bind=True,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    **jobs.TASK_OPTIONS,
)
def make_label_sheet(self, sheet_id: int, base_url: str, language: str = "vi") -> str:
    """A label sheet (traceability.labels.make_label_sheet), with a heartbeat on its row
    while a worker makes it; taken up again if that worker dies."""
    with jobs.heartbeat(LabelSheet, sheet_id, task=self):
        return labels.make_label_sheet(sheet_id, base_url, language)


@shared_task(name="traceability.make_checkpoint")
def make_checkpoint(max_age_hours: float = 12) -> int:
    """The daily signed checkpoint of the transparency log (beat: config/settings.py).
    Idempotent: a checkpoint of the same size made less than `max_age_hours` ago is kept.
    Afterwards the whole log is verified, and the result cached for the trace pages."""
    from . import services, transparency

    services.seal_unrecorded()
    checkpoint = transparency.make_checkpoint(max_age=timedelta(hours=max_age_hours))
    transparency.verify_log()
    return checkpoint.tree_size
