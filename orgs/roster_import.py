"""党员名册导入: an .xlsx roster checked, parsed and validated as a whole, previewed, then written at once.

    check_upload      the file before any XML is parsed: .xlsx by name and by zip magic, size,
                      unzipped size and ratio (zip bombs), no DOCTYPE/ENTITY (XML bombs; openpyxl
                      also parses through defusedxml, which refuses them)
    read_roster       header row found by name (synonyms, title rows above it), cells cleaned:
                      full-width spaces and digits, dates in the forms rosters really use
    build_plan        branches within the importer's scope, existing members matched by branch +
                      name + birth month (never by name alone), Member.clean() on every row
    member_import_prepare / member_import_apply
                      the two steps the pages call: store the plan under MEDIA_ROOT/imports and
                      show it; then re-plan inside one transaction, refuse if anything moved since
                      the preview, bulk-write, one audit row.

All or nothing: one bad row and nothing is written; every message names the row and the column
(第5002行「入党时间」：…).
"""
import datetime
import hashlib
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
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from commitments import public_cache

from . import audit
from .errors import Conflict
from .models import PATH_SEP, Gender, Member, MemberCategory, MemberStatus, Organisation
from .permissions import OFFICER_ROLES, scope_for
from .selectors import branch_choices_for, organisation_list_for
from .validators import normalise_phone, validate_phone

# --- limits (settings may override; config/settings.py need not name them) -------------------


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_bytes() -> int:
    return _setting("ROSTER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)


def max_rows() -> int:
    return _setting("ROSTER_IMPORT_MAX_ROWS", 20_000)


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


COLUMNS = (
    Column("name", "姓名", ("姓名", "党员姓名", "名字"), True),
    Column("gender", "性别", ("性别",), True, "男、女"),
    Column("birth_month", "出生年月", ("出生年月", "出生日期", "出生时间", "出生年月日", "出生年份月份"),
           hint="写到月，如 1975-03、1975.03、1975年3月"),
    Column("joined_party_on", "入党时间", ("入党时间", "入党日期", "入党年月", "入党年月日"),
           hint="如 1998-07-01、1998.07、1998年7月1日"),
    Column("post", "职务或职业", ("职务或职业", "职务", "职业", "工作岗位", "岗位", "职务/职业", "职务职业",
                              "职务或岗位", "现任职务")),
    Column("branch", "所在党支部", ("所在党支部", "党组织", "所在党组织", "党支部", "所属党支部", "所在支部",
                               "支部", "所属党组织", "党支部名称", "党组织名称"), True, "党支部全称、简称或组织编码"),
    Column("phone", "联系电话", ("联系电话", "手机号码", "手机号", "手机", "电话", "电话号码", "联系方式"),
           hint="手机11位，座机如 0756-2121234"),
    Column("category", "人员类别", ("人员类别", "党员类别", "类别", "人员分类"),
           hint="领导、在职、年老体弱、离退休；不填为一般在职党员"),
    Column("note", "备注", ("备注",)),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
TEXT_LIMITS = {"name": 50, "post": 100, "phone": 20, "note": 200, "branch": 100}

# Full-width forms (ＡＢＣ１２３．－／) → ASCII. Free text keeps Chinese punctuation (，（）：) and
# loses only full-width letters and digits; dates, phones and organisation keys lose all of them.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_ALNUM = {code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_SPACES = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x200B: "", 0xFEFF: "",
           0x09: " ", 0x0A: " ", 0x0D: " "}
_CLEAN = {**_ALNUM, **_SPACES}


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"\(.*?\)", "", text)
    return re.sub(r"[\s*:：]", "", text).lower()


_HEADER_INDEX = {_header_key(s): c.field for c in COLUMNS for s in c.synonyms}

GENDERS = {"男": Gender.MALE, "男性": Gender.MALE, "M": Gender.MALE, "MALE": Gender.MALE,
           "女": Gender.FEMALE, "女性": Gender.FEMALE, "F": Gender.FEMALE, "FEMALE": Gender.FEMALE}
CATEGORY_SYNONYMS = {
    MemberCategory.LEADER: ("领导", "领导干部", "领导职务", "担任领导职务", "领导班子成员", "担任领导职务党员"),
    MemberCategory.GENERAL: ("在职", "一般", "在职党员", "一般党员", "普通党员", "一般在职"),
    MemberCategory.ELDERLY: ("年老体弱", "文化程度低", "年老体弱或文化程度低", "年老体弱/文化程度低",
                             "年老体弱党员", "文化程度低的党员"),
    MemberCategory.RETIRED: ("离退休", "离休", "退休", "退休党员", "离休党员", "离退休干部"),
}
CATEGORIES = {_header_key(word): value for value, words in CATEGORY_SYNONYMS.items() for word in words}
CATEGORIES.update({_header_key(c.label): c.value for c in MemberCategory})
CATEGORIES.update({c.value: c.value for c in MemberCategory})


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


def normalise_name(value: str) -> str:
    """Names as the member form stores them: a Chinese name loses inner spaces (张　伟 → 张伟)."""
    if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in value):
        return "".join(value.split())
    return value


def _date_or_error(year: int, month: int, day: int, raw: str) -> datetime.date:
    if not 1 <= month <= 12:
        raise CellError(f"“{raw}”中的月份“{month}”不正确，月份应为1到12")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"日期“{raw}”不存在") from None


def parse_date(value, *, epoch=None) -> tuple[datetime.date | None, str]:
    """A date from a cell, and a warning when the reading is a guess. Day 1 when only a month is given.

    Accepts real Excel dates; numbers 1975.03 / 197503 / 19750308 and Excel serials; text
    1975-03, 1975.03, 1975/3/8, 1975年3月, 1975年3月8日, 197503, 1975-03-08 00:00:00.
    """
    if value is None or value == "":
        return None, ""
    if isinstance(value, datetime.datetime):
        return value.date(), ""
    if isinstance(value, datetime.date):
        return value, ""
    if isinstance(value, bool) or isinstance(value, datetime.time):
        raise CellError("不是日期")
    if isinstance(value, (int, float)):
        return _date_from_number(value, epoch)
    raw = clean_text(value)
    if raw in ERROR_CODES:
        raise CellError(f"单元格是错误值{raw}")
    text = re.sub(r"\s*([-./:])\s*", r"\1", raw.translate(_FULLWIDTH))
    text = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2})?$", "", text)
    text = "".join(text.split())
    if re.fullmatch(r"\d{4}", text):
        raise CellError(f"“{raw}”只有年份，请写到月份，如 {text}-03")
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", text)
    if m is None:
        text = re.sub(r"[年月]", "-", text).replace("日", "").replace("号", "")
        text = re.sub(r"[./\-—－~]+", "-", text).strip("-")
        m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if m is None:
        raise CellError(f"无法识别日期“{raw}”，请写成 1975-03、1975.03 或 1975年3月8日 的样子")
    return _date_or_error(int(m[1]), int(m[2]), int(m[3] or 1), raw), ""


def _date_from_number(value, epoch) -> tuple[datetime.date | None, str]:
    if isinstance(value, float) and not value.is_integer():
        # 1975.03 typed into a number cell. Excel drops trailing zeros, so 1975.10 (October) is
        # stored as 1975.1: read the digits as written, and a single 1 as October.
        # Ten places absorb binary noise (1975.0700000000002, or 1975.0699999999999 from a formula).
        written = f"{value:.10f}".rstrip("0")
        if not 1000 <= value < 10000:
            raise CellError(f"无法识别日期“{value:g}”")
        year_text, fraction = written.split(".")
        if len(fraction) > 2:
            raise CellError(f"无法识别日期“{written}”，年月请写成 1975.03 的样子")
        if len(fraction) == 2:
            return _date_or_error(int(year_text), int(fraction), 1, written), ""
        if fraction == "1":
            return (_date_or_error(int(year_text), 10, 1, written),
                    f"“{written}”按{year_text}年10月理解（Excel 把 {year_text}.10 存成 {written}）；"
                    f"如是1月，请写成 {year_text}.01")
        return _date_or_error(int(year_text), int(fraction), 1, written), ""
    number = int(value)
    if 1900 <= number <= 2100:
        raise CellError(f"“{number}”只有年份，请写到月份，如 {number}.03")
    if 190001 <= number <= 210012:
        return _date_or_error(number // 100, number % 100, 1, str(number)), ""
    if 19000101 <= number <= 21001231:
        return _date_or_error(number // 10000, number // 100 % 100, number % 100, str(number)), ""
    if 2000 < number < 80000:
        # A date cell whose format was reset to 常规 shows its serial number (27463 = 1975-03-08).
        from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel
        return from_excel(number, epoch or CALENDAR_WINDOWS_1900).date(), ""
    raise CellError(f"无法识别日期“{number}”")


def parse_gender(value) -> str:
    text = clean_text(value).upper()
    if text in GENDERS:
        return GENDERS[text]
    raise CellError(f"“{clean_text(value)}”不是有效的性别，请填写“男”或“女”")


def parse_category(value) -> str:
    text = clean_text(value)
    key = _header_key(text)
    if key in CATEGORIES:
        return CATEGORIES[key]
    raise CellError(f"无法识别人员类别“{text}”，请填写：担任领导职务的党员、一般在职党员、"
                    "年老体弱或文化程度低的党员、离退休党员（也可简写为领导、在职、年老体弱、离退休）")


def parse_phone(value) -> str:
    phone = normalise_phone(clean_text(value))
    try:
        validate_phone(phone)
    except ValidationError as exc:
        raise CellError(f"“{clean_text(value)}”：{exc.messages[0]}") from None
    return phone


def parse_text(value, field_name: str) -> str:
    text = clean_text(value)
    if text in ERROR_CODES:
        raise CellError(f"单元格是错误值{text}")
    if text.startswith("="):
        # With data_only a real formula arrives as its cached result; a value that still starts
        # with "=" is formula text typed as a string, which would run if exported to Excel again.
        raise CellError(f"“{text[:20]}”以“=”开头，像是公式，请改为文字")
    if field_name == "name":
        text = normalise_name(text)
    limit = TEXT_LIMITS.get(field_name)
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
    """What was read from the file: the header found, and one dict per non-empty data row."""

    sheet: str
    header_row: int
    columns: dict[str, str]                  # field → header as written in the file
    ignored: list[str]                       # headers that were not used
    other_sheets: list[str]
    rows: list[dict]
    skipped_example: bool = False


@dataclass(frozen=True)
class Layout:
    """What one kind of sheet looks like: its columns, how a row is read, and what it holds."""

    columns: tuple[Column, ...]
    parse_row: Callable[[int, dict, object], dict]
    noun: str                    # 党员 / 党组织, for messages
    no_header: str               # the message when no header row is found
    max_rows: Callable[[], int]

    @cached_property
    def header_index(self) -> dict[str, str]:
        return {_header_key(s): c.field for c in self.columns for s in c.synonyms}


def _match_header(values, header_index=None) -> tuple[dict[str, tuple[int, str]], list[str]]:
    header_index = _HEADER_INDEX if header_index is None else header_index
    found: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    for index, cell in enumerate(values or ()):
        text = clean_text(cell)
        if not text:
            continue
        field_name = header_index.get(_header_key(text))
        if field_name is None:
            ignored.append(text)
        elif field_name in found:
            ignored.append(f"{text}（与「{found[field_name][1]}」重复）")
        else:
            found[field_name] = (index, text.rstrip("*").strip())
    return found, ignored


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


def read_roster(data: bytes, *, default_branch: bool = False) -> Roster:
    """A members' roster; with `default_branch` the 所在党支部 column may be missing."""
    return read_sheet(data, MEMBER_LAYOUT, optional={"branch"} if default_branch else set())


def read_sheet(data: bytes, layout: Layout, *, optional: set[str] = frozenset()) -> Roster:
    """Find the header row (the first of the first ten rows naming ≥2 known columns) on the first
    sheet that has one, and read every non-empty row below it. File-level problems raise.
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
    sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
    for position, ws in enumerate(sheets):
        ws.reset_dimensions()  # a wrong <dimension> would otherwise cut rows off
        rows = ws.iter_rows(min_row=1, values_only=True)
        for number, values in enumerate(rows, start=1):
            found, ignored = _match_header(values, layout.header_index)
            if len(found) >= 2:
                others = [s.title for i, s in enumerate(sheets) if i != position]
                return _read_body(ws.title, number, found, ignored, others, rows, workbook.epoch,
                                  layout, optional)
            if number >= HEADER_SCAN_ROWS:
                break
    raise ValidationError(layout.no_header, code="no_header")


def _read_body(sheet, header_row, found, ignored, others, rows, epoch, layout, optional) -> Roster:
    missing = [c for c in layout.columns if c.required and c.field not in found and c.field not in optional]
    if missing:
        names = "、".join(f"「{c.label}」" for c in missing)
        accepted = "；".join(f"{c.label}：{'/'.join(c.synonyms[:6])}" for c in missing)
        hint = ("，或在上传时选择默认党支部" if layout is MEMBER_LAYOUT and any(c.field == "branch" for c in missing)
                else "")
        raise ValidationError(f"第{header_row}行的表头中缺少{names}列（可用的列名 {accepted}）{hint}。",
                              code="missing_column")
    columns = {f: text for f, (_, text) in found.items()}
    indexes = [(f, i) for f, (i, _) in found.items()]
    limit = layout.max_rows()
    parsed: list[dict] = []
    skipped_example = False
    for number, values in enumerate(rows, start=header_row + 1):
        cells = {f: values[i] if i < len(values) else None for f, i in indexes}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        if clean_text(cells.get("note")) == EXAMPLE_MARK:  # the template's example row
            skipped_example = True
            continue
        if len(parsed) >= limit:
            raise ValidationError(f"表格超过{limit}行，请分成几个文件导入。", code="rows")
        parsed.append(layout.parse_row(number, cells, epoch))
    if not parsed:
        raise ValidationError(f"第{header_row}行是表头，但下面没有{layout.noun}数据。", code="empty")
    return Roster(sheet=sheet, header_row=header_row, columns=columns, ignored=ignored,
                  other_sheets=others, rows=parsed, skipped_example=skipped_example)


def _parse_row(number: int, cells: dict, epoch) -> dict:
    """One row: cleaned values (dates as ISO text, to be stored), cell errors and warnings."""
    row = {"row": number, "errors": [], "warnings": []}
    for field_name, raw in cells.items():
        try:
            if field_name in ("birth_month", "joined_party_on"):
                value, warning = parse_date(raw, epoch=epoch)
                if warning:
                    row["warnings"].append([field_name, warning])
                if value is not None and field_name == "birth_month":
                    value = value.replace(day=1)
                value = value.isoformat() if value else None
            elif clean_text(raw) == "":
                value = ""
            elif field_name == "gender":
                value = parse_gender(raw)
            elif field_name == "category":
                value = parse_category(raw)
            elif field_name == "phone":
                value = parse_phone(raw)
            else:
                value = parse_text(raw, field_name)
        except CellError as exc:
            row["errors"].append([field_name, str(exc)])
            value = None
        row[field_name] = value
    for required in ("name", "gender"):
        if required in cells and not row.get(required) and not any(e[0] == required for e in row["errors"]):
            row["errors"].append([required, "不能为空"])
    return row


MEMBER_LAYOUT = Layout(
    columns=COLUMNS, parse_row=_parse_row, noun="党员", max_rows=max_rows,
    no_header="没有找到表头：请在前10行内放一行列名，至少包括“姓名”“性别”“所在党支部”。可以先下载导入模板对照。")


# --- planning -----------------------------------------------------------------------------

MEMBER_FIELDS = ("gender", "birth_month", "post", "joined_party_on", "phone", "category", "note")
FIELD_LABELS = {"name": "姓名", "gender": "性别", "birth_month": "出生年月", "post": "职务或职业",
                "joined_party_on": "入党时间", "phone": "联系电话", "category": "人员类别", "note": "备注",
                "branch": "所在党支部"}


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行{self.in_row()}" if self.column else f"第{self.row}行：{self.message}"

    def in_row(self) -> str:
        """The message without the row number, for the row's own line on the preview."""
        return f"「{self.column}」：{self.message}" if self.column else self.message


@dataclass
class Plan:
    """The decision for every row; creates and updates are model instances ready to write."""

    results: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    creates: list[Member] = field(default_factory=list)
    updates: list[tuple[Member, list[str]]] = field(default_factory=list)
    branch_ids: set[int] = field(default_factory=set)

    @property
    def counts(self) -> dict:
        counts = {"create": 0, "update": 0, "same": 0, "error": 0, "namesake": 0, "warning": 0}
        for r in self.results:
            counts[r["action"]] += 1
            counts["namesake"] += bool(r.get("namesake")) and r["action"] != "error"
            counts["warning"] += bool(r["notes"])
        counts["errors"] = len(self.errors)
        return counts

    @property
    def fingerprint(self) -> str:
        """What the preview promised: which row does what to which record at which version."""
        decisions = [[r["row"], r["action"], r.get("branch_id"), r.get("member_id"), r.get("version"),
                      sorted(r.get("changed", []))] for r in self.results]
        return hashlib.sha256(json.dumps(decisions).encode()).hexdigest()


def _org_key(text: str) -> str:
    return "".join(clean_text(text).translate(_FULLWIDTH).split()).casefold()


class _Branches:
    """The importer's branches by id, each read (once) when first asked for: a province has
    48,000 branches in scope, a roster names a few hundred at most."""

    def __init__(self, queryset, ids):
        self._queryset, self._ids, self._loaded = queryset, ids, {}

    def __contains__(self, pk) -> bool:
        return pk in self._ids

    def __getitem__(self, pk) -> Organisation:
        if pk not in self._ids:
            raise KeyError(pk)
        if pk not in self._loaded:
            self._loaded[pk] = self._queryset.get(pk=pk)
        return self._loaded[pk]

    def get(self, pk, default=None):
        return self[pk] if pk in self._ids else default


class BranchResolver:
    """Branches the importer may register members in, looked up by name, short name or code.

    The lookup index is built from (id, name, short name, code) tuples of every branch in the
    importer's scope; model instances are read only for the branches the sheet names."""

    def __init__(self, actor):
        scope = branch_choices_for(actor)
        self.index: dict[str, set[int]] = defaultdict(set)
        self._codes: dict[int, str] = {}
        for pk, name, short_name, code in scope.values_list("pk", "name", "short_name", "code"):
            self._codes[pk] = code
            for key in (name, short_name, code):
                if key:
                    self.index[_org_key(key)].add(pk)
        self.branches = _Branches(scope, self._codes)
        self._unusable = None
        self._actor = actor

    def unusable(self) -> dict[str, Organisation]:
        """Organisations in the importer's scope that cannot take members (not branches, or
        revoked), for a precise message; loaded only when a lookup fails."""
        if self._unusable is None:
            self._unusable = {}
            for org in organisation_list_for(self._actor, roles=OFFICER_ROLES, include_inactive=True):
                if org.pk in self.branches:
                    continue
                for key in (org.name, org.short_name, org.code):
                    if key:
                        self._unusable.setdefault(_org_key(key), org)
        return self._unusable

    def resolve(self, text: str) -> Organisation:
        ids = self.index.get(_org_key(text), set())
        if len(ids) == 1:
            return self.branches[next(iter(ids))]
        if len(ids) > 1:
            codes = "、".join(sorted(self._codes[i] for i in ids))
            raise CellError(f"有{len(ids)}个党支部名为“{text}”（组织编码 {codes}），请改填组织编码")
        other = self.unusable().get(_org_key(text))
        if other is not None and not other.is_active:
            raise CellError(f"党组织“{text}”已撤销，不能导入")
        if other is not None:
            raise CellError(f"“{text}”是{other.get_kind_display()}，党员只能编入党支部或临时党支部")
        # The same words for a branch that does not exist and one outside the importer's reach.
        raise CellError(f"找不到党支部“{text}”，或您无权向该党支部导入；请填写党支部全称、简称或组织编码")


def _as_date(value):
    return datetime.date.fromisoformat(value) if value else None


def _display(field_name: str, value) -> str:
    if value in (None, ""):
        return ""
    if field_name == "gender":
        return Gender(value).label
    if field_name == "category":
        return MemberCategory(value).label
    if field_name == "birth_month":
        return f"{value.year}年{value.month}月"
    if field_name == "joined_party_on":
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def build_plan(*, actor, rows: list[dict], columns: dict[str, str], default_branch_id: int | None = None,
               lock: bool = False) -> Plan:
    """Decide create / update / no change for every parsed row, and collect every error.

    A row updates a member only when branch, name and birth month all agree; a same-name member
    with another or no birth month gets a new record and a 同名 note. `lock` takes row locks on
    the members it reads (inside the apply transaction).
    """
    plan = Plan()
    resolver = BranchResolver(actor)
    header = {f: columns.get(f, FIELD_LABELS[f]) for f in FIELD_LABELS}
    default_branch = resolver.branches.get(default_branch_id) if default_branch_id else None

    # Pass 1: branches.
    resolved: list[tuple[dict, Organisation | None, list]] = []
    for row in rows:
        branch = None
        cell_errors = list(row.get("errors", []))
        text = row.get("branch") or ""
        if text:
            try:
                branch = resolver.resolve(text)
            except CellError as exc:
                cell_errors.append(["branch", str(exc)])
        elif default_branch is not None:
            branch = default_branch
        elif not any(e[0] == "branch" for e in cell_errors):
            cell_errors.append(["branch", "不能为空"])
        resolved.append((row, branch, cell_errors))
        if branch is not None:
            plan.branch_ids.add(branch.pk)

    existing = Member.objects.filter(branch_id__in=sorted(plan.branch_ids)).order_by("pk")
    if lock:
        existing = existing.select_for_update()
    by_name: dict[tuple[int, str], list[Member]] = defaultdict(list)
    for member in existing:
        member.branch = resolver.branches[member.branch_id]
        by_name[(member.branch_id, member.name)].append(member)

    # Pass 2: match, validate.
    seen: dict[tuple, int] = {}
    seen_names: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row, branch, cell_errors in resolved:
        result = {"row": row["row"], "name": row.get("name") or "", "branch": branch.name if branch else
                  (row.get("branch") or ""), "branch_id": branch.pk if branch else None,
                  "gender": _display("gender", row.get("gender")) if row.get("gender") else "",
                  "birth": _display("birth_month", _as_date(row.get("birth_month"))),
                  "notes": [w for _, w in row.get("warnings", [])], "changes": []}
        errors = [RowError(row["row"], header[f], m) for f, m in cell_errors]
        if errors or branch is None:
            _fail(plan, result, errors)
            continue
        name = row["name"]
        birth = _as_date(row.get("birth_month"))
        values = {f: row[f] for f in MEMBER_FIELDS if f in row}
        for key in ("birth_month", "joined_party_on"):
            if key in values:
                values[key] = _as_date(values[key])
        key = (branch.pk, name, birth)
        if birth is not None and key in seen:
            _fail(plan, result, [RowError(row["row"], "", f"与第{seen[key]}行重复：同一党支部中姓名和出生年月都相同")])
            continue
        seen[key] = row["row"]
        namesakes = by_name.get((branch.pk, name), [])
        matches = [m for m in namesakes if birth is not None and m.birth_month == birth]
        if len(matches) > 1:
            _fail(plan, result, [RowError(row["row"], header["name"],
                                          f"本支部已有{len(matches)}名同名且出生年月相同的党员，无法确定更新哪一位，"
                                          "请在系统中逐个修改")])
            continue
        if matches:
            _plan_update(plan, result, row, matches[0], values, header)
        else:
            notes = []
            for other in namesakes:
                notes.append(f"同名：本支部已有党员“{name}”（出生年月{_display('birth_month', other.birth_month) or '未登记'}），"
                             "将另行登记一人；如是同一人，请核对出生年月")
            for earlier in seen_names[(branch.pk, name)]:
                notes.append(f"同名：与第{earlier}行同一党支部同名，将分别登记")
            result["namesake"] = bool(notes)
            result["notes"] = notes + result["notes"]
            _plan_create(plan, result, branch, name, values, header)
        seen_names[(branch.pk, name)].append(row["row"])
    return plan


def _fail(plan: Plan, result: dict, errors: list[RowError]) -> None:
    result["action"] = "error"
    result["errors"] = [e.in_row() for e in errors]
    plan.errors.extend(errors)
    plan.results.append(result)


def _model_errors(exc: ValidationError, row: int, header: dict) -> list[RowError]:
    errors = []
    for field_name, messages in exc.message_dict.items():
        column = header.get(field_name, "")
        errors += [RowError(row, column, m.rstrip("。")) for m in messages]
    return errors


def _plan_create(plan, result, branch, name, values, header) -> None:
    data = {k: v for k, v in values.items() if v not in (None, "")}
    data.setdefault("category", MemberCategory.GENERAL)
    member = Member(branch=branch, name=name, status=MemberStatus.ACTIVE, **data)
    try:
        member.clean()
    except ValidationError as exc:
        _fail(plan, result, _model_errors(exc, result["row"], header))
        return
    result["action"] = "create"
    # Gender and birth month have their own columns on the preview.
    result["changes"] = [[FIELD_LABELS[f], "", _display(f, getattr(member, f))]
                         for f in MEMBER_FIELDS if f not in ("gender", "birth_month")
                         and getattr(member, f) not in (None, "")]
    plan.creates.append(member)
    plan.results.append(result)


def _plan_update(plan, result, row, member, values, header) -> None:
    # A blank cell means "not given here": it never clears what the register already holds.
    changed = []
    result["changes"] = []
    for field_name, value in values.items():
        if value in (None, ""):
            continue
        old = getattr(member, field_name)
        if value != old:
            result["changes"].append([FIELD_LABELS[field_name], _display(field_name, old), _display(field_name, value)])
            setattr(member, field_name, value)
            changed.append(field_name)
    try:
        member.clean()
    except ValidationError as exc:
        _fail(plan, result, _model_errors(exc, row["row"], header))
        return
    result.update(member_id=member.pk, version=member.version, changed=changed,
                  action="update" if changed else "same")
    if member.status != MemberStatus.ACTIVE:
        result["notes"].append(f"该党员状态为“{member.get_status_display()}”，只更新信息，不改变状态")
    if changed:
        plan.updates.append((member, changed))
    plan.results.append(result)


# --- the two steps ------------------------------------------------------------------------

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


def member_import_prepare(*, actor, upload, default_branch: Organisation | None = None) -> str:
    """Officers check and plan a roster upload (nothing is written to the database); the token of the stored plan."""
    _check_importer(actor, default_branch)
    data = check_upload(upload)
    roster = read_roster(data, default_branch=default_branch is not None)
    return store_plan(actor=actor, roster=roster, data=data, filename=str(upload.name),
                      default_branch=default_branch)


def _check_importer(actor, default_branch) -> None:
    if not scope_for(actor).has_any(OFFICER_ROLES):
        raise PermissionDenied
    if default_branch is not None and default_branch.pk not in {b.pk for b in branch_choices_for(actor)}:
        raise PermissionDenied


def store_plan(*, actor, roster: Roster, data: bytes, filename: str,
               default_branch: Organisation | None = None) -> str:
    """Officers plan a roster already read and keep the plan for the preview; the plan's token."""
    _check_importer(actor, default_branch)
    plan = build_plan(actor=actor, rows=roster.rows, columns=roster.columns,
                      default_branch_id=default_branch.pk if default_branch else None)
    stored = {
        "format": 1, "kind": "members", "owner": actor.pk, "created": time.time(),
        "filename": Path(filename).name[:120], "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "sheet": roster.sheet, "header_row": roster.header_row,
        "columns": roster.columns, "ignored": roster.ignored, "other_sheets": roster.other_sheets,
        "skipped_example": roster.skipped_example,
        "default_branch": default_branch.pk if default_branch else None,
        "default_branch_name": default_branch.name if default_branch else "",
        # A plan with errors cannot be applied, so it keeps no rows to apply.
        "rows": [{k: v for k, v in r.items() if k != "errors"} for r in roster.rows] if not plan.errors else [],
        "results": plan.results, "errors": [str(e) for e in plan.errors], "counts": plan.counts,
        "fingerprint": plan.fingerprint,
    }
    return save_plan(stored)


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
    (used/expired) or FileNotFoundError."""
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


def member_import_apply(*, actor, token: str) -> dict:
    """Officers apply their own previewed plan: every row in one transaction, or nothing.

    The plan file is claimed first (renamed), so a second click or a second tab cannot apply
    it twice; a failed apply discards it and the roster must be uploaded again.
    """
    return apply_plan(actor=actor, token=token, kind="members", apply=_apply,
                      summary=lambda c: f"新增{c['created']}名、更新{c['updated']}名")


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


@transaction.atomic
def _apply(*, actor, stored: dict) -> dict:
    if not scope_for(actor).has_any(OFFICER_ROLES):
        raise PermissionDenied
    plan = build_plan(actor=actor, rows=stored["rows"], columns=stored["columns"],
                      default_branch_id=stored["default_branch"], lock=True)
    if plan.errors:
        shown = "；".join(str(e) for e in plan.errors[:5])
        raise ValidationError(f"预览之后情况有变，名册未导入：{shown}。请重新上传。")
    if plan.fingerprint != stored["fingerprint"]:
        raise Conflict("预览之后，名册涉及的党员信息已被他人修改，名册未导入。请重新上传并核对预览。")
    now = timezone.now()
    _write_updates(plan.updates, now)
    created = Member.objects.bulk_create(plan.creates, batch_size=500)
    counts = plan.counts
    audit.record(actor=actor, action="member.import", organisation=_common_ancestor(plan.branch_ids),
                 detail={"file": stored["filename"], "sha256": stored["sha256"], "sheet": stored["sheet"],
                         "rows": len(plan.results), "created": counts["create"], "updated": counts["update"],
                         "unchanged": counts["same"], "created_ids": _ranges(m.pk for m in created),
                         "updated_fields": {str(m.pk): c for m, c in plan.updates}})
    public_cache.changed()
    return {"created": counts["create"], "updated": counts["update"], "unchanged": counts["same"],
            "branch_ids": sorted(plan.branch_ids)}


def _write_updates(updates: list[tuple[Member, list[str]]], now, model=Member) -> None:
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


def _ranges(ids) -> list[list[int]]:
    """[1,2,3,7] → [[1,3],[7,7]]: bulk-created ids are nearly always one run."""
    out: list[list[int]] = []
    for pk in sorted(i for i in ids if i is not None):
        if out and pk == out[-1][1] + 1:
            out[-1][1] = pk
        else:
            out.append([pk, pk])
    return out


def _common_ancestor(branch_ids) -> Organisation | None:
    paths = list(Organisation.objects.filter(pk__in=branch_ids).values_list("path", flat=True))
    if not paths:
        return None
    parts = [p.split(PATH_SEP)[:-1] for p in paths]
    common = []
    for segment in zip(*parts):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    return Organisation.objects.filter(pk=int(common[-1])).first() if common else None


# --- the template -------------------------------------------------------------------------

TEMPLATE_NOTES = ("填写说明：带 * 的列必填。出生年月写到月，如 1975-03、1975.03 或 1975年3月；入党时间如 1998-07-01、"
                  "1998.07 或 1998年7月1日。所在党支部填全称、简称或组织编码。同一党支部的同名党员靠出生年月区分，"
                  "请务必填写。第3行是示例，导入时自动跳过。")


def template_workbook(*, branch_name: str = "") -> bytes:
    """The import template: notes, headers, one example row (skipped on import), drop-downs."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    order = ["name", "gender", "birth_month", "joined_party_on", "post", "branch", "phone", "category", "note"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append([TEMPLATE_NOTES])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    ws.row_dimensions[1].height = 48
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(color="7F1414", size=10)
    ws.append([COLUMN_BY_FIELD[f].label + ("*" if COLUMN_BY_FIELD[f].required else "") for f in order])
    example = {"name": "张三", "gender": "男", "birth_month": "1975-03", "joined_party_on": "1998-07-01",
               "post": "科员", "branch": branch_name or "某某党支部", "phone": "13800000000",
               "category": MemberCategory.GENERAL.label, "note": EXAMPLE_MARK}
    ws.append([example[f] for f in order])
    widths = {"name": 10, "gender": 6, "birth_month": 11, "joined_party_on": 12, "post": 18, "branch": 26,
              "phone": 15, "category": 24, "note": 22}
    for index, f in enumerate(order, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = widths[f]
        head = ws.cell(row=2, column=index)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="FBEFD5")
        ws.cell(row=3, column=index).font = Font(color="808080", italic=True)
        if f in ("birth_month", "joined_party_on", "phone"):
            # Text cells keep 1975.10 as typed (a number cell would store 1975.1).
            ws.column_dimensions[letter].number_format = "@"
            for r in range(3, 1003):
                ws.cell(row=r, column=index).number_format = "@"
    last = max_rows() + 2
    gender = DataValidation(type="list", formula1='"男,女"', allow_blank=True,
                            errorTitle="性别", error="请选择“男”或“女”")
    gender.add(f"B3:B{last}")
    category = DataValidation(type="list", formula1='"' + ",".join(c.label for c in MemberCategory) + '"',
                              allow_blank=True, showErrorMessage=False)
    category.add(f"H3:H{last}")
    ws.add_data_validation(gender)
    ws.add_data_validation(category)
    ws.freeze_panes = "A3"

    add_notes_sheet(wb, COLUMNS, rules=(
        "同一党支部中姓名和出生年月都相同的，视为同一人并更新其信息；留空的项目不会清除系统中已有的信息。",
        "有任何一行出错，整个名册都不会导入；预览页会列出出错的行和列。"), widths=(12, 6, 40, 70))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def add_notes_sheet(wb, columns, *, rules, widths, examples=()) -> None:
    """The 填写说明 sheet of an import template: every column with its synonyms and hint, any
    example rows, then the rules of matching (after the common one about headers)."""
    from openpyxl.styles import Font

    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "必填", "也可以写作", "填写要求"])
    for c in columns:
        notes.append([c.label, "是" if c.required else "", "、".join(c.synonyms[1:]), c.hint])
    notes.append([])
    for row in examples:
        notes.append(row)
    notes.append(["说明", "", "", "表头可以在前10行内任意一行，上方可以有标题行；其他列（如序号）会被忽略。"])
    for rule in rules:
        notes.append(["", "", "", rule])
    for letter, width in zip("ABCD", widths):
        notes.column_dimensions[letter].width = width
    for cell in notes[1]:
        cell.font = Font(bold=True)
