# Kept for callers not yet moved: the one implementation is marketplace.core.text.
from marketplace.core.text import fold, strip_marks, terms  # noqa: F401
