"""Fill msgstr in a .po from a JSON {msgid: translation} file and clear fuzzy flags.

Usage: python scripts/fill_translations.py locale/vi/LC_MESSAGES/django.po vi.json
"""
import sys, json
from babel.messages.pofile import read_po, write_po
path, table = sys.argv[1], json.load(open(sys.argv[2]))
cat = read_po(open(path, 'rb'))
missing = []
for m in cat:
    if not m.id: continue
    key = m.id if isinstance(m.id, str) else m.id[0]
    if key in table:
        m.string = table[key] if isinstance(m.id, str) else tuple([table[key]] * len(m.string))
        if m.fuzzy: m.flags.discard('fuzzy')
    elif not (m.string if isinstance(m.string,str) else all(m.string)):
        missing.append(key)
cat.fuzzy = False
write_po(open(path, 'wb'), cat, width=100, omit_header=False, include_previous=False)
print("still missing:", missing)
