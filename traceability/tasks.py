"""Celery tasks of the traceability app live beside the code they serve; importing the
modules here registers them with the worker (Celery autodiscovers `tasks` modules)."""

from . import labels, recalls  # noqa: F401
