"""Fill msgstr in a .po file from a JSON {msgid: translation} file and clear fuzzy flags.

Usage: python scripts/fill_translations.py locale/vi/LC_MESSAGES/django.po vi.json
Prints the msgids still untranslated. Run `make messages` afterwards.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> None:
    with open(json_path, encoding="utf-8") as fh:
        table = json.load(fh)
    with open(po_path, "rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        plural = not isinstance(message.id, str)
        key = message.id[0] if plural else message.id
        if key in table:
            message.string = tuple([table[key]] * len(message.string)) if plural else table[key]
            message.flags.discard("fuzzy")
        elif not (all(message.string) if plural else message.string):
            missing.append(key)
    catalog.fuzzy = False
    with open(po_path, "wb") as fh:
        write_po(fh, catalog, width=100, include_previous=False)
    print("still untranslated:", missing)


if __name__ == "__main__":
    main(*sys.argv[1:3])
