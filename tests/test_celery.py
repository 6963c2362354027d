"""Celery: eager in the embedded default; through a real Redis to a real worker in CI."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery, current_app

from config.celery import app as project_app
from marketplace.tasks import ping

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_default_runs_tasks_in_process():
    assert project_app.conf.task_always_eager is True
    assert ping.delay().get(timeout=1) == "pong"


def test_tasks_are_autodiscovered_from_the_apps():
    project_app.loader.import_default_modules()
    assert "nongsan.ping" in project_app.tasks


@pytest.mark.redis
def test_ping_goes_through_redis_to_a_real_worker(redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "worker-test-" + "s" * 40,
        "PERSONAL_DATA_KEY": "worker-test-personal-data-" + "p" * 40,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "ALLOWED_HOSTS": "localhost",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    queue = f"nongsan-test-{os.getpid()}-{time.time_ns()}"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool=solo", "--concurrency=1", "-Q", queue, "--loglevel=INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    # Not the process's current app: the project's shared tasks would then be sent to
    # this one (to Redis, not run eagerly) by every later test of this process.
    client = Celery(
        "nongsan-test-client", broker=redis_url, backend=redis_url, set_as_current=False
    )
    heartbeat = "nongsan:1:observability:worker-heartbeat"  # Django's cache key in Redis
    redis_client = redis.Redis.from_url(redis_url)
    redis_client.delete(heartbeat)
    try:
        result = client.send_task("nongsan.ping", queue=queue)
        assert result.get(timeout=60) == "pong"
        # The ready worker says it is alive (what /readyz reads), in the shared cache.
        assert redis_client.exists(heartbeat)
    finally:
        redis_client.close()
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        client.close()
    assert "nongsan.ping" in output  # the worker, not this process, ran it
    assert current_app.main == project_app.main
