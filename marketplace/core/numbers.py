"""How a number that arrives in an address, a query or a form becomes an int.

One strict rule for IDs, facets, page numbers and codes typed by people:

- only ASCII digits count ("²" and "٣" are digits to `str.isdigit()` and fail or surprise
  `int()`); an optional leading "-" only where negative numbers make sense;
- at most `MAX_DIGITS` digits and within the range every database stores (a 64-bit
  integer): SQLite cannot even compare a larger integer and raises OverflowError;
- anything else is `None` (or the caller's default), never an exception.

`is_digits` is the test for a code made of digits (a citizen ID, an account number).

Django's own forms and Oscar's pages look rows up with numbers they did not parse here
(a model choice, an object ID in the dashboard): `guard_sqlite` makes SQLite treat an
integer beyond its range as the number it is (a float that matches no row) instead of
raising, as PostgreSQL does.
"""

DB_MIN = -(2**63)
DB_MAX = 2**63 - 1
MAX_DIGITS = 19  # 2**63 - 1 has 19


def is_digits(value) -> bool:
    """True for a non-empty string of ASCII digits 0-9 only."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def parse_int(value, default=None, *, minimum=None, maximum=None, signed=False):
    """`value` (str or int) as an int within [minimum, maximum] and the database's range;
    `default` for anything else (None, "", "abc", "²", "1e3", " 12", a huge number)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    else:
        text = value if isinstance(value, str) else ""
        negative = signed and text.startswith("-")
        digits = text[1:] if negative else text
        if not is_digits(digits) or len(digits) > MAX_DIGITS:
            return default
        number = -int(digits) if negative else int(digits)
    if not DB_MIN <= number <= DB_MAX:
        return default
    if minimum is not None and number < minimum:
        return default
    if maximum is not None and number > maximum:
        return default
    return number


def parse_id(value):
    """A primary key from an address or a form: a positive int, or None."""
    return parse_int(value, minimum=1)


def _sqlite_int(value: int):
    return value if DB_MIN <= value <= DB_MAX else float(value)


def guard_sqlite() -> None:
    """Let SQLite compare integers beyond 64 bits (as floats: they match no stored key)
    instead of raising OverflowError from deep inside a query."""
    import sqlite3

    sqlite3.register_adapter(int, _sqlite_int)
