"""The banks members are paid into: the marketplace's list (marketplace.core.banks)."""

from marketplace.core.banks import BANKS, BY_BIN, choices, short_name

__all__ = ["BANKS", "BY_BIN", "choices", "short_name"]
