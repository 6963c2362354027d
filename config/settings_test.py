"""Settings for the test suite: the embedded default, made fast and isolated.

DATABASE_URL and REDIS_URL still come from the environment, so `make test` runs the
same suite on PostgreSQL when one is reachable.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("PERSONAL_DATA_KEY", "test-personal-data-key-" + "x" * 40)
# A fixed Ed25519 key (base64 of 32 bytes) that signs trace records in tests.
os.environ.setdefault("TRACE_SIGNING_KEY", "bm9uZ3Nhbi10ZXN0LXRyYWNlLXNpZ25pbmcta2V5ISE=")

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, STORAGES  # noqa: E402

_TMP = tempfile.mkdtemp(prefix="nongsan-test-")
MEDIA_ROOT = os.path.join(_TMP, "media")
PRIVATE_MEDIA_ROOT = os.path.join(_TMP, "private")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"
NOTIFICATION_SMS_SENDER = "marketplace.fulfilment.notifications.LocmemSMSSender"
# --- Security and observability in tests ---------------------------------------------------
# The test client and the browser tests' live server speak plain HTTP: no redirect to HTTPS
# (tests/test_security_settings.py checks the production values with the compose env).
SECURE_SSL_REDIRECT = False
# Log lines as text, with the request id, for pytest's captured output.
LOGGING["handlers"]["console"]["formatter"] = "text"  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The test database is thrown away: a commit need not wait for the disk (what a
    # test sees is the same; only a crash of the server could lose the last commits).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c synchronous_commit=off").strip()
