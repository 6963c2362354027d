"""Long jobs survive their worker: taken up once, noticed within two minutes when their
worker dies, resumed or failed with the true reason (marketplace.core.jobs).

The last test starts a real Celery worker on Redis, kills the process making a label
sheet with SIGKILL halfway, and watches the sheet being made again to the end."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from marketplace.core import jobs
from marketplace.core.storage import private_storage
from tests.conftest import need, reachable
from traceability.models import LabelSheet, Lot, SerialNumber

from .traceability.conftest import FARMER, OPERATOR, sign_in

ROOT = Path(__file__).resolve().parent.parent
HOST = "http://testserver"
REDIS_DB13 = os.environ.get("NONGSAN_JOBS_REDIS_URL", "redis://127.0.0.1:6379/13")


def sheet(count=8, **fields) -> LabelSheet:
    lot = Lot.objects.get(code="DEMO-NS0005")
    return LabelSheet.objects.create(lot=lot, size="L7165", count=count, **fields)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


# --- claim: once, again when the worker is gone, never beside a live one ----------------------


@pytest.mark.django_db
def test_a_job_is_taken_up_once_and_again_only_when_its_worker_is_gone(demo):
    job = sheet()
    assert jobs.claim(LabelSheet, job.pk).attempts == 1
    job.refresh_from_db()
    assert job.status == "running" and job.worker == jobs.worker_id()

    # A live worker on another machine, heartbeat fresh: left alone.
    LabelSheet.objects.filter(pk=job.pk).update(worker="elsewhere:1", heartbeat_at=ago(seconds=30))
    assert jobs.claim(LabelSheet, job.pk) is None
    # The same worker silent for more than two minutes: taken up again.
    LabelSheet.objects.filter(pk=job.pk).update(heartbeat_at=ago(minutes=2, seconds=5))
    assert jobs.claim(LabelSheet, job.pk).attempts == 2
    # A process of this machine that no longer exists: taken up at once.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    LabelSheet.objects.filter(pk=job.pk).update(
        worker=f"{jobs.worker_id().rpartition(':')[0]}:{dead.pid}", heartbeat_at=timezone.now()
    )
    assert jobs.claim(LabelSheet, job.pk).attempts == 3
    # A job that has killed its worker three times fails, saying so.
    LabelSheet.objects.filter(pk=job.pk).update(worker="elsewhere:1", heartbeat_at=ago(hours=1))
    assert jobs.claim(LabelSheet, job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed" and "đã dừng 3 lần" in job.error  # "stopped 3 times"
    # Done and failed jobs are never taken up again.
    assert jobs.claim(LabelSheet, job.pk) is None


@pytest.mark.django_db
def test_a_screen_notices_a_dead_worker_says_why_and_makes_the_sheet_again(
    demo, client, django_capture_on_commit_callbacks
):
    job = sheet(
        status="running",
        started_at=ago(minutes=5),
        heartbeat_at=ago(minutes=2, seconds=1),
        attempts=1,
        worker="elsewhere:4242",
        progress=3,
    )
    sign_in(client, FARMER)
    base = f"/lo-hang/{job.lot_id}/nhan/{job.pk}/"
    state = client.get(base + "trang-thai.json").json()
    assert state["status"] == "failed" and state["finished"]
    when = timezone.localtime(job.heartbeat_at).strftime("%d/%m/%Y %H:%M")
    assert f"ngừng phản hồi lúc {when}" in state["error"]  # "stopped responding at"
    assert state["retry_url"] == base + "lam-lai/"
    page = client.get(base).content.decode()
    assert 'action="' + base + 'lam-lai/"' in page and "Làm lại nhãn" in page

    with django_capture_on_commit_callbacks(execute=True):  # the task runs in-process here
        response = client.post(base + "lam-lai/")
    assert response.status_code == 302 and response["Location"] == base
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 1 and job.error == ""
    assert client.get(base + "tai-ve.pdf").status_code == 200


@pytest.mark.django_db
def test_a_fresh_heartbeat_keeps_a_long_sheet_running(demo, client):
    job = sheet(status="running", started_at=ago(minutes=30), heartbeat_at=ago(seconds=90))
    sign_in(client, OPERATOR)
    state = client.get(f"/lo-hang/{job.lot_id}/nhan/{job.pk}/trang-thai.json").json()
    assert state["status"] == "running" and not state["finished"] and state["retry_url"] is None


@pytest.mark.django_db
def test_a_sheet_no_worker_took_up_says_so(demo, client):
    job = sheet()
    LabelSheet.objects.filter(pk=job.pk).update(created_at=ago(minutes=16))
    sign_in(client, FARMER)
    state = client.get(f"/lo-hang/{job.lot_id}/nhan/{job.pk}/trang-thai.json").json()
    assert state["status"] == "failed" and "Không có tiến trình nền nào" in state["error"]


def test_job_tasks_are_acknowledged_late_and_requeued_when_their_worker_dies():
    from config.celery import app

    app.loader.import_default_modules()
    for name in ("farmers.run_member_import", "traceability.make_label_sheet"):
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost, name


# --- A real worker, killed mid-task ---------------------------------------------------------


class WorkerDatabase:
    """The database the worker process uses: this test's PostgreSQL database, or for
    SQLite (in memory here) a file copy of it."""

    def __init__(self, tmp_path):
        self.file = None
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
            self.url = f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        else:
            self.file = tmp_path / "worker.sqlite3"
            copy = sqlite3.connect(self.file)
            connection.ensure_connection()
            connection.connection.backup(copy)
            copy.close()
            self.url = f"sqlite:///{self.file}"

    def sheet(self, pk) -> dict:
        columns = ("status", "error", "attempts", "worker", "progress", "file")
        if self.file is None:
            return LabelSheet.objects.values(*columns).get(pk=pk)
        with sqlite3.connect(self.file, timeout=20) as db:
            row = db.execute(
                f"SELECT {', '.join(columns)} FROM traceability_labelsheet WHERE id = ?", (pk,)
            ).fetchone()
        return dict(zip(columns, row, strict=True))

    def serials(self, pk) -> int:
        if self.file is None:
            return SerialNumber.objects.filter(sheet_id=pk).count()
        with sqlite3.connect(self.file, timeout=20) as db:
            sql = "SELECT COUNT(DISTINCT serial) FROM traceability_serialnumber WHERE sheet_id = ?"
            return db.execute(sql, (pk,)).fetchone()[0]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_label_sheet_whose_worker_is_killed_is_made_again_to_the_end(demo, tmp_path):
    need(reachable(REDIS_DB13), f"no Redis server reachable at {REDIS_DB13}")
    count = 1300
    job = sheet(count=count, serialised=True)
    worker_db = WorkerDatabase(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "PERSONAL_DATA_KEY": settings.PERSONAL_DATA_KEY,
        "TRACE_SIGNING_KEY": settings.TRACE_SIGNING_KEY,
        "REDIS_URL": REDIS_DB13,
        "DATABASE_URL": worker_db.url,
        "ALLOWED_HOSTS": "localhost",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    queue = f"nongsan-jobs-test-{os.getpid()}-{time.time_ns()}"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool=prefork", "--concurrency=1", "-Q", queue, "--loglevel=INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    client = Celery("nongsan-jobs-test", broker=REDIS_DB13, set_as_current=False)
    try:
        client.send_task("traceability.make_label_sheet", args=[job.pk, HOST, "vi"], queue=queue)
        running = wait_for(
            lambda: (row := worker_db.sheet(job.pk))["progress"] >= 100 and row,
            timeout=180,
            what="the worker to be making the sheet",
        )
        assert running["status"] == "running" and running["attempts"] == 1
        pid = int(running["worker"].rpartition(":")[2])
        assert pid != worker.pid  # the pool process that runs the task
        os.kill(pid, signal.SIGKILL)  # out of memory, say

        done = wait_for(
            lambda: (row := worker_db.sheet(job.pk))["status"] in ("done", "failed") and row,
            timeout=240,
            what="the sheet to be made again",
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        client.close()
    assert done["status"] == "done", (done, output[-3000:])
    assert done["attempts"] == 2 and done["progress"] == count
    assert "signal 9" in output or "SIGKILL" in output, output[-3000:]
    assert worker_db.serials(job.pk) == count  # the first run's serials, reused: no second set
    with private_storage.open(done["file"], "rb") as handle:
        assert handle.read(5) == b"%PDF-"
