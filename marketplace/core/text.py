"""How Vietnamese text is folded for search and matching.

"Cà phê Buôn Ma Thuột", "ca phe buon ma thuot" and "CA PHE" all fold to
"ca phe buon ma thuot"; "Đắk Lắk" to "dak lak" (đ is a letter of its own, not a
d with a combining mark, so it is mapped explicitly).
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]")


def strip_marks(text: str | None) -> str:
    """The text without diacritics (đ → d, Đ → D), case and punctuation kept: what bank
    systems and VietQR write."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D")


def fold(text: str | None) -> str:
    """Lower case, no diacritics, đ → d, punctuation to spaces, single spaces."""
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", strip_marks(text).lower())).strip()


def terms(query: str | None, *, limit: int = 8) -> list[str]:
    """The distinct folded words of a query, at most `limit` of them."""
    seen: list[str] = []
    for word in fold(query).split():
        if word not in seen:
            seen.append(word)
    return seen[:limit]
