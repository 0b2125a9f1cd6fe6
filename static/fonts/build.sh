#!/usr/bin/env bash
# Rebuilds the vendored fonts of the printable forms (附件1, 附件2) in this folder.
#
# The fonts are committed; run this only to reproduce or update them. It needs:
#   - the project's venv (fontTools' pyftsubset comes with WeasyPrint),
#   - Debian's texlive-lang-chinese package, downloaded but NOT installed (about 50 MB; the Fandol
#     fonts are in it) — or FANDOL_DIR pointing at an unpacked .../fonts/opentype/public/fandol,
#   - Debian's fonts-noto-cjk installed (NotoSerifCJK-Regular.ttc), or NOTO_TTC pointing at it,
#   - Debian's fonts-hanazono package, downloaded but NOT installed (about 22 MB; HanaMinA/HanaMinB
#     are in it) — or HANAZONO_DIR pointing at an unpacked .../fonts/truetype/hanazono.
#
#   bash static/fonts/build.sh
#
# Output (see README.md): three Fandol faces cut to GB2312 and punctuation, and a Noto Serif CJK SC
# fallback holding every other CJK ideograph (URO and Extension A) for rare name characters, and a
# second fallback cut from HanaMinB/HanaMinA for Extensions B–F, the compatibility ideographs,
# radicals and strokes (GB 18030-2022's ideographs beyond the BMP blocks).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
SUBSET="${SUBSET:-$ROOT/.venv/bin/pyftsubset}"
NOTO_TTC="${NOTO_TTC:-/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc}"
# Face 2 of the Debian collection is Noto Serif CJK SC (0 JP, 1 KR, 2 SC, 3 TC, 4 HK); checked below.
NOTO_FACE="${NOTO_FACE:-2}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ -z "${FANDOL_DIR:-}" ]; then
  (cd "$WORK" && apt-get download texlive-lang-chinese >/dev/null && dpkg-deb -x texlive-lang-chinese_*.deb x)
  FANDOL_DIR="$WORK/x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
  FANDOL_DOC="$WORK/x/usr/share/doc/texlive-doc/fonts/fandol"
else
  FANDOL_DOC="${FANDOL_DOC:-$FANDOL_DIR/../../../../../../doc/texlive-doc/fonts/fandol}"
fi

if [ -z "${HANAZONO_DIR:-}" ]; then
  (cd "$WORK" && apt-get download fonts-hanazono >/dev/null && dpkg-deb -x fonts-hanazono_*.deb h)
  HANAZONO_DIR="$WORK/h/usr/share/fonts/truetype/hanazono"
  HANAZONO_DOC="$WORK/h/usr/share/doc/fonts-hanazono"
else
  HANAZONO_DOC="${HANAZONO_DOC:-$HANAZONO_DIR/../../../doc/fonts-hanazono}"
fi

# 1. The character lists.
"$PY" - "$WORK" "$FANDOL_DIR" <<'EOF'
import sys
from fontTools.ttLib import TTFont

work, fandol = sys.argv[1], sys.argv[2]
# GB2312: every character its two-byte table encodes (6763 hanzi, symbols, full-width forms)...
primary = set(range(0x20, 0x7F))
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            primary.add(ord(bytes([hi, lo]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
# ...plus general punctuation (“”‘’…—), CJK symbols and punctuation, full- and half-width forms.
punctuation = set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
primary |= punctuation | {0xA0, 0xB7, 0xD7}
with open(f"{work}/primary.txt", "w") as f:
    f.write("\n".join(f"U+{c:04X}" for c in sorted(primary)))

# The fallback only ever draws what the Fandol faces lack: every CJK ideograph of the Unified
# block and Extension A that is not in all three, and the punctuation they miss.
covered = None
for name in ("FandolSong-Bold", "FandolFang-Regular", "FandolHei-Regular"):
    cmap = set(TTFont(f"{fandol}/{name}.otf").getBestCmap()) & primary
    covered = cmap if covered is None else covered & cmap
ideographs = set(range(0x3400, 0x4DC0)) | set(range(0x4E00, 0xA000))
fallback = (ideographs | punctuation) - covered
with open(f"{work}/fallback.txt", "w") as f:
    f.write("\n".join(f"U+{c:04X}" for c in sorted(fallback)))
print(f"primary {len(primary)} code points, fallback {len(fallback)}")
EOF

# 2. Subsets. All layout features are kept (vertical forms, proportional punctuation).
OPTS=(--layout-features='*' --name-IDs='*' --name-languages='*' --notdef-outline)
for face in FandolSong-Bold FandolFang-Regular FandolHei-Regular; do
  "$SUBSET" "$FANDOL_DIR/$face.otf" --unicodes-file="$WORK/primary.txt" "${OPTS[@]}" \
    --output-file="$HERE/$face-GB2312.otf"
done
"$SUBSET" "$NOTO_TTC" --font-number="$NOTO_FACE" --unicodes-file="$WORK/fallback.txt" "${OPTS[@]}" \
  --output-file="$HERE/NotoSerifCJKsc-Regular-Names.otf"
# Beyond the BMP: Extensions B, C, D, E and F (all 60,209 ideographs; Noto has only about 2,000 of
# them) from HanaMinB, merged with HanaMinA's compatibility ideographs (and their supplement), CJK
# radicals, Kangxi radicals, ideographic description characters and strokes. One face draws every
# extension character, so a name never mixes two designs of its rare characters. Tables the PDF
# does not use (FFTM, prop, BASE) are dropped.
"$SUBSET" "$HANAZONO_DIR/HanaMinB.ttf" --unicodes="U+20000-2A6DF,U+2A700-2EBEF" "${OPTS[@]}" \
  --drop-tables+=FFTM,BASE --output-file="$WORK/ext-b.ttf"
"$SUBSET" "$HANAZONO_DIR/HanaMinA.ttf" --unicodes="U+2E80-2EFF,U+2F00-2FDF,U+2FF0-2FFF,U+31C0-31EF,U+F900-FAFF,U+2F800-2FA1F" \
  "${OPTS[@]}" --drop-tables+=FFTM,prop,BASE --output-file="$WORK/ext-a.ttf"
"$ROOT/.venv/bin/pyftmerge" "$WORK/ext-b.ttf" "$WORK/ext-a.ttf" --output-file="$HERE/CJKExtNames-Regular.ttf"

# 3. Modified fonts get their own PostScript names (the OFL asks for it; the PDF's font list then
#    shows that the vendored files were embedded, not whatever the server has installed).
"$PY" - "$HERE" "$WORK" <<'EOF'
import sys
from fontTools.ttLib import TTFont

here, work = sys.argv[1], sys.argv[2]
renames = {
    "FandolSong-Bold-GB2312": None, "FandolFang-Regular-GB2312": None, "FandolHei-Regular-GB2312": None,
    "NotoSerifCJKsc-Regular-Names": "Noto Serif CJK SC Names",
    # "HanaMinA"/"HanaMinB" are Reserved Font Names under the OFL: the merged cut gets its own.
    "CJKExtNames-Regular": "CJK Ext Names",
}
for ps_name, family in renames.items():
    path = f"{here}/{ps_name}.ttf" if ps_name.startswith("CJKExt") else f"{here}/{ps_name}.otf"
    font = TTFont(path, recalcTimestamp=False)  # keeps the build reproducible
    name = font["name"]
    if ps_name.startswith("Noto"):
        assert "SC" in name.getDebugName(1), f"{path}: not the SC face ({name.getDebugName(1)})"
    if family is not None:
        ids = (1, 3, 4, 16) if ps_name.startswith("CJKExt") else (1, 4, 16)
        for record in list(name.names):
            if record.nameID in ids:
                name.setName(family, record.nameID, record.platformID, record.platEncID, record.langID)
    for record in list(name.names):
        if record.nameID == 6:
            name.setName(ps_name, 6, record.platformID, record.platEncID, record.langID)
    if "CFF " in font:
        font["CFF "].cff.fontNames = [ps_name]
    else:
        # pyftmerge stamps the merge's time; HanaMinB's own dates keep the build reproducible.
        source = TTFont(f"{work}/ext-b.ttf", lazy=True)["head"]
        font["head"].created, font["head"].modified = source.created, source.modified
    font.save(path)
    print(f"{ps_name}: {len(font.getBestCmap())} characters")
EOF

# 4. Licences travel with the files.
{
  echo "Fandol fonts: Copyright (C) 2012-2013, the Fandol team (Clerk Ma, Jie Su)."
  echo "Licence: GNU GPL version 3, with the GPL font exception:"
  echo
  echo "  As a special exception, if you create a document which uses this font, and embed this font or"
  echo "  unaltered portions of this font into the document, this font does not by itself cause the"
  echo "  resulting document to be covered by the GNU General Public License. This exception does not"
  echo "  however invalidate any other reasons why the document might be covered by the GNU General"
  echo "  Public License. If you modify this font, you may extend this exception to your version of the"
  echo "  font, but you are not obligated to do so. If you do not wish to do so, delete this exception"
  echo "  statement from your version."
  echo
  zcat "$FANDOL_DOC/COPYING.gz"
} > "$HERE/LICENSE-Fandol-GPL-3.0.txt"
{
  echo "Noto Serif CJK: Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'."
  echo "Source is a trademark of Adobe in the United States and/or other countries."
  echo
  # The licence text as Debian's fonts-noto-cjk ships it (the second, full "License: SIL-1.1" stanza).
  awk '/^License: SIL-1.1$/ {n++; next} n == 2 && /^License:/ {exit} n == 2' /usr/share/doc/fonts-noto-cjk/copyright \
    | sed -e 's/^ //' -e 's/^\.$//'
} > "$HERE/LICENSE-Noto-OFL-1.1.txt"
{
  echo "CJKExtNames-Regular.ttf is a modified version (subset and merge, renamed) of HanaMinB and HanaMinA"
  echo "(Hanazono fonts, GlyphWiki Project, http://fonts.jp/hanazono/), as Debian's fonts-hanazono ships them."
  echo "Dual licence: the Hanazono Font License or the SIL Open Font License 1.1; used here under either."
  echo
  sed -e 's/^ //' -e 's/^\.$//' "$HANAZONO_DOC/copyright" | sed -n '/^License: Hanazono-Font-License/,$p'
} > "$HERE/LICENSE-Hanazono.txt"
ls -l "$HERE"
