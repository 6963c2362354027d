"""Long jobs run by a Celery worker (member imports, label sheets): taken up once, kept
alive by a heartbeat on their row, noticed within DEAD_AFTER when their worker dies, and
resumed or failed with the true reason.

A job is a model row with `status` ("pending", "running", "done", "failed"), `started_at`,
`heartbeat_at`, `attempts` and `worker` ("host:pid" of the process running it). Its task
is declared with `acks_late=True, reject_on_worker_lost=True` (see TASK_OPTIONS): the
broker keeps the message until the task returns, and a worker process killed mid-task
(out of memory, SIGKILL, a deploy) has its message put back on the queue, so another
process takes the job up again with `claim` and resumes it (the jobs are idempotent).

- `claim` takes up a waiting job, or a running one whose worker is gone (its process no
  longer exists on this machine, or no heartbeat for DEAD_AFTER); never a job another
  live worker runs; a job taken up MAX_ATTEMPTS times fails with that reason instead of
  killing worker after worker.
- `heartbeat` (a context manager around the work) writes `heartbeat_at` every
  HEARTBEAT_EVERY from a thread, however long one step of the work takes.
- `stalled` tells a screen, from the row alone, that the job's worker died (no heartbeat
  for DEAD_AFTER) or that no worker took it up (QUEUED_TOO_LONG); the screen then fails
  the job with `stall_reason` and offers to run it again.
"""

import contextlib
import os
import socket
import threading
from datetime import timedelta

from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

HEARTBEAT_EVERY = timedelta(seconds=20)
DEAD_AFTER = timedelta(minutes=2)
QUEUED_TOO_LONG = timedelta(minutes=15)
MAX_ATTEMPTS = 3

# For the @shared_task of a job: keep the message until the task has run, and put it back
# on the queue when the process running it dies.
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive_here(worker: str) -> bool | None:
    """Whether the process `worker` ("host:pid") is alive: True or False on this machine,
    None (unknown) when it ran elsewhere."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isascii() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def heartbeat_is_stale(job, now=None) -> bool:
    now = now or timezone.now()
    last = job.heartbeat_at or job.started_at
    return last is None or last < now - DEAD_AFTER


def claim(model, pk, *, ready=lambda job: True, too_many: str = ""):
    """Take up job `pk` for this process: a pending job for which `ready(job)` holds, or a
    running one whose worker is gone. Returns the job (status running, attempts counted)
    or None when there is nothing to do (done, failed, or run by a live worker). A job
    already taken up MAX_ATTEMPTS times is failed with `too_many` instead."""
    now = timezone.now()
    with transaction.atomic():
        job = model.objects.select_for_update().filter(pk=pk).first()
        if job is None:
            return None
        if job.status == RUNNING:
            # Delivered again to the process that ran it: that run is over.
            alive = False if job.worker == worker_id() else _alive_here(job.worker)
            if alive or (alive is None and not heartbeat_is_stale(job, now)):
                return None  # a live worker has it
        elif job.status != PENDING or not ready(job):
            return None
        if job.attempts >= MAX_ATTEMPTS:
            model.objects.filter(pk=pk).update(
                status=FAILED, error=too_many or _stopped_times(job.attempts), finished_at=now
            )
            return None
        job.status, job.started_at, job.heartbeat_at = RUNNING, now, now
        job.attempts, job.worker = job.attempts + 1, worker_id()
        model.objects.filter(pk=pk).update(
            status=RUNNING, started_at=now, heartbeat_at=now, attempts=job.attempts,
            worker=job.worker,
        )  # fmt: skip
    return job


def _stopped_times(count: int) -> str:
    return ngettext(
        "The worker stopped %(count)s time while doing this (it may need more memory than "
        "the server has). Try a smaller file or fewer labels.",
        "The worker stopped %(count)s times while doing this (it may need more memory than "
        "the server has). Try a smaller file or fewer labels.",
        count,
    ) % {"count": count}


@contextlib.contextmanager
def heartbeat(model, pk, *, task=None, every: timedelta = HEARTBEAT_EVERY):
    """Write the job's heartbeat every `every` from a thread while the block runs, in a
    worker running `task` (off for tasks run in-process, eagerly: the request that runs
    it is its sign of life)."""
    enabled = task is not None and not (task.request.is_eager or task.app.conf.task_always_eager)
    if not enabled:
        yield
        return
    me, stop = worker_id(), threading.Event()

    def beat():
        try:
            while not stop.wait(every.total_seconds()):
                close_old_connections()
                model.objects.filter(pk=pk, status=RUNNING, worker=me).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def stalled(job, now=None) -> str | None:
    """ "dead" when the job runs but its worker gave no sign of life for DEAD_AFTER,
    "unclaimed" when it waited QUEUED_TOO_LONG with no worker taking it up, else None."""
    now = now or timezone.now()
    if job.status == RUNNING and heartbeat_is_stale(job, now):
        return "dead"
    queued = _queued_at(job)
    if job.status == PENDING and queued and queued < now - QUEUED_TOO_LONG:
        return "unclaimed"
    return None


def _queued_at(job):
    """When the job was (last) put on the queue; None for one not queued yet (an import
    waiting for its column mapping). Jobs without `queued_at` mark a re-queue with
    `heartbeat_at`."""
    if hasattr(job, "queued_at"):
        return job.queued_at
    return job.heartbeat_at or job.created_at


def stall_reason(job, kind: str) -> str:
    """What a person reads when `stalled(job)` said `kind`."""
    if kind == "dead":
        last = timezone.localtime(job.heartbeat_at or job.started_at or job.created_at)
        return _(
            "The worker doing this stopped responding at %(time)s (it was stopped or "
            "restarted, or ran out of memory). Nothing is lost: run it again."
        ) % {"time": date_format(last, "SHORT_DATETIME_FORMAT")}
    queued = timezone.localtime(_queued_at(job) or job.created_at)
    return _(
        "No worker has taken this up since %(time)s: the background workers are not "
        "running. Run it again, and tell the site's operator if it waits again."
    ) % {"time": date_format(queued, "SHORT_DATETIME_FORMAT")}


def fail_stalled(model, job, now=None):
    """For a screen: fail a stalled job with the true reason (once, whoever looks first)
    and return it, updated; any other job is returned as it is."""
    kind = stalled(job, now)
    if kind is None:
        return job
    message = stall_reason(job, kind)
    finished = timezone.now()
    updated = model.objects.filter(
        pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at
    ).update(status=FAILED, error=message, finished_at=finished)
    if updated:
        job.status, job.error, job.finished_at = FAILED, message, finished
    else:
        job.refresh_from_db()
    return job
