"""Cached database sessions (Django's `cached_db` engine: read from the cache, written
through to the database) on marketplace.core.sessions.db's reads and writes."""

from django.contrib.sessions.backends import cached_db

from marketplace.core.sessions import db


class SessionStore(cached_db.SessionStore, db.SessionStore):
    """Django's cached_db store, whose database reads and writes are db.SessionStore's."""
