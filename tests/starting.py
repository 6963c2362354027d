"""Starting the project in a fresh process: the settings refuse to start production
without its keys (SECRET_KEY, PERSONAL_DATA_KEY, TRACE_SIGNING_KEY).

`start(*environments)` loads config.settings once for each environment, in one new
process (a process costs seconds; loading the settings again costs milliseconds), and
then starts Django with the last one when it loaded, as `manage.py` or gunicorn would.
Each environment is laid over the test process's own with a good value of every key (so
that a refusal is the one variable's), and DEBUG off; a value of None removes a variable."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SET_BY_THE_TESTS = {
    "DEBUG",
    "SECRET_KEY",
    "PERSONAL_DATA_KEY",
    "TRACE_SIGNING_KEY",
    "TRACE_SIGNING_KEY_FILE",
}
GOOD_SECRET_KEY = "k" * 20 + "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
GOOD_PERSONAL_DATA_KEY = "test-personal-data-key-" + "p" * 40
# A fixed Ed25519 key (base64 of its 32 raw bytes).
GOOD_TRACE_SIGNING_KEY = "bm9uZ3Nhbi10ZXN0LXRyYWNlLXNpZ25pbmcta2V5ISE="

_SCRIPT = r"""
import importlib, json, os, sys
from django.core.exceptions import ImproperlyConfigured

base = dict(os.environ)
outcomes = []
for env in json.loads(sys.argv[1]):
    os.environ.clear()
    os.environ.update(base)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    sys.modules.pop("config.settings", None)
    try:
        importlib.import_module("config.settings")
    except ImproperlyConfigured as exc:
        outcomes.append(str(exc))
    else:
        outcomes.append(None)
if outcomes and outcomes[-1] is None:
    import django

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # an app's own check at start (the signing key)
        outcomes[-1] = str(exc)
    else:
        outcomes[-1] = "started"
print(json.dumps(outcomes))
"""


def start(*environments: dict) -> list:
    """For each environment: the ImproperlyConfigured message the settings refused with,
    or None where they loaded; for the last one, "started" when Django started with it, or
    the message an app refused with while starting."""
    clean = {k: v for k, v in os.environ.items() if k not in SET_BY_THE_TESTS}
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=GOOD_SECRET_KEY,
        PERSONAL_DATA_KEY=GOOD_PERSONAL_DATA_KEY,
        TRACE_SIGNING_KEY=GOOD_TRACE_SIGNING_KEY,
    )
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(environments)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
