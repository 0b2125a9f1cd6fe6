"""The spreadsheet importer framework: an .xlsx checked, read, planned and kept for a preview,
then applied at once. The member roster (orgs.roster_import) and the organisation tree
(orgs.org_import) are two `Importer`s over it.

    check_upload      the file before any XML is parsed: .xlsx by name and by zip magic, size,
                      unzipped size and ratio (zip bombs), no DOCTYPE/ENTITY (XML bombs; openpyxl
                      also parses through defusedxml, which refuses them)
    read_sheet        the sheet read once (core.sheet_reader); the header row found by name in the
                      first ten rows (synonyms, title rows above it, a two-row header under a merged
                      group title); notes rows and repeated headers skipped and listed; every
                      column reported as imported or not, and why; each row parsed by its `Layout`
    group_errors      messages that repeat, grouped for the preview, rarest first
    save_plan / plan_for / apply_plan
                      the plan store: a JSON file per plan under MEDIA_ROOT/imports, readable by its
                      owner only, for one kind of import; claimed (renamed) when applied, so a
                      second click or tab cannot apply it twice; a .done marker says what it did
    Importer          what an importer tells the shared pages (orgs.views_import): who may use it,
                      its texts and URL names, and its prepare / apply / template steps

All or nothing: one bad row and nothing is written; every message names the row and the column
(第5002行「入党时间」：…).
"""
import datetime
import io
import json
import re
import time
import unicodedata
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from core.sheet_reader import Sheet, read_rows

# --- limits (settings may override; config/settings.py need not name them) -------------------


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_bytes() -> int:
    return _setting("ROSTER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)


def max_unzipped() -> int:
    return _setting("ROSTER_IMPORT_MAX_UNZIPPED", 100 * 1024 * 1024)


# Sheet XML of real rosters compresses 10–30×; a bomb compresses hundreds or thousands of times.
MAX_RATIO = 200
RATIO_CHECK_FROM = 1024 * 1024
MAX_ZIP_ENTRIES = 500
HEADER_SCAN_ROWS = 10
PLAN_DIR = "imports"
PLAN_MAX_AGE = 6 * 3600          # a preview older than this must be uploaded again
PLAN_KEEP = 24 * 3600            # leftover plan files are removed after a day
ERROR_CODES = {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#GETTING_DATA"}
EXAMPLE_MARK = "示例行，导入时自动跳过"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --- columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False
    hint: str = ""

    @property
    def also(self) -> tuple[str, ...]:
        """The other ways of writing the column's name."""
        return tuple(s for s in self.synonyms if s != self.label)


# Full-width forms (ＡＢＣ１２３．－／) → ASCII. Free text keeps Chinese punctuation (，（）：) and
# loses only full-width letters and digits; dates, phones and organisation keys lose all of them.
FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_ALNUM = {code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_SPACES = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x200B: "", 0xFEFF: "",
           0x09: " ", 0x0A: " ", 0x0D: " "}
_CLEAN = {**_ALNUM, **_SPACES}


def header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"\(.*?\)", "", text)
    return re.sub(r"[\s*:：]", "", text).lower()


# --- cell values --------------------------------------------------------------------------

class CellError(Exception):
    """One cell that cannot be read; the message is Chinese and names the value."""


def clean_text(value) -> str:
    """Text of a cell: full-width letters, digits and spaces made half-width, trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return " ".join(str(value).translate(_CLEAN).split())


def name_key(text: str) -> str:
    """An organisation's name, short name or code as compared: no spaces, half-width, any case."""
    return "".join(clean_text(text).translate(FULLWIDTH).split()).casefold()


def check_text(text: str, *, limit: int | None = None) -> str:
    """Cleaned text of a free-text cell: not an error value, not formula text, not too long."""
    if text in ERROR_CODES:
        raise CellError(f"单元格是错误值{text}")
    if text.startswith("="):
        # With data_only a real formula arrives as its cached result; a value that still starts
        # with "=" is formula text typed as a string, which would run if exported to Excel again.
        raise CellError(f"“{text[:20]}”以“=”开头，像是公式，请改为文字")
    if limit and len(text) > limit:
        raise CellError(f"内容过长（{len(text)}字），最多{limit}字")
    return text


# --- the upload, before parsing -----------------------------------------------------------

def check_upload(upload) -> bytes:
    """The bytes of an uploaded roster that may be parsed, or a ValidationError in Chinese."""
    name = str(getattr(upload, "name", "") or "")
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("只能导入 .xlsx 格式的 Excel 工作簿。.xls、.et 或 .csv 文件请先在 Excel 或 WPS 中"
                              "“另存为”Excel 工作簿（*.xlsx）。", code="extension")
    limit = max_bytes()
    too_big = ValidationError(f"文件超过{limit // (1024 * 1024)}MB，请分成几个文件导入。", code="size")
    if upload.size is not None and upload.size > limit:
        raise too_big
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big
    if not data:
        raise ValidationError("上传的文件是空的。", code="empty")
    check_xlsx_bytes(data)
    return data


def check_xlsx_bytes(data: bytes) -> None:
    """Refuse what is not an xlsx package, and packages built to exhaust memory."""
    if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise ValidationError("服务器未安装 defusedxml，暂不能导入 Excel 文件，请联系系统管理员。")
    not_xlsx = ValidationError("该文件不是有效的 .xlsx 工作簿。", code="not_xlsx")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError("该文件是旧版 .xls 格式，或设置了打开密码。请取消密码并另存为 .xlsx 后再上传。",
                              code="not_xlsx")
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_xlsx from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
    bomb = ValidationError("该文件解压后异常巨大，可能是恶意构造的文件，已拒绝导入。", code="bomb")
    if len(infos) > MAX_ZIP_ENTRIES or sum(info.file_size for info in infos) > max_unzipped():
        raise bomb
    for info in infos:
        if info.flag_bits & 0x1:
            raise ValidationError("该工作簿已加密，请取消密码后再上传。", code="encrypted")
        if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise bomb
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, info):
            raise ValidationError("该文件含有不允许的 XML 声明（DOCTYPE/ENTITY），可能是恶意构造的文件，"
                                  "已拒绝导入。请在 Excel 或 WPS 中重新保存后再上传。", code="xml_bomb")


_DTD_MARKERS = tuple(word.encode(encoding) for word in ("<!DOCTYPE", "<!ENTITY")
                     for encoding in ("ascii", "utf-16-le", "utf-16-be"))


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    # Office never writes a DTD; entity expansion (billion laughs) needs one. Scanned in chunks,
    # with an overlap so a marker split across two chunks is still seen. Sizes were checked above.
    tail = b""
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1 << 20):
                window = tail + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    return True
                tail = window[-32:]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        raise ValidationError("该文件不是有效的 .xlsx 工作簿。", code="not_xlsx") from None
    return False


# --- reading ------------------------------------------------------------------------------

@dataclass
class Roster:
    """What was read from the file: the header found, and one dict per data row."""

    sheet: str
    header_row: int
    columns: dict[str, str]                  # field → header as written in the file
    ignored: list[str]                       # headers that were not used
    other_sheets: list[str]
    rows: list[dict]
    skipped_example: bool = False
    report: list[dict] = field(default_factory=list)    # every column: letter, header, field or why not
    skipped: list[dict] = field(default_factory=list)   # rows left out: number, text, why
    header_rows: int = 1                                 # a header of two rows (a merged group title)


@dataclass(frozen=True)
class Layout:
    """What one kind of sheet looks like: its columns, how a row is read, and what it holds."""

    columns: tuple[Column, ...]
    parse_row: Callable[[int, dict, object], dict]
    noun: str                    # 党员 / 党组织, for messages
    no_header: str               # the message when no header row is found
    max_rows: Callable[[], int]
    ignored_columns: tuple = ()  # (pattern over the header key, why it is not imported)
    repeatable: frozenset = frozenset()  # fields a file may have several columns of
    sentinel: str = ""           # a field every data row fills (a row without it may be a note)
    missing_hints: dict = field(default_factory=dict)  # field → what else to do when its column is missing

    @cached_property
    def header_index(self) -> dict[str, str]:
        return {header_key(s): c.field for c in self.columns for s in c.synonyms}

    @cached_property
    def labels(self) -> dict[str, str]:
        return {c.field: c.label for c in self.columns}

    def why_ignored(self, header: str) -> str:
        key = header_key(header)
        for pattern, why in self.ignored_columns:
            if pattern.search(key):
                return why
        return "系统中没有这一项，不导入"


def base_field(field_name: str) -> str:
    """type_2 → type: the second column of a repeatable field."""
    return field_name.split("#")[0]


def _match_header(texts: list[str], layout: Layout) -> tuple[dict[str, tuple[int, str]], list[dict]]:
    """The fields a header row names (field → column index and header as written), and what
    becomes of every column: imported into which field, or ignored and why."""
    found: dict[str, tuple[int, str]] = {}
    uses: list[dict] = []
    for index, text in enumerate(texts):
        if not text:
            continue
        header = text.rstrip("*").strip()
        use = {"index": index, "col": get_column_letter(index + 1), "header": header, "field": "", "note": ""}
        field_name = layout.header_index.get(header_key(text))
        if field_name is None:
            use["note"] = layout.why_ignored(text)
        elif field_name in layout.repeatable:
            n = sum(base_field(f) == field_name for f in found)
            use["field"] = field_name if n == 0 else f"{field_name}#{n + 1}"
        elif field_name in found:
            use["note"] = f"与「{found[field_name][1]}」列重复，只导入第一列"
        else:
            use["field"] = field_name
        if use["field"]:
            found[use["field"]] = (index, header)
        uses.append(use)
    return found, uses


def _from_defusedxml(exc: BaseException | None) -> bool:
    """openpyxl wraps parser errors in its own ValueError; look down the chain."""
    while exc is not None:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _unreadable(exc: BaseException) -> ValidationError:
    if _from_defusedxml(exc):
        return ValidationError("该文件含有不允许的 XML 声明，可能是恶意构造的文件，已拒绝导入。", code="xml_bomb")
    return ValidationError("无法读取该工作簿，请在 Excel 或 WPS 中重新保存为 .xlsx 后再上传。", code="unreadable")


def read_sheet(data: bytes, layout: Layout, *, optional: set[str] = frozenset()) -> Roster:
    """Find the header row (the first of the first ten rows naming ≥2 known columns) on the first
    sheet that has one, and read every row below it. File-level problems raise.
    Required columns named in `optional` may be missing."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - defusedxml and broken packages raise many kinds
        raise _unreadable(exc) from None
    try:
        return _read_workbook(workbook, layout, optional)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(exc) from None
    finally:
        workbook.close()


def _read_workbook(workbook, layout: Layout, optional) -> Roster:
    sheets = [ws for ws in workbook.worksheets if hasattr(ws, "_worksheet_path")]  # not chart sheets
    # Rows beyond the data limit are refused while reading (notes and blank rows need some room).
    raw_limit = 2 * layout.max_rows() + 1000
    for position, ws in enumerate(sheets):
        sheet = Sheet(ws.title)
        rows = read_rows(workbook, ws, sheet)
        for number, values in rows:
            if number > HEADER_SCAN_ROWS:
                break
            found, _uses = _match_header([clean_text(v) for v in values], layout)
            if len(found) >= 2:
                others = [s.title for i, s in enumerate(sheets) if i != position]
                body = []
                for row in rows:
                    body.append(row)
                    if len(body) > raw_limit:
                        raise ValidationError(f"表格超过{layout.max_rows()}行，请分成几个文件导入。", code="rows")
                return _read_body(sheet, number, values, body, others, workbook.epoch, layout, optional)
        rows.close()
    raise ValidationError(layout.no_header, code="no_header")


# Rows below the header that are no member: 制表人：…, 合计：…, 注：…, 填表日期 … (a row whose
# sentinel cell — 性别 for a roster — is empty and whose first text starts with one of these).
NOTE_ROW = re.compile(r"^(制表|填表|填报|审核|审批|复核|负责人|单位负责人|联系人|经办人|合计|总计|共计|小计|注|备注|"
                      r"说明|附注|签字|签名|盖章|统计|打印|日期|报送|以上|以下|本表)")


def _header_texts(block: list[list], layout: Layout) -> list[str]:
    """One header per column of a header of several rows (a group title merged across columns
    above its sub-headers): the lowest text naming a known column, else the lowest text."""
    width = max(len(values) for values in block)
    texts = []
    for index in range(width):
        cells = [clean_text(values[index]) for values in block if index < len(values)]
        cells = [c for c in cells if c]
        known = [c for c in cells if header_key(c) in layout.header_index]
        texts.append((known or cells or [""])[-1])
    return texts


def _read_body(sheet: Sheet, header_row, header_values, body, others, epoch, layout, optional) -> Roster:
    # A header cell merged down over the next row(s) makes those rows part of the header.
    header_end = max([r2 for c1, r1, c2, r2 in sheet.merges if r1 == header_row and r2 > header_row],
                     default=header_row)
    following = next(((n, v) for n, v in body if n > header_end), None)
    if following is not None:
        # Sub-headers under a group title that was not merged: a row naming known columns, with
        # nothing in the column every member fills.
        named, _uses = _match_header([clean_text(v) for v in following[1]], layout)
        sentinel_cell = _match_header([clean_text(v) for v in header_values], layout)[0].get(layout.sentinel)
        empty_sentinel = sentinel_cell is not None and _blank(
            following[1][sentinel_cell[0]] if sentinel_cell[0] < len(following[1]) else None)
        if len(named) >= 2 or (named and empty_sentinel):
            header_end = following[0]
    block = [header_values] + [values for number, values in body if number <= header_end]
    found, uses = _match_header(_header_texts(block, layout), layout)
    missing = [c for c in layout.columns if c.required and c.field not in found and c.field not in optional]
    if missing:
        names = "、".join(f"「{c.label}」" for c in missing)
        accepted = "；".join(f"{c.label}：{'/'.join(c.synonyms[:6])}" for c in missing)
        hint = "".join(layout.missing_hints.get(c.field, "") for c in missing)
        raise ValidationError(f"第{header_row}行的表头中缺少{names}列（可用的列名 {accepted}）{hint}。",
                              code="missing_column")
    columns = {f: text for f, (_, text) in found.items()}
    indexes = [(f, i) for f, (i, _) in found.items()]
    data = [(number, values) for number, values in body if number > header_end]
    filled = _fill_merged_down(sheet, data, header_end)
    wide = {r for c1, r1, c2, r2 in sheet.merges if c2 - c1 >= 2 for r in range(r1, r2 + 1)}
    sentinel = found.get(layout.sentinel, (None,))[0]
    limit = layout.max_rows()
    parsed: list[dict] = []
    skipped: list[dict] = []
    skipped_example = False
    has_data = {f: False for f in found}
    for number, values in data:
        cells = {f: values[i] if i < len(values) else None for f, i in indexes}
        given = [f for f, v in cells.items() if not _blank(v) and not (filled and (number, f) in filled)]
        if not given:
            texts = _texts(values)
            if any(not re.fullmatch(r"[\d.]+", t) for t in texts):
                noted = NOTE_ROW.match(texts[0]) or number in wide
                skipped.append({"row": number, "text": texts[0][:40],
                                "why": "说明、合计或分组行" if noted else "没有可导入的内容"})
            continue
        if cells.get("note") is not None and clean_text(cells["note"]) == EXAMPLE_MARK:  # the template's example
            skipped_example = True
            continue
        if sentinel is not None:
            mark = values[sentinel] if sentinel < len(values) else None
            if _blank(mark):
                texts = _texts(values)
                if NOTE_ROW.match(texts[0]) or number in wide:
                    skipped.append({"row": number, "text": texts[0][:40], "why": "说明、合计或分组行"})
                    continue
            elif isinstance(mark, str) and len(mark.strip()) > 1 and \
                    layout.header_index.get(header_key(clean_text(mark))) == layout.sentinel:
                # Exports laid out for printing repeat the header on every page.
                skipped.append({"row": number, "text": "、".join(_texts(values)[:3])[:40], "why": "重复的表头"})
                continue
        if len(parsed) >= limit:
            raise ValidationError(f"表格超过{limit}行，请分成几个文件导入。", code="rows")
        formula_errors, formula_notes = [], []
        for f, i in indexes if sheet.formulas else ():
            cell = sheet.formulas.get((number, i + 1))
            if cell is None:
                continue
            if not cell.cached:
                formula_errors.append([f, "公式没有计算结果，请在 Excel 中打开并保存后再导入", cell.ref])
                del cells[f]  # unknown, not empty: no 不能为空 on top
            elif not _blank(cells[f]):
                formula_notes.append([f, f"是公式，按其计算结果“{clean_text(cells[f])[:20]}”导入，请核对", cell.ref])
        row = layout.parse_row(number, cells, epoch)
        if formula_errors or formula_notes:
            row["errors"] = formula_errors + row["errors"]
            row["warnings"] = formula_notes + row["warnings"]
        for f in given:
            has_data[f] = True
        parsed.append(row)
    if not parsed:
        raise ValidationError(f"第{header_row}行是表头，但下面没有{layout.noun}数据。", code="empty")
    report = []
    for use in uses:
        entry = {"col": use["col"], "header": use["header"], "field": "", "note": use["note"]}
        if use["field"]:
            entry["field"] = use["field"]
            if not has_data.get(use["field"]):
                entry["note"] = "此列没有内容"
        report.append(entry)
    covered = {u["index"] for u in uses}
    width = max((len(values) for _, values in data), default=0)
    for index in range(width):
        if index not in covered and any(index < len(v) and not _blank(v[index]) for _, v in data):
            report.append({"col": get_column_letter(index + 1), "header": "", "field": "",
                           "note": "没有列名，不导入"})
    report.sort(key=lambda e: (len(e["col"]), e["col"]))
    return Roster(sheet=sheet.title, header_row=header_row, columns=columns,
                  ignored=[u["header"] for u in uses if not u["field"]], other_sheets=others, rows=parsed,
                  skipped_example=skipped_example, report=report, skipped=skipped,
                  header_rows=header_end - header_row + 1)


def _texts(values: list) -> list[str]:
    return [t for t in (clean_text(v) for v in values) if t]


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fill_merged_down(sheet: Sheet, data: list[tuple[int, list]], header_end: int) -> set[tuple[int, int]]:
    """A cell merged down over several rows (a branch name beside its members) holds its value in
    the top row only: copy it into each row it covers. Returns (row, column) of the copies."""
    by_number = {number: values for number, values in data}
    copied = set()
    for min_col, min_row, _max_col, max_row in sheet.merges:
        if max_row <= min_row or min_row <= header_end or min_row not in by_number:
            continue
        top = by_number[min_row]
        value = top[min_col - 1] if min_col - 1 < len(top) else None
        if _blank(value):
            continue
        for number in range(min_row + 1, max_row + 1):
            values = by_number.get(number)
            if values is None:
                continue
            if len(values) < min_col:
                values.extend([None] * (min_col - len(values)))
            if _blank(values[min_col - 1]):
                values[min_col - 1] = value
                copied.add((number, min_col - 1))
    return copied


@dataclass
class RowError:
    row: int
    column: str
    message: str
    cell: str = ""          # D12: for a cell's own trouble (a formula without a result)

    def __str__(self) -> str:
        return f"第{self.row}行{self.in_row()}" if self.column else f"第{self.row}行：{self.message}"

    def in_row(self) -> str:
        """The message without the row number, for the row's own line on the preview."""
        if not self.column:
            return self.message
        return f"「{self.column}」{f'（{self.cell}）' if self.cell else ''}：{self.message}"

    def as_list(self) -> list:
        return [self.row, self.column, self.message, self.cell]


class ConflictsUnresolved(Exception):
    """Conflict rows without a valid choice; the message (Chinese) names them."""

    def __init__(self, message: str, rows: list[int] = ()):
        super().__init__(message)
        self.message, self.rows = message, list(rows)


# --- the plan store ---------------------------------------------------------------------------

def _plan_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / PLAN_DIR


def _plan_path(token: str, suffix: str = ".json") -> Path:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise FileNotFoundError(token)
    return _plan_dir() / f"{token}{suffix}"


def _sweep_old_plans() -> None:
    cutoff = time.time() - PLAN_KEEP
    for path in _plan_dir().glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


# Error and warning groups shown on the preview, rarest first: one bad cell among 10,000 rows
# is on the first screen, and a column error repeated in every row takes one line.
GROUPS_SHOWN = 100
_QUOTED = re.compile(r"“[^”]*”")


def row_ranges(rows: list[int], *, limit: int = 6) -> str:
    """[2, 3, 4, 9] → 第2–4、9行 (at most `limit` runs, then 等)."""
    runs: list[list[int]] = []
    for n in sorted(set(rows)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = "、".join(f"{a}–{b}" if b > a else str(a) for a, b in runs[:limit])
    return f"第{text}{'等' if len(runs) > limit else ''}行"


def group_errors(errors: list[RowError], *, limit: int = GROUPS_SHOWN) -> list[dict]:
    """Messages that repeat (same column, same wording but for the value quoted in it) as one
    line each with their rows and count, the rarest first."""
    groups: dict[tuple, dict] = {}
    for e in errors:
        letter = re.sub(r"\d", "", e.cell)
        key = (e.column, letter, _QUOTED.sub("“…”", e.message))
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"rows": [], "messages": [], "first": e.row, "column": e.column, "letter": letter}
        group["rows"].append(e.row)
        if len(group["messages"]) < 4 and e.message not in group["messages"]:
            group["messages"].append(e.message)
    out = []
    for (column, letter, template), g in sorted(groups.items(), key=lambda kv: (len(kv[1]["rows"]), kv[1]["first"])):
        where = f"「{column}」" + (f"（{letter}列）" if letter else "") if column else ""
        message = g["messages"][0] if len(g["messages"]) == 1 else template
        examples = [m for m in g["messages"]] if len(g["messages"]) > 1 else []
        cell = next((e.cell for e in errors if e.row == g["first"] and e.column == column and e.cell), "") \
            if len(g["rows"]) == 1 else ""
        out.append({"rows": row_ranges(g["rows"]), "where": where if len(g["rows"]) > 1 or not cell else
                    f"「{column}」（{cell}）", "message": message, "count": len(g["rows"]),
                    "examples": examples[:3]})
    return out[:limit]


def save_plan(stored: dict) -> str:
    """Keep a checked plan (it holds personal data: only its owner reads it) under a new token."""
    directory = _plan_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep_old_plans()
    token = uuid.uuid4().hex
    # json.dumps runs the C encoder; json.dump to a file would encode piece by piece in Python.
    with open(_plan_path(token), "x", encoding="utf-8") as fh:
        fh.write(json.dumps(stored, ensure_ascii=False, separators=(",", ":")))
    return token


class PlanGone(Exception):
    """The plan was applied already, expired, or never existed; the message says which (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def plan_for(*, actor, token: str, kind: str = "members") -> dict:
    """The stored plan of `token` if `actor` made it for this kind of import; PlanGone
    (used/expired) or FileNotFoundError. Plans kept before there were kinds are rosters."""
    try:
        path = _plan_path(token)
    except FileNotFoundError:
        raise
    for suffix, message in ((".done", None), (".applying", "该名册正在导入，请稍后刷新党员名册查看结果。")):
        other = _plan_path(token, suffix)
        if other.exists():
            info = json.loads(other.read_text(encoding="utf-8"))
            if info.get("owner") != actor.pk:
                raise FileNotFoundError(token)
            if info.get("kind", "members") != kind:
                raise FileNotFoundError(token)
            if message is None:
                when = timezone.localtime(datetime.datetime.fromtimestamp(info["finished"], datetime.UTC))
                message = f"该表格已于{when:%Y年%m月%d日 %H:%M}导入（{info['summary']}），不能重复导入。"
            raise PlanGone(message)
    stored = json.loads(path.read_text(encoding="utf-8"))
    if stored.get("owner") != actor.pk or stored.get("kind", "members") != kind:
        raise FileNotFoundError(token)
    if time.time() - stored["created"] > PLAN_MAX_AGE:
        raise PlanGone("该导入预览已过期，请重新上传名册。")
    return stored


def apply_plan(*, actor, token: str, kind: str, apply: Callable[..., dict],
               summary: Callable[[dict], str]) -> dict:
    """Claim the stored plan (rename it, so a second click or tab cannot apply it twice), run
    `apply(actor=, stored=)` — one transaction — and leave a .done marker saying what it did.
    A failed apply discards the plan: the file must be uploaded again."""
    stored = plan_for(actor=actor, token=token, kind=kind)
    if stored["errors"]:
        raise ValidationError("表格中有错误，不能导入。请修改后重新上传。")
    path, claimed = _plan_path(token), _plan_path(token, ".applying")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        raise PlanGone("该表格正在导入或已经导入，不能重复导入。") from None
    claimed.write_text(json.dumps({"owner": actor.pk, "kind": kind}), encoding="utf-8")
    try:
        counts = apply(actor=actor, stored=stored)
    except BaseException:
        claimed.unlink(missing_ok=True)
        raise
    claimed.unlink(missing_ok=True)
    _plan_path(token, ".done").write_text(json.dumps(
        {"owner": actor.pk, "kind": kind, "finished": time.time(), "summary": summary(counts)},
        ensure_ascii=False), encoding="utf-8")
    return counts


def write_updates(updates: list[tuple[object, list[str]]], now, *, model) -> None:
    """Write the changed columns and bump the version of every updated row (members, or
    organisations for the organisation import: both have `version` and `updated_at`).

    bulk_update() builds a CASE WHEN expression per row and column: 10,000 rows took 25 s on
    SQLite. One prepared UPDATE per set of changed columns, run with executemany(), took 0.2 s. The rows were locked and their versions checked by build_plan(lock=True) in this
    transaction, so nothing can have moved in between.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    groups: dict[tuple[str, ...], list] = defaultdict(list)
    for member, changed in updates:
        groups[tuple(sorted(changed))].append(member)
    version_field, updated_field = meta.get_field("version"), meta.get_field("updated_at")
    stamp = updated_field.get_db_prep_save(now, connection)
    for names, members in groups.items():
        fields = [meta.get_field(name) for name in names]
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in [*fields, version_field, updated_field])
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        params = [[f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields]
                  + [m.version + 1, stamp, m.pk] for m in members]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def id_ranges(ids) -> list[list[int]]:
    """[1,2,3,7] → [[1,3],[7,7]]: bulk-created ids are nearly always one run."""
    out: list[list[int]] = []
    for pk in sorted(i for i in ids if i is not None):
        if out and pk == out[-1][1] + 1:
            out[-1][1] = pk
        else:
            out.append([pk, pk])
    return out


def add_notes_sheet(wb, columns, *, rules, widths, examples=()) -> None:
    """The 填写说明 sheet of an import template: every column with its synonyms and hint, any
    example rows, then the rules of matching (after the common one about headers)."""
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "必填", "也可以写作", "填写要求"])
    for c in columns:
        notes.append([c.label, "是" if c.required else "", "、".join(c.also), c.hint])
    notes.append([])
    for row in examples:
        notes.append(row)
    notes.append(["说明", "", "", "表头可以在前10行内任意一行，上方可以有标题行；其他列（如序号）会被忽略。"])
    for rule in rules:
        notes.append(["", "", "", rule])
    for letter, width in zip("ABCD", widths):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in notes[1]:
        cell.font = Font(bold=True)


# --- the importer, as the pages see it ------------------------------------------------------

class Importer:
    """One kind of import for the shared pages (orgs.views_import): who may use it, its words
    and URL names, and its steps. Subclasses fill in the attributes and the methods that raise."""

    kind: str                    # "members", "orgs": a plan is read back only by its own kind
    url_name: str                # the upload page; its _preview, _confirm and _template pages follow
    row_template: str            # the importer's own cells of a row of the preview
    list_url: str                # the page the import belongs to, and its name (党员名册, 组织架构)
    list_label: str
    preview_title: str           # 导入预览
    sheet_noun: str              # 名册, 表格: what the file is called in messages
    done_label: str              # 名册, 组织架构: “…已导入”, and the upload page in the breadcrumbs
    source: str                  # what else may be uploaded than the template (本单位现有的名册)
    item: str                    # 党员, 党组织
    measure: str                 # 名, 个
    reupload_label: str          # the preview's button back to the upload page when the plan is gone
    file_label: str
    file_help: str
    busy: str                    # said while the upload is checked
    rules: tuple[str, ...] = ()  # the upload page's own 填写要求 (may hold <strong>)
    also_shown: int = 5          # other names shown per column on the upload page
    columns: tuple[Column, ...] = ()
    filters: dict[str, str] = {}
    hide_when_empty: frozenset = frozenset()  # filters shown only when some row has them
    name_heading: str            # the preview list's column headings
    where_heading: str
    unchanged_text: str          # the preview when there is nothing to import
    targeted: bool = False       # the upload form asks which organisation the file goes into

    def __init__(self):
        # Words the pages derive (党员名册 → 导入党员名册, 党员名册导入模板.xlsx; 名册 → 导入名册).
        self.title = f"导入{self.list_label}"
        self.crumb = f"导入{self.done_label}"
        self.template_filename = f"{self.list_label}导入模板.xlsx"
        self.confirm_url = f"{self.url_name}_confirm"

    def max_rows(self) -> int:
        raise NotImplementedError

    def allowed(self, user) -> bool:
        """Whether `user` may see the pages at all (the services check again)."""
        raise NotImplementedError

    def targets_for(self, user):
        """The organisations a `targeted` importer may import into (a queryset), else None."""
        return None

    def initial_target(self, user, wanted: str, targets) -> int | None:
        return None

    def prepare(self, *, actor, upload, target=None) -> str:
        """Check, read and plan the upload; the token of the kept plan."""
        raise NotImplementedError

    def apply(self, *, actor, token: str, choices: dict[int, str], for_all: str) -> dict:
        """Write the kept plan; counts with created, updated, unchanged."""
        raise NotImplementedError

    def template_workbook(self, *, actor, wanted: str) -> bytes:
        """The .xlsx template; `wanted` is the organisation picked on the upload page, if any."""
        raise NotImplementedError

    def success_url(self, counts: dict) -> str:
        raise NotImplementedError

    def success_message(self, counts: dict) -> str:
        unchanged = counts["unchanged"]
        return (f"{self.done_label}已导入：新增{counts['created']}{self.measure}、更新{counts['updated']}{self.measure}"
                f"{self.item}{'，' + str(unchanged) + self.measure + '无变化' if unchanged else ''}。")

    def plan_for(self, *, actor, token: str) -> dict:
        return plan_for(actor=actor, token=token, kind=self.kind)
