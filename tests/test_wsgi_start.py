"""What a server worker does when it loads the app (config.wsgi): the start-up objects are
frozen out of the garbage collector's full collections."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_loading_the_wsgi_app_freezes_what_start_up_made():
    code = (
        "import gc; import config.wsgi as w; print(gc.get_freeze_count(), callable(w.application))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    frozen, callable_ = result.stdout.split()[-2:]
    assert int(frozen) > 50_000 and callable_ == "True"
