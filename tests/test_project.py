"""The project as a whole: migrations, settings safety, pins, translations."""

import os
import re
import subprocess
import sys
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.starting import GOOD_SECRET_KEY, start

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


def test_production_refuses_to_start_without_a_real_secret_key():
    weak = [None, "", "change-me", "django-insecure-abc", "short-key"]
    outcomes = start(
        *({"DEBUG": "0", "SECRET_KEY": secret} for secret in weak),
        {"DEBUG": "0", "SECRET_KEY": GOOD_SECRET_KEY},
    )
    for secret, refused in zip(weak, outcomes, strict=False):
        assert refused and "SECRET_KEY is missing, too short or a known default" in refused, secret
    assert outcomes[-1] == "started"  # production starts with a real key


def test_development_starts_without_a_secret_key():
    assert start({"DEBUG": "1"}) == ["started"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()


def test_every_dependency_is_pinned_and_locked_at_the_same_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"unpinned line in requirements.lock: {line!r}"
            locked[_normalise(name)] = version.strip()
    for requirement in declared:
        name, sep, version = requirement.partition("==")
        assert sep, f"{requirement!r} is not pinned with =="
        assert locked.get(_normalise(name)) == version, requirement


def test_translations_are_complete_and_compiled():
    result = subprocess.run(
        [sys.executable, "scripts/compile_messages.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_no_template_loads_anything_from_a_cdn(client, db):
    html = client.get("/catalogue/").content.decode()
    assert not re.findall(r"""(?:src|href)=["']https?://""", html)
    assert "googletagmanager" not in html


def test_make_run_serves_and_links_on_the_port_asked_for(tmp_path):
    """`PORT=8101 make run`: the server listens on 8101 and every link it prints or sends
    (SITE_BASE_URL) says 8101."""
    stub = tmp_path / "python"
    stub.write_text('#!/bin/sh\necho "$SITE_BASE_URL $*"\n')
    stub.chmod(0o755)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PORT": "8101", "PY": str(stub)}
    env.pop("SITE_BASE_URL", None)
    out = subprocess.run(
        ["bash", "scripts/run.sh"], cwd=root, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "http://127.0.0.1:8101 manage.py seed_demo" in out
    assert "http://127.0.0.1:8101/" in out and ":8000" not in out
    assert out.rstrip().endswith("http://127.0.0.1:8101 manage.py runserver 127.0.0.1:8101")


def test_favicon_answers_with_an_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in response["Cache-Control"]
