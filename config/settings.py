"""nongsan settings, read from the environment (12-factor).

Embedded default (no variables set, DEBUG=1): SQLite, eager Celery, local media,
e-mail to the console. Production: DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS, DEBUG off. See README.md.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F403  (Oscar's OSCAR_* defaults, overridden below)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# Variables a production deployment must provide (docker-compose.yml is tested against
# this list): everything else has a safe default.
PRODUCTION_ENV_VARS = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS")

INSECURE_SECRET_KEYS = {"", "change-me", "changeme", "secret", "dev-secret-key-not-for-production"}
SECRET_KEY = env.str("SECRET_KEY", default="")
if not DEBUG and (
    SECRET_KEY in INSECURE_SECRET_KEYS
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing, too short or a known default, and DEBUG is off. "
        "Set SECRET_KEY in the environment to a random string of 50+ characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For local development set DEBUG=1 instead (make run does)."
    )
if not SECRET_KEY:
    SECRET_KEY = "dev-secret-key-not-for-production"

# --- Personal data of farmers (Law 91/2025; farmers onboarding) ---------------------------
# (owned by the farmers onboarding work: keys for CCCD encryption and lookup, SMS sender)
# CCCD numbers are encrypted and looked up by a keyed hash, both derived from this key.
# Changing it makes the stored numbers unreadable: keep it with the database backups.
PERSONAL_DATA_KEY = env.str("PERSONAL_DATA_KEY", default="")
_DEV_PERSONAL_DATA_KEY = "dev-personal-data-key-not-for-production"
if not DEBUG and (
    len(PERSONAL_DATA_KEY) < 32
    or PERSONAL_DATA_KEY in INSECURE_SECRET_KEYS | {_DEV_PERSONAL_DATA_KEY}
):
    raise ImproperlyConfigured(
        "PERSONAL_DATA_KEY is missing or too short, and DEBUG is off. It encrypts citizen "
        "ID numbers (Law 91/2025). Set it to a random string of 50+ characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
        "For local development set DEBUG=1 instead (make run does)."
    )
if not PERSONAL_DATA_KEY:
    PERSONAL_DATA_KEY = _DEV_PERSONAL_DATA_KEY
PRODUCTION_ENV_VARS = (*PRODUCTION_ENV_VARS, "PERSONAL_DATA_KEY")
# --- Trace records: the Ed25519 key that signs them (traceability.signing) -------------------
# Never in the database. TRACE_SIGNING_KEY: the private key as PEM or as base64 of its 32 raw
# bytes (`python manage.py trace_key new` prints one); or TRACE_SIGNING_KEY_FILE: a PEM file.
# With DEBUG=1 and neither set, a development key is made on first use under var/.
# TRACE_RETIRED_PUBLIC_KEYS: public keys used before a rotation (base64, comma-separated),
# so that records they signed stay verifiable.
TRACE_SIGNING_KEY = env.str("TRACE_SIGNING_KEY", default="")
TRACE_SIGNING_KEY_FILE = env.str("TRACE_SIGNING_KEY_FILE", default="")
TRACE_RETIRED_PUBLIC_KEYS = env.str("TRACE_RETIRED_PUBLIC_KEYS", default="")
if not DEBUG and not TRACE_SIGNING_KEY and not Path(TRACE_SIGNING_KEY_FILE or "/-").is_file():
    raise ImproperlyConfigured(
        "TRACE_SIGNING_KEY is missing, and DEBUG is off. It signs the trace records buyers and "
        "inspectors verify; keep it out of the database and its backups. Make one with "
        "`python manage.py trace_key new` and set TRACE_SIGNING_KEY (or TRACE_SIGNING_KEY_FILE "
        "to a PEM file). For local development set DEBUG=1 instead (make run does)."
    )
if DEBUG and not TRACE_SIGNING_KEY and not TRACE_SIGNING_KEY_FILE:
    TRACE_SIGNING_KEY_FILE = str(VAR_DIR / "trace-signing-key.pem")
PRODUCTION_ENV_VARS = (*PRODUCTION_ENV_VARS, "TRACE_SIGNING_KEY")
# ID photos and member documents: never under MEDIA_ROOT, served only by a checked view.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=VAR_DIR / "private")
# Who delivers activation codes: farmers.senders.ConsoleSender (log), LocmemSender (tests).
ACTIVATION_SENDER = env.str("ACTIVATION_SENDER", default="farmers.senders.ConsoleSender")

# -------------------------------------------------------------------------------------------

# --- Payments and notifications (checkout) ---------------------------------------------------
# Card payments through Stripe: without both keys and the webhook secret the card option
# is hidden. VND is a zero-decimal currency for Stripe (150000 means 150,000 ₫).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# The public address of the site, for links in e-mails and SMS sent outside a request.
SITE_BASE_URL = env.str("SITE_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Who sends SMS to buyers about their orders (same interface as ACTIVATION_SENDER).
NOTIFICATION_SMS_SENDER = env.str(
    "NOTIFICATION_SMS_SENDER", default="farmers.senders.ConsoleSender"
)
# Producers' messages by Zalo too: the dotted path of a sender (an extension point, see
# marketplace.fulfilment.producer_notices.ZaloSender); empty: not sent by Zalo.
NOTIFICATION_ZALO_SENDER = env.str("NOTIFICATION_ZALO_SENDER", default="")

# The operator's marketplace pages in Oscar's dashboard menu (superusers only).


def _operator_only(user, url_name, url_args=None, url_kwargs=None):
    return user.is_superuser


OSCAR_DASHBOARD_NAVIGATION = [
    *OSCAR_DASHBOARD_NAVIGATION,  # noqa: F405  (Oscar's own menu, from oscar.defaults)
    {
        "label": _("Marketplace"),
        "icon": "fas fa-seedling",
        "children": [
            {"label": _("Operator's home"), "url_name": "operator:home"},
            {"label": _("Products waiting for approval"), "url_name": "shop:listing-queue"},
            {"label": _("Certificates to verify"), "url_name": "certificates:queue"},
            {"label": _("Bank transfers awaited"), "url_name": "transfers:awaiting"},
            {"label": _("Parcels"), "url_name": "fulfilment:post-parcels"},
            {"label": _("Cash handed over by the post office"), "url_name": "handovers:operator"},
            {"label": _("Producer settlements and payouts"), "url_name": "settlements:ledger"},
            {"label": _("Payment and delivery settings"), "url_name": "shop:payment-settings"},
            {"label": _("Farmers' onboarding"), "url_name": "farmers:staff-home"},
        ],
    },
]
for _item in OSCAR_DASHBOARD_NAVIGATION[-1]["children"]:
    _item["access_fn"] = _operator_only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    "django.contrib.postgres",  # trigram lookups on PostgreSQL; inert on SQLite
    # Oscar 4: the Shop config and its apps (forks of Oscar apps go in marketplace/).
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "marketplace.search.apps.SearchConfig",  # fork: search on the database
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "marketplace.dashboard.orders.apps.OrdersDashboardConfig",
    "marketplace.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    # Form widgets render through TEMPLATES (FORM_RENDERER below), so templates/ overrides
    # them too (Oscar's image widget had inline handlers, which the CSP forbids).
    "django.forms",
    # Locked doors and metrics (see the "Security" and "Observability" blocks below).
    "axes",
    "django_prometheus",
    # nongsan
    "marketplace",
    "farmers",
    "traceability",
]

SITE_ID = 1

MIDDLEWARE = [
    # Observability: request count and latency (first and last), then a request id on
    # every response and log line.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "marketplace.core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A short link's kept trace page, answered whole with what the middleware below added
    # (compressed once); first scans and everything else go on down.
    "traceability.middleware.KeptTracePageMiddleware",
    # Pages compressed for phones on 3G (WhiteNoise serves static files pre-compressed).
    # Django's GZip pads each response with random bytes against BREACH, and CSRF tokens
    # are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    # Security headers on every response, cached trace pages included (so above them).
    # django-csp's, with the unchanged policy built once (marketplace.core.security_headers).
    "marketplace.core.security_headers.PrecomputedCSPMiddleware",
    "marketplace.core.observability.PermissionsPolicyMiddleware",
    # A NUL byte or invalid UTF-8 in the address or a form: 400 before anything reads it.
    "marketplace.core.malformed.RejectMalformedRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached public trace pages, answered before sessions, locale, auth and the basket.
    "traceability.middleware.CachedTracePageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "marketplace.payments.basket_middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Sign-in lockout (django-axes): answers a locked sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Widgets are rendered with the TEMPLATES engine: templates/ may override widget templates.
FORM_RENDERER = "marketplace.core.form_renderer.FormRenderer"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "marketplace.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
                # The signed-in user's home and role links in the header.
                "marketplace.core.homes.role_home",
                # Storefront pages use the small stylesheet, not Oscar's theme.
                "marketplace.core.storefront.storefront",
            ],
        },
    },
]

# --- Database: SQLite by default, DATABASE_URL (PostgreSQL) in production -------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads or workers write at once (checkout, scans): take the write lock when
    # a transaction starts and wait for it, instead of failing with "database is locked"
    # when a reading transaction tries to write; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Connections kept between requests (each worker its own): opening one costs more CPU than
# a page's queries on the cold trace page (SQLite registers its functions and pragmas on
# each). A restored SQLite backup is written into the open file (marketplace.core.backups).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery: Redis when REDIS_URL is set, else in-process ----------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "nongsan",
        }
    }
    # Sessions read from the shared cache, written through to the database: no session
    # query on most requests. (Not with the per-process LocMemCache: a worker could read
    # its own stale copy of a session another worker changed.)
    SESSION_ENGINE = "marketplace.core.sessions.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Database sessions, every worker reading the same rows (Django's `db` engine, with
    # fewer queries: marketplace.core.sessions).
    SESSION_ENGINE = "marketplace.core.sessions.db"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
# No broker configured: run tasks in-process, so the embedded default needs no server.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "expire-certificates": {
        "task": "nongsan.expire_certificates",
        "schedule": crontab(hour=0, minute=5),  # just after midnight, Vietnam time
    },
    # Producers' morning digest of parcels to pack, then each post office's pickup list.
    "producer-digests": {
        "task": "nongsan.producer_digests",
        "schedule": crontab(hour=6, minute=0),
    },
    "pickup-lists": {
        "task": "nongsan.pickup_lists",
        "schedule": crontab(hour=7, minute=0),
    },
    # The transparency log publishes a signed checkpoint at least once a day.
    # Lots on sale past their expiry date leave the stock (traceability.sale).
    "withdraw-unsellable-lots": {
        "task": "traceability.withdraw_unsellable_lots",
        "schedule": crontab(hour=0, minute=1),
    },
    "trace-checkpoint": {
        "task": "traceability.make_checkpoint",
        "schedule": crontab(hour=0, minute=15),
    },
}

# --- Auth ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = (
    # First: refuses any sign-in to a locked account or from a locked address (axes).
    "marketplace.accounts.lockout.LockoutBackend",
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"

# --- Language: Vietnamese first, English second ------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Our own strings (maintained with makemessages), then gap-fills for Oscar's catalogue.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_oscar"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
# One date and time format in both languages: dd/mm/yyyy and HH:MM (config/formats).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# --- Files: public media and private files (operations; marketplace.core.storage) ----------
# "default": public media (product, producer and trace-page photos), at MEDIA_URL.
# "private": files that are not public (certificate scans, label PDFs, member documents,
# import files): no URL, read only by permission-checked views (serve_private).
# Embedded default: local folders MEDIA_ROOT and PRIVATE_MEDIA_ROOT. With S3_ENDPOINT_URL:
# two buckets of an S3-compatible store (django-storages; MinIO in docker-compose.yml), so
# several web and worker replicas share the files; the media bucket is read anonymously by
# the proxy in front of the app (docker-compose.yml, deploy/nginx.conf), the private one
# by nobody but the app.
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
S3_REGION = env.str("S3_REGION", default="us-east-1")
S3_MEDIA_BUCKET = env.str("S3_MEDIA_BUCKET", default="nongsan-media")
S3_PRIVATE_BUCKET = env.str("S3_PRIVATE_BUCKET", default="nongsan-private")


def s3_storages(endpoint_url, access_key, secret_key, region, media_bucket, private_bucket):
    """STORAGES entries "default" and "private" on an S3-compatible server (also used by
    the tests, against a local S3 API server)."""
    common = {
        "endpoint_url": endpoint_url,
        "access_key": access_key,
        "secret_key": secret_key,
        "region_name": region,
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "file_overwrite": False,
    }
    return {
        "default": {
            "BACKEND": "marketplace.core.storage_s3.PublicS3Storage",
            "OPTIONS": {**common, "bucket_name": media_bucket, "querystring_auth": False},
        },
        "private": {
            "BACKEND": "marketplace.core.storage_s3.PrivateS3Storage",
            "OPTIONS": {**common, "bucket_name": private_bucket},
        },
    }


if S3_ENDPOINT_URL:
    _FILE_STORAGES = s3_storages(
        S3_ENDPOINT_URL,
        S3_ACCESS_KEY_ID,
        S3_SECRET_ACCESS_KEY,
        S3_REGION,
        S3_MEDIA_BUCKET,
        S3_PRIVATE_BUCKET,
    )
else:
    _FILE_STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {"BACKEND": "marketplace.core.storage.LocalPrivateStorage"},
    }
STORAGES = {
    **_FILE_STORAGES,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Django serves media from MEDIA_ROOT only in the embedded default (local folder, DEBUG);
# in the compose shape the proxy serves /media/ from the media bucket.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG and not S3_ENDPOINT_URL)

# --- Backups (operations; marketplace.core.backups, README "Backups") -----------------------
# Where `python manage.py backup` writes its archives unless given --output.
BACKUP_DIR = env.path("BACKUP_DIR", default=VAR_DIR / "backups")
# -------------------------------------------------------------------------------------------
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- E-mail: console by default ----------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Nông sản <no-reply@nongsan.local>")

# --- Oscar ---------------------------------------------------------------------------------
OSCAR_SHOP_NAME = "Nông sản"
OSCAR_SHOP_TAGLINE = _("Provincial produce, traceable to the farm")
OSCAR_DEFAULT_CURRENCY = "VND"
# Whole đồng only: Babel formats 125000 as "125.000 ₫" in vi and "₫125,000" in en.
OSCAR_CURRENCY_FORMAT = {"VND": {"currency_digits": True, "format_type": "standard"}}
OSCAR_SLUG_MAP = {"đ": "d", "Đ": "D"}
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_PRODUCTS_PER_PAGE = 24
OSCAR_THUMBNAILER = "oscar.core.thumbnails.SorlThumbnail"
# An image's files are deleted once its deletion has committed
# (marketplace.catalogue.receivers), not at once as Oscar's own receiver would.
OSCAR_DELETE_IMAGE_FILES = False
OSCAR_MISSING_IMAGE_URL = "image_not_found.jpg"
OSCAR_REQUIRED_ADDRESS_FIELDS = ("first_name", "line1", "line4", "country")
# Facets are computed on the database by marketplace.search.listing.
OSCAR_SEARCH_FACETS = {"fields": {}, "queries": {}}
# Search runs on the database (marketplace.search, a fork of Oscar's search app); haystack
# is not installed as an app. Oscar's class loader still imports Oscar's own search modules,
# which import haystack, so give haystack a connection it never uses.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
OSCAR_HOMEPAGE = "/"
THUMBNAIL_DEBUG = False
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"

# --- Security: HTTPS, cookies, headers (`manage.py check --deploy` is clean with the
# compose environment: tests/test_security_settings.py) ------------------------------------
# With DEBUG off: HTTPS only (TLS ends at the proxy in front, which sets X-Forwarded-Proto),
# secure cookies, HSTS. SECURE_COOKIES=0 and SECURE_SSL_REDIRECT=0 only to try the compose
# shape over plain HTTP on one machine.
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and the metrics scraper speak plain HTTP inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole domain to HTTPS in browsers for months: an operator's
    # decision (HSTS_PRELOAD=1), so its deploy warning is silenced while it is off.
    SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp), in every mode: scripts only from this site's static
# files (no inline <script>, no on* attributes: templates/ overrides the Oscar templates
# that had them; tests/test_csp.py walks every template). The card page adds exactly
# Stripe's origins (marketplace.payments.checkout.STRIPE_CSP). Styles allow 'unsafe-inline':
# style attributes and <style> blocks cannot run script, Oscar's dashboard widgets
# (select2, TinyMCE, the date pickers) and Stripe's Payment Element set inline styles, and
# the markup's short style attributes would otherwise each need a class.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page uses are switched off; payment stays for Stripe's card form.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    'microphone=(), usb=(), payment=(self "https://js.stripe.com")'
)

# --- Security: password guessing and throttles ---------------------------------------------
# django-axes (marketplace.accounts.lockout): after AXES_FAILURE_LIMIT wrong passwords for
# one account (however typed: e-mail, 0905…, +84905…), or from one address, sign-in is
# refused with a Vietnamese 429 page for AXES_COOLOFF_TIME; a right password resets the
# count. The operator unlocks in Django's admin (/admin/axes/accessattempt/).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "marketplace.accounts.lockout.account_key"
AXES_LOCKOUT_CALLABLE = "marketplace.accounts.lockout.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Successful sign-ins are not stored (personal data with no use here); failures are, until
# the cool-off has passed.
AXES_DISABLE_ACCESS_LOG = True
# The operator finds the locked sign-ins (to unlock them) in the dashboard's Marketplace menu.
OSCAR_DASHBOARD_NAVIGATION[-1]["children"].append(
    {
        "label": _("Locked sign-ins"),
        "url_name": "admin:axes_accessattempt_changelist",
        "access_fn": _operator_only,
    }
)
# Throttles (marketplace.core.ratelimit.throttle): {scope: (requests, seconds)}, per client
# address, or per what is guessed at (a phone number, the signed-in user).
RATE_LIMITS = {
    # Activation codes typed for one phone number; codes sent by one staff member.
    "activation": (5, 15 * 60),
    "activation-send": (10, 60 * 60),
    # Showing a member's full citizen ID number, per staff member.
    "cccd-reveal": (20, 60 * 60),
    # Searches from one address.
    "search": (60, 60),
    # Provinces shared from trace pages, from one address.
    "province-share": (10, 60 * 60),
    # A guest's order-status form (order number and e-mail or phone), from one address.
    "guest-order": (10, 15 * 60),
}
# RATE_LIMITS_ENABLED=0 turns the throttles off, for a load test from one address only.
if not env.bool("RATE_LIMITS_ENABLED", default=True):
    RATE_LIMITS = {}

# --- Observability: JSON logs with a request id, Sentry, metrics, health ---------------------
# Logs: one JSON object a line (LOG_FORMAT=text for humans), each with the request id that
# the X-Request-ID header carries (marketplace.core.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "marketplace.core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "marketplace.core.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "oscar.alerts": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One line a request, with its request id (runserver logs its own with DEBUG=1).
        "nongsan.access": {"level": "WARNING" if DEBUG else "INFO"},
    },
}
# Errors to Sentry only when SENTRY_DSN is set (nothing is sent otherwise).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )
# /metrics (Prometheus): answered to a request with "Authorization: Bearer METRICS_TOKEN",
# or, without a token set, only to private and loopback addresses.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several gunicorn processes pool their metrics in this directory (emptied at start).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False
# /readyz counts a worker alive when its heartbeat is younger than this (seconds).
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)

# Demo data, in dependency order (`python manage.py seed_demo`).
DEMO_SEEDERS = [
    "marketplace.demo.base.seed",
    "marketplace.demo.certificates.seed",
    "marketplace.demo.wholesale.seed",
    "farmers.demo.seed",
    "traceability.demo.seed",
    "traceability.labels.seed_demo",
    "traceability.recalls.seed_demo",
    "traceability.sale.seed_demo",
]
# Orders in every state after checkout; skipped by `seed_demo --without-orders` (tests).
DEMO_ORDER_SEEDERS = ["marketplace.demo.orders.seed", "marketplace.demo.preorders.seed"]

# In development WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Oscar's class loader, with the product page view replaced (see marketplace/core/loading.py).
OSCAR_DYNAMIC_CLASS_LOADER = "marketplace.core.loading.class_loader"
