"""Celery tasks of the farmers app: thin wrappers around services (see DESIGN.md)."""

from celery import shared_task


@shared_task(name="farmers.run_member_import", soft_time_limit=30 * 60, time_limit=35 * 60)
def run_member_import(import_id: int) -> str:
    """Run one queued member import (farmers.imports.run_import). Safe to deliver twice:
    an import runs once, and its rows are matched by CCCD anyway."""
    from .imports import run_import

    return run_import(import_id)
