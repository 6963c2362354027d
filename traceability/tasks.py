"""Celery tasks of the traceability app live beside the code they serve; importing the
modules here registers them with the worker (Celery autodiscovers `tasks` modules)."""

from datetime import timedelta

from celery import shared_task

from . import labels, recalls  # noqa: F401


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
