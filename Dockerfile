# nongsan production image: gunicorn serving config.wsgi; docker-compose.yml runs the
# Celery worker and beat from the same image.
#
# There is deliberately no .dockerignore: the COPY lines below name exactly what goes into
# the image, so .venv/, db.sqlite3, media/, var/, staticfiles/ and .git/ never reach it.
# The image holds no secrets: SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS come
# from the environment at run time (config/settings.py, PRODUCTION_ENV_VARS).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/app/media

RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

# pg_dump and pg_restore of the server's major version (PostgreSQL 16, docker-compose.yml),
# for `manage.py backup` and `restore`: from the PostgreSQL project's Debian repository,
# set up by Debian's postgresql-common (its signing key ships in that package).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first (the pinned full closure), so code changes reuse this layer.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# Code stays root-owned (read-only for the app user); only media/, var/ (search index)
# and staticfiles/ are writable. The named media volume inherits /app/media's owner.
COPY manage.py pyproject.toml ./
COPY config ./config
COPY marketplace ./marketplace
COPY farmers ./farmers
COPY traceability ./traceability
COPY templates ./templates
COPY static ./static
COPY locale ./locale
COPY locale_oscar ./locale_oscar
RUN mkdir -p /app/media /app/private /app/var /app/staticfiles /backups \
    && chown app:app /app/media /app/private /app/var /app/staticfiles /backups

USER app

# Static files are collected at build time. Settings refuse to load without a real
# SECRET_KEY, PERSONAL_DATA_KEY and TRACE_SIGNING_KEY when DEBUG is off, so this one RUN
# line gets random, build-only keys and a throwaway SQLite URL; none is kept in the
# image's environment.
RUN SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    PERSONAL_DATA_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    TRACE_SIGNING_KEY="$(python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/build.sqlite3

EXPOSE 8000

# Access log lines come from the app, as JSON with their request id (nongsan.access).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
