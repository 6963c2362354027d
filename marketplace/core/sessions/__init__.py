"""Session engines: Django's database sessions (`db`, the embedded default) and cached
database sessions (`cached_db`, with REDIS_URL), each with the same rows, cookies and
expiry, in fewer queries and less CPU per request:

- a session is read by its key with SQL compiled once per connection
  (marketplace.core.prepared), its expiry compared here, instead of the ORM compiling the
  lookup on every request (about 0.3 ms of CPU a request);
- a session is written in one statement when no transaction is open (as after a view,
  where SessionMiddleware writes it): a single UPDATE or INSERT is atomic by itself, so
  Django's BEGIN and COMMIT around it are two round trips for nothing. Inside a
  transaction it is written as Django writes it, in a savepoint, so that a key already
  taken does not spoil the transaction;
- a new session's key is not looked up first: its INSERT fails on a key already taken
  (32 random characters: practically never), and Django's create() tries another.
"""
