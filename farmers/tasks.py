"""Celery tasks of the farmers app: thin wrappers around services (see DESIGN.md)."""

from celery import shared_task

from marketplace.core import jobs

from .models import MemberImport


@shared_task(
    name="farmers.run_member_import",
    bind=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
    **jobs.TASK_OPTIONS,
)
def run_member_import(self, import_id: int) -> str:
    """Run one queued member import (farmers.imports.run_import), with a heartbeat on its
    row while a worker runs it. Safe to deliver twice: an import runs once, is taken up
    again if its worker dies, and its rows are matched by CCCD anyway."""
    from .imports import run_import

    with jobs.heartbeat(MemberImport, import_id, task=self):
        return run_import(import_id)
