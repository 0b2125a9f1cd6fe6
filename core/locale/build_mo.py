"""Build django.mo from django.po for every language under core/locale (GNU gettext's binary format),
so no gettext tools are needed: `python core/locale/build_mo.py`. Handles the plain msgid/msgstr
entries this project's catalogue uses."""
import ast
import struct
from pathlib import Path


def read_po(path: Path) -> dict[str, str]:
    entries, key, current = {}, None, {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if line.startswith("msgid "):
            if "msgid" in current and "msgstr" in current:
                entries[current["msgid"]] = current["msgstr"]
            current, key = {"msgid": ast.literal_eval(line[6:])}, "msgid"
        elif line.startswith("msgstr "):
            current["msgstr"], key = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    if "msgid" in current and "msgstr" in current:
        entries[current["msgid"]] = current["msgstr"]
    return entries


def write_mo(entries: dict[str, str], path: Path) -> None:
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    start = 7 * 4 + 16 * len(keys)
    offsets, id_pos, str_pos = [], 0, 0
    for k in keys:
        offsets.append((len(k.encode()), start + id_pos, len(entries[k].encode()), start + len(ids) + str_pos))
        id_pos += len(k.encode()) + 1
        str_pos += len(entries[k].encode()) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    table_ids = b"".join(struct.pack("ii", n, o) for n, o, _, _ in offsets)
    table_strs = b"".join(struct.pack("ii", n, o) for _, _, n, o in offsets)
    path.write_bytes(header + table_ids + table_strs + ids + strs)


if __name__ == "__main__":
    for po in Path(__file__).parent.glob("*/LC_MESSAGES/*.po"):
        write_mo(read_po(po), po.with_suffix(".mo"))
        print(po.with_suffix(".mo"))
