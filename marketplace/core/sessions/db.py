"""Database sessions (Django's `db` engine) read and written with fewer queries: see
marketplace.core.sessions."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string

from marketplace.core.prepared import PreparedQuery


def _session_model():
    return SessionStore.get_model_class()


# The session row of a key (its primary key), expired or not: the expiry is compared after.
_BY_KEY = PreparedQuery(lambda key: _session_model().objects.filter(session_key=key))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """Django's: the unexpired session of this key, else None (and no key kept)."""
        key = self.session_key
        found = _BY_KEY(key) if key is not None else []
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None

    def _get_new_session_key(self):
        """A random key, not looked up: saving it (must_create) fails on a key already
        taken, and create() then tries another."""
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        connection = connections[router.db_for_write(self.model)]
        if connection.in_atomic_block or not connection.get_autocommit():
            return super().save(must_create)  # in a savepoint (Django's way)
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        try:
            obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
