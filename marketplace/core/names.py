"""People's names as Vietnamese readers expect them: one full name in Vietnamese order
("Trần Văn Nam": family name, middle name, given name), never split and re-ordered.

The whole name is kept in the user's `first_name` and `last_name` stays empty, so Django's
and Oscar's `get_full_name()` (first + last) show it exactly as written; Oscar's addresses
already keep the full name in `first_name` (marketplace.payments.address_forms)."""


def name_fields(full_name: str) -> dict:
    """The user fields for `full_name`, spaces tidied: {"first_name": …, "last_name": ""}."""
    return {"first_name": " ".join(str(full_name or "").split()), "last_name": ""}


def joined(first_name: str, last_name: str) -> str:
    """A name stored in two parts (family name in `last_name`, as forms with "Họ" and "Tên"
    keep it) as one full name in Vietnamese order."""
    return " ".join(part for part in (last_name.strip(), first_name.strip()) if part)
