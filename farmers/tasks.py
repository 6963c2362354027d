"""Celery tasks of the farmers app: thin wrappers around services (see DESIGN.md)."""

from celery import shared_task

from marketplace.core import jobs

from .models import MemberImport, ProductImport


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


@shared_task(
    name="farmers.run_product_import",
    bind=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
    **jobs.TASK_OPTIONS,
)
def run_product_import(self, import_id: int) -> str:
    """Run one queued product import (farmers.imports.products.run_product_import), with a
    heartbeat on its row while a worker runs it. Safe to deliver twice: rows are matched by
    the producer's product code (SKU)."""
    from .imports.products import run_product_import as run

    with jobs.heartbeat(ProductImport, import_id, task=self):
        return run(import_id)
