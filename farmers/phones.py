"""Vietnamese phone numbers: the rule is marketplace.core.phones (the sign-in form uses it
too)."""

from marketplace.core.phones import national, to_e164

__all__ = ["national", "to_e164"]
