"""Compile every locale*/<lang>/LC_MESSAGES/django.po to .mo with Babel.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh machine may lack;
Babel is already installed with Oscar. `--check` exits 1 if a .mo is stale or a
message is untranslated or fuzzy.
"""

import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def catalogues():
    return sorted(ROOT.glob("locale*/*/LC_MESSAGES/django.po"))


def compile_po(po_path: Path) -> bytes:
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def problems(po_path: Path) -> list[str]:
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            found.append(f"{po_path}: fuzzy: {message.id!r}")
        elif not all(strings):
            found.append(f"{po_path}: untranslated: {message.id!r}")
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists() or mo_path.read_bytes() != compile_po(po_path):
        found.append(f"{mo_path}: stale; run `make messages`")
    return found


def main(argv):
    if "--check" in argv:
        found = [p for po in catalogues() for p in problems(po)]
        print("\n".join(found) or "all catalogues translated and compiled")
        return 1 if found else 0
    for po in catalogues():
        po.with_suffix(".mo").write_bytes(compile_po(po))
        print(f"compiled {po.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
