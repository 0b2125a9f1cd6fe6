"""党员名册导入: an .xlsx roster checked, parsed and validated as a whole, previewed, then written at once.

The file checks, the reading of the sheet, the plan store and the all-or-nothing apply are the
importer framework's (core.importing); this module says what a roster holds and how it is planned:

    read_roster       the roster's columns (身份证号 never kept) through core.importing.read_sheet;
                      cells cleaned: full-width spaces and digits, dates with their precision,
                      phones in their stored form
    build_plan        branches within the organisation imported into, 人员类别-like columns read
                      by their values, existing members matched by branch + name + birth month
                      (never by name alone) and told apart by 性别 and 入党时间; records that match
                      but differ become conflicts the officer resolves; Member.clean() on every row
    member_import_prepare / member_import_apply
                      the two steps the pages call: store the plan under MEDIA_ROOT/imports and
                      show it; then check the conflict choices, re-plan inside one transaction,
                      refuse if anything moved since the preview, bulk-write, one audit row.

All or nothing: one bad row and nothing is written; every message names the row and the column
(第5002行「入党时间」：…), and messages that repeat are grouped on the preview, rarest first.
"""
import datetime
import hashlib
import json
import re
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from core.dates import DateError, PartialDate, cn_partial_date, make_date, parse_partial_date
from core.errors import Conflict
from core.importing import (ERROR_CODES, EXAMPLE_MARK, PLAN_DIR,  # noqa: F401  (the roster's callers use them)
                            CellError, Column, ConflictsUnresolved, Importer, Layout, PlanGone, Roster, RowError,
                            add_notes_sheet, apply_plan, base_field, check_text, check_upload, check_xlsx_bytes,
                            clean_text, group_errors, header_key, id_ranges, name_key, plan_for, read_sheet, row_ranges,
                            save_plan, write_updates)
from core.sheet_reader import MonthDate
from core.xlsx import workbook_bytes

from . import audit
from .models import DatePrecision, Gender, Member, MemberCategory, MembershipType, MemberStatus, Organisation
from .permissions import OFFICER_ROLES, scope_for
from .selectors import branch_choices_for, common_ancestor, organisation_list_for
from .signals import public_data_changed
from .validators import PHONE_MESSAGE, is_phone, normalise_phone, split_phones


def max_rows() -> int:
    return int(getattr(settings, "ROSTER_IMPORT_MAX_ROWS", 20_000))


COLUMNS = (
    Column("name", "姓名", ("姓名", "党员姓名", "名字"), True),
    Column("gender", "性别", ("性别",), True, "男、女"),
    Column("birth_month", "出生年月", ("出生年月", "出生日期", "出生时间", "出生年月日", "出生年份月份"),
           hint="写到月，如 1975-03、1975.03、1975年3月"),
    Column("joined_party_on", "入党时间", ("入党时间", "入党日期", "入党年月", "入党年月日", "加入党组织时间",
                                       "加入党组织日期", "加入中国共产党时间", "加入中国共产党日期"),
           hint="写到日如 1998-07-01、1998年7月1日，只知年月的写 1998.07、1998年7月，系统按年月保存"),
    Column("full_member_on", "转正时间", ("转正时间", "转正日期", "转正年月", "转为正式党员时间", "转为正式党员日期",
                                      "转正年月日"), hint="同入党时间；预备党员不填"),
    Column("post", "职务或职业", ("职务或职业", "职务", "职业", "工作单位及职务", "单位及职务", "工作岗位", "岗位",
                              "职务/职业", "职务职业", "职务或岗位", "现任职务", "工作单位和职务",
                              "工作单位及职位", "现工作单位及职务", "单位职务", "工作单位职务", "现任职务或职业")),
    Column("branch", "所在党支部", ("所在党支部", "党组织", "所在党组织", "党支部", "所属党支部", "所在支部",
                               "支部", "所属党组织", "党支部名称", "党组织名称", "所在党组织名称", "所在党支部名称",
                               "所在支部名称"), True, "党支部全称、简称或组织编码"),
    Column("phone", "联系电话", ("联系电话", "手机号码", "手机号", "手机", "电话", "电话号码", "联系方式", "移动电话",
                              "联系手机", "办公电话", "固定电话"),
           hint="手机如 13800138000、138-0013-8000、+86 13800138000；座机如 0756-2121234、(0756)2121234，"
                "分机写作 0756-2121234转801"),
    # 人员类别 means 党员类别 in this system and 正式/预备 in others: such a column is read by its
    # values, cell by cell (parse_member_type), and a file may have one of each.
    Column("type", "党员类别 / 党员类型", ("人员类别", "党员类别", "类别", "人员分类", "党员分类", "党员类型",
                                      "党籍状态", "党员身份", "党籍", "党员状态", "政治面貌"),
           hint="按内容识别：党员类别为领导、在职、年老体弱、离退休（不填为一般在职党员）；"
                "党员类型为正式党员、预备党员（不填为正式党员）；两者可各占一列"),
    Column("ethnicity", "民族", ("民族",), hint="如 汉族"),
    Column("education", "学历", ("学历", "文化程度", "最高学历", "全日制学历", "学历学位", "全日制教育学历",
                              "在职学历", "在职教育学历", "学历（学位）"), hint="如 大学本科"),
    Column("native_place", "籍贯", ("籍贯",), hint="如 广东珠海"),
    Column("note", "备注", ("备注",)),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
TEXT_LIMITS = {"name": 50, "post": 100, "phone": 20, "note": 200, "branch": 100, "ethnicity": 20,
               "education": 30, "native_place": 50}
# Columns other systems export that are not imported, and why (the preview lists them).
IGNORED_COLUMNS = (
    (re.compile(r"身份证|身份号码|证件号|护照|社会保障号|社保号|居民身份"),
     "身份证号等证件号码不保存（个人敏感信息）"),
    (re.compile(r"^(序号|编号|序|顺序号|排序号?|no\.?|number)$"), "序号，不导入"),
    (re.compile(r"^(年龄|周岁|实足年龄)$"), "由出生年月计算，不导入"),
    (re.compile(r"^(党龄|党龄（年）)$"), "由入党时间计算，不导入"),
    (re.compile(r"^(工作单位|单位|单位名称|现工作单位|所在单位)$"),
     "系统只记职务或职业；单位与职务在同一列时，列名写作“工作单位及职务”即可导入"),
)


GENDERS = {"男": Gender.MALE, "男性": Gender.MALE, "M": Gender.MALE, "MALE": Gender.MALE,
           "女": Gender.FEMALE, "女性": Gender.FEMALE, "F": Gender.FEMALE, "FEMALE": Gender.FEMALE}
CATEGORY_SYNONYMS = {
    MemberCategory.LEADER: ("领导", "领导干部", "领导职务", "担任领导职务", "领导班子成员", "担任领导职务党员"),
    MemberCategory.GENERAL: ("在职", "一般", "在职党员", "一般党员", "普通党员", "一般在职"),
    MemberCategory.ELDERLY: ("年老体弱", "文化程度低", "年老体弱或文化程度低", "年老体弱/文化程度低",
                             "年老体弱党员", "文化程度低的党员"),
    MemberCategory.RETIRED: ("离退休", "离休", "退休", "退休党员", "离休党员", "离退休干部"),
}
CATEGORIES = {header_key(word): value for value, words in CATEGORY_SYNONYMS.items() for word in words}
CATEGORIES.update({header_key(c.label): c.value for c in MemberCategory})
CATEGORIES.update({c.value: c.value for c in MemberCategory})
MEMBERSHIP_SYNONYMS = {
    MembershipType.FULL: ("正式党员", "正式", "中共党员", "中国共产党党员", "中共正式党员", "已转正"),
    MembershipType.PROBATIONARY: ("预备党员", "预备", "中共预备党员", "中国共产党预备党员", "预备期", "预备期党员"),
}
MEMBERSHIPS = {header_key(word): value for value, words in MEMBERSHIP_SYNONYMS.items() for word in words}
MEMBERSHIPS.update({m.value: m.value for m in MembershipType})


# --- cell values --------------------------------------------------------------------------

def normalise_name(value: str) -> str:
    """Names as the member form stores them: a Chinese name loses inner spaces (张　伟 → 张伟)."""
    if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in value):
        return "".join(value.split())
    return value


def _date_or_error(year: int, month: int, day: int | None, raw: str) -> PartialDate:
    try:
        return make_date(year, month, day, raw)
    except DateError as exc:
        raise CellError(str(exc)) from None


def parse_date(value, *, epoch=None) -> tuple[PartialDate | None, str]:
    """A date from a cell with the precision it was given (day or month), and a warning when the
    reading is a guess.

    Real Excel dates are dates to the day, unless their number format shows only the year and
    month (sheet_reader.MonthDate); numbers 1975.03 / 197503 are months, 19750308 and Excel serials
    days; text as core.dates.parse_partial_date reads it (1975-03, 1975年3月 …; 1975/3/8 …).
    """
    if value is None or value == "":
        return None, ""
    if isinstance(value, MonthDate):
        return PartialDate(datetime.date(value.year, value.month, 1), DatePrecision.MONTH), ""
    if isinstance(value, datetime.datetime):
        return PartialDate(value.date()), ""
    if isinstance(value, datetime.date):
        return PartialDate(value), ""
    if isinstance(value, bool) or isinstance(value, datetime.time):
        raise CellError("不是日期")
    if isinstance(value, (int, float)):
        return _date_from_number(value, epoch)
    raw = clean_text(value)
    if raw in ERROR_CODES:
        raise CellError(f"单元格是错误值{raw}")
    try:
        return parse_partial_date(raw), ""
    except DateError as exc:
        raise CellError(str(exc)) from None


def _date_from_number(value, epoch) -> tuple[PartialDate | None, str]:
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
            return _date_or_error(int(year_text), int(fraction), None, written), ""
        if fraction == "1":
            return (_date_or_error(int(year_text), 10, None, written),
                    f"“{written}”按{year_text}年10月理解（Excel 把 {year_text}.10 存成 {written}）；"
                    f"如是1月，请写成 {year_text}.01")
        return _date_or_error(int(year_text), int(fraction), None, written), ""
    number = int(value)
    if 1900 <= number <= 2100:
        raise CellError(f"“{number}”只有年份，请写到月份，如 {number}.03")
    if 190001 <= number <= 210012:
        return _date_or_error(number // 100, number % 100, None, str(number)), ""
    if 19000101 <= number <= 21001231:
        return _date_or_error(number // 10000, number // 100 % 100, number % 100, str(number)), ""
    if 2000 < number < 80000:
        # A date cell whose format was reset to 常规 shows its serial number (27463 = 1975-03-08).
        return PartialDate(from_excel(number, epoch or CALENDAR_WINDOWS_1900).date()), ""
    raise CellError(f"无法识别日期“{number}”")


def parse_gender(value) -> str:
    text = clean_text(value).upper()
    if text in GENDERS:
        return GENDERS[text]
    raise CellError(f"“{clean_text(value)}”不是有效的性别，请填写“男”或“女”")


def _type_key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


_TYPE_PARTS = re.compile(r"[()/、，,;；·\-]+")


def parse_member_type(value) -> tuple[str | None, str | None]:
    """(党员类别, 党员类型) from a cell of a 人员类别-like column: either may be None. Other systems
    put 正式党员/预备党员 there, this one the four categories; some write both (在职/预备党员)."""
    text = clean_text(value)
    key = _type_key(text)
    category, membership = CATEGORIES.get(key), MEMBERSHIPS.get(key)
    if category is None and membership is None:
        parts = [p for p in _TYPE_PARTS.split(key) if p]
        if len(parts) > 1:
            categories = {CATEGORIES[p] for p in parts if p in CATEGORIES}
            memberships = {MEMBERSHIPS[p] for p in parts if p in MEMBERSHIPS}
            if (len(categories) <= 1 and len(memberships) <= 1
                    and all(p in CATEGORIES or p in MEMBERSHIPS for p in parts)):
                category, membership = next(iter(categories), None), next(iter(memberships), None)
    if category is None and membership is None:
        raise CellError(f"无法识别“{text}”：党员类别请填写担任领导职务的党员、一般在职党员、年老体弱或文化程度低的"
                        "党员、离退休党员（也可简写为领导、在职、年老体弱、离退休）；党员类型请填写正式党员或预备党员")
    return category, membership


def parse_category(value) -> str:
    category, _membership = parse_member_type(value)
    if category is None:
        raise CellError(f"“{clean_text(value)}”是党员类型，不是党员类别")
    return category


def parse_phone(value) -> str:
    """One phone number in its stored form (organisations' 监督电话: exactly one number)."""
    text = clean_text(value)
    phone = normalise_phone(text)
    if phone and not is_phone(phone):
        raise CellError(f"“{text}”：{PHONE_MESSAGE.rstrip('。')}")
    return phone


def parse_phones(value) -> tuple[str, str]:
    """The phone number of a cell in its stored form (orgs.validators), and a warning when the
    cell held several: the first mobile number is kept (the member form has one phone)."""
    text = clean_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_phone(normalise_phone(text)) \
            and is_phone(normalise_phone("0" + text)) and "-" in normalise_phone("0" + text):
        # 0756 2234567 typed into a number cell loses its 0: give the area code it back.
        return normalise_phone("0" + text), f"“{text}”按座机 {normalise_phone('0' + text)} 理解（数字单元格丢掉了区号前的0）"
    numbers = split_phones(text)
    if not numbers:
        return "", ""
    if not all(is_phone(n) for n in numbers):
        raise CellError(f"“{text}”：{PHONE_MESSAGE.rstrip('。')}")
    if len(numbers) == 1:
        return numbers[0], ""
    kept = next((n for n in numbers if len(n) == 11 and n.isdigit()), numbers[0])
    return kept, f"“{text}”有{len(numbers)}个号码，系统只记一个，保存了 {kept}"


def parse_text(value, field_name: str, *, cleaned: bool = False) -> str:
    text = check_text(value if cleaned else clean_text(value))
    if field_name == "name":
        text = normalise_name(text)
    return check_text(text, limit=TEXT_LIMITS.get(field_name))


# --- reading ------------------------------------------------------------------------------

def read_roster(data: bytes, *, default_branch: bool = False) -> Roster:
    """A members' roster; with `default_branch` the 所在党支部 column may be missing."""
    return read_sheet(data, MEMBER_LAYOUT, optional={"branch"} if default_branch else set())


def _parse_row(number: int, cells: dict, epoch) -> dict:
    """One row: cleaned values (dates as ISO text plus their precision), cell errors and warnings."""
    row = {"row": number, "errors": [], "warnings": []}
    for field_name, raw in cells.items():
        try:
            if field_name in ("birth_month", "joined_party_on", "full_member_on"):
                value, warning = parse_date(raw, epoch=epoch)
                if warning:
                    row["warnings"].append([field_name, warning])
                if value is not None and field_name == "birth_month":
                    value = value.date.replace(day=1).isoformat()
                elif value is not None:
                    row[PRECISION_FIELDS[field_name]] = value.precision
                    value = value.date.isoformat()
            elif (text := clean_text(raw)) == "":
                value = ""
            # The parsers below take the cleaned text (cleaning twice changes nothing).
            elif field_name == "gender":
                value = parse_gender(text)
            elif base_field(field_name) == "type":
                # Combined with the row's other such columns in build_plan (_combine_types).
                value = list(parse_member_type(text))
            elif field_name == "phone":
                value, warning = parse_phones(raw)  # raw: a number cell may have lost its 0
                if warning:
                    row["warnings"].append([field_name, warning])
            else:
                value = parse_text(text, field_name, cleaned=True)
        except CellError as exc:
            row["errors"].append([field_name, str(exc)])
            value = None
        row[field_name] = value
    for required in ("name", "gender"):
        if required in cells and not row.get(required) and not any(e[0] == required for e in row["errors"]):
            row["errors"].append([required, "不能为空"])
    return row


PRECISION_FIELDS = {"joined_party_on": "joined_party_precision", "full_member_on": "full_member_precision"}

MEMBER_LAYOUT = Layout(
    columns=COLUMNS, parse_row=_parse_row, noun="党员", max_rows=max_rows, ignored_columns=IGNORED_COLUMNS,
    repeatable=frozenset({"type"}), sentinel="gender", missing_hints={"branch": "，或在上传时选择导入到的党支部"},
    no_header="没有找到表头：请在前10行内放一行列名，至少包括“姓名”“性别”“所在党支部”。可以先下载导入模板对照。")


# --- planning -----------------------------------------------------------------------------

MEMBER_FIELDS = ("gender", "birth_month", "post", "joined_party_on", "membership", "full_member_on", "phone",
                 "category", "ethnicity", "education", "native_place", "note")
FIELD_LABELS = {"name": "姓名", "gender": "性别", "birth_month": "出生年月", "post": "职务或职业",
                "joined_party_on": "入党时间", "membership": "党员类型", "full_member_on": "转正时间",
                "phone": "联系电话", "category": "党员类别", "ethnicity": "民族", "education": "学历",
                "native_place": "籍贯", "note": "备注", "branch": "所在党支部"}
NEW = "new"                 # a conflict resolved as another person
SAME = "same:"              # … as the member with this id (same:<id>)


@dataclass
class Pending:
    """A row that may be an existing member or another person: decided by the user's choice."""

    row: dict
    result: dict
    branch: Organisation
    values: dict
    candidates: dict[int, Member]
    header: dict


@dataclass
class Plan:
    """The decision for every row; creates and updates are model instances ready to write."""

    results: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)   # cells read with a caveat (formulas …)
    creates: list[Member] = field(default_factory=list)
    updates: list[tuple[Member, list[str]]] = field(default_factory=list)
    branch_ids: set[int] = field(default_factory=set)
    pending: dict[int, Pending] = field(default_factory=dict)
    claimed: dict[int, int] = field(default_factory=dict)   # member id → the row that updates or matches it
    listed: set[int] = field(default_factory=set)           # id() of the results already in `results`
    today: datetime.date = field(default_factory=timezone.localdate)  # once, not once per row
    describe: bool = True   # a preview: list each new member's values; nothing will be written
    scratch: Member | None = None          # see _new_member
    scratch_defaults: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict:
        counts = {"create": 0, "update": 0, "same": 0, "error": 0, "conflict": 0, "namesake": 0, "warning": 0}
        for r in self.results:
            counts[r["action"]] += 1
            counts["namesake"] += bool(r.get("namesake")) and r["action"] != "error"
            counts["warning"] += bool(r["notes"])
        counts["errors"] = len(self.errors)
        return counts

    @property
    def fingerprint(self) -> str:
        """What the preview promised: which row does what to which record at which version (for
        a conflict: which records it was weighed against)."""
        decisions = [[r["row"], r["action"], r.get("branch_id"), r.get("member_id"), r.get("version"),
                      sorted(r.get("changed", [])), r.get("conflict", {}).get("against", [])]
                     for r in self.results]
        return hashlib.sha256(json.dumps(decisions).encode()).hexdigest()

    def resolve(self, choices: dict[int, str]) -> None:
        """Turn each conflict row into a new member or an update of the chosen one. The choices
        were checked against the stored plan (check_choices); a choice that no longer fits is
        an error of its row."""
        for number, pending in sorted(self.pending.items()):
            choice = choices.get(number, "")
            result = pending.result
            result.pop("conflict", None)
            result["resolved"] = choice
            if choice == NEW:
                _plan_create(self, result, pending.branch, pending.row["name"], pending.values, pending.header)
            elif choice.startswith(SAME) and choice[len(SAME):].isdigit() \
                    and (member := pending.candidates.get(int(choice[len(SAME):]))) is not None \
                    and member.pk not in self.claimed:
                self.claimed[member.pk] = number
                _plan_update(self, result, pending.row, member, pending.values, pending.header)
            else:
                _fail(self, result, [RowError(number, "", "同名党员是否同一人的选择无效，请重新上传并选择")])
        self.pending = {}


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

    def load(self, ids) -> None:
        """Read these branches in one query (those a roster names), rather than one by one."""
        wanted = [pk for pk in ids if pk in self._ids and pk not in self._loaded]
        if wanted:
            self._loaded.update(self._queryset.in_bulk(wanted))


def _branch_index(queryset) -> tuple[dict[str, set[int]], dict[int, str]]:
    index: dict[str, set[int]] = defaultdict(set)
    codes: dict[int, str] = {}
    for pk, name, short_name, code in queryset.values_list("pk", "name", "short_name", "code"):
        codes[pk] = code
        for key in (name, short_name, code):
            if key:
                index[name_key(key)].add(pk)
    return index, codes


class BranchResolver:
    """Branches the importer may register members in — within `within` (the organisation the
    roster is imported into) when given — looked up by name, short name or code.

    The lookup index is built from (id, name, short name, code) tuples of every branch in reach;
    model instances are read only for the branches the sheet names. Names are resolved within the
    chosen organisation only, so a committee's 第一党支部 is never confused with another's."""

    def __init__(self, actor, within: Organisation | None = None):
        scope = branch_choices_for(actor)
        if within is not None:
            scope = scope.filter(path__startswith=within.path)
        self.index, self._codes = _branch_index(scope)
        self.branches = _Branches(scope, self._codes)
        self._unusable = None
        self._elsewhere = None
        self._resolved: dict[str, Organisation | CellError] = {}
        self._actor, self.within = actor, within

    def unusable(self) -> dict[str, Organisation]:
        """Organisations in reach that cannot take members (not branches, or revoked), for a
        precise message; loaded only when a lookup fails."""
        if self._unusable is None:
            self._unusable = {}
            orgs = organisation_list_for(self._actor, roles=OFFICER_ROLES, include_inactive=True)
            if self.within is not None:
                orgs = orgs.filter(path__startswith=self.within.path)
            for org in orgs:
                if org.pk in self.branches:
                    continue
                for key in (org.name, org.short_name, org.code):
                    if key:
                        self._unusable.setdefault(name_key(key), org)
        return self._unusable

    def elsewhere(self, key: str) -> bool:
        """Whether a branch of this name is in the importer's reach outside the chosen organisation."""
        if self.within is None:
            return False
        if self._elsewhere is None:
            self._elsewhere, _codes = _branch_index(branch_choices_for(self._actor))
        return bool(self._elsewhere.get(key))

    def preload(self, texts) -> None:
        """Read, in one query, the branches these names designate unambiguously."""
        ids = [next(iter(found)) for text in texts if len(found := self.index.get(name_key(text), ())) == 1]
        self.branches.load(ids)

    def resolve(self, text: str) -> Organisation:
        # A 10,000-row roster names a few hundred branches: each name is looked up once.
        if text not in self._resolved:
            try:
                self._resolved[text] = self._resolve(text)
            except CellError as exc:
                self._resolved[text] = exc
        found = self._resolved[text]
        if isinstance(found, CellError):
            raise CellError(str(found))  # a fresh one: re-raising one instance grows its traceback
        return found

    def _resolve(self, text: str) -> Organisation:
        key = name_key(text)
        ids = self.index.get(key, set())
        if len(ids) == 1:
            return self.branches[next(iter(ids))]
        if len(ids) > 1:
            codes = "、".join(sorted(self._codes[i] for i in ids))
            raise CellError(f"有{len(ids)}个党支部名为“{text}”（组织编码 {codes}），请改填组织编码")
        other = self.unusable().get(key)
        if other is not None and not other.is_active:
            raise CellError(f"党组织“{text}”已撤销，不能导入")
        if other is not None:
            raise CellError(f"“{text}”是{other.get_kind_display()}，党员只能编入党支部或临时党支部")
        if self.elsewhere(key):
            raise CellError(f"“{self.within.name}”之下没有党支部“{text}”（其他党组织下有同名的）；"
                            "请核对，或在上传时改选导入到的党组织")
        # The same words for a branch that does not exist and one outside the importer's reach.
        raise CellError(f"找不到党支部“{text}”，或您无权向该党支部导入；请填写党支部全称、简称或组织编码")


def _as_date(value):
    return datetime.date.fromisoformat(value) if value else None


def _display(field_name: str, value, precision: str = DatePrecision.DAY) -> str:
    if value in (None, ""):
        return ""
    if field_name == "gender":
        return Gender(value).label
    if field_name == "category":
        return MemberCategory(value).label
    if field_name == "membership":
        return MembershipType(value).label
    if field_name == "birth_month":
        return f"{value.year}年{value.month}月"
    if field_name in PRECISION_FIELDS:
        return cn_partial_date(value, precision)
    return str(value)


def _combine_types(row: dict, header: dict, keys: list[str]) -> tuple[dict, list]:
    """党员类别 and 党员类型 of a row from its 人员类别-like columns `keys` (each cell gave a pair,
    either part maybe None); two columns saying different things is an error of the later column."""
    got: dict[str, tuple[str, str]] = {}
    errors = []
    for key in keys:
        pair = row.get(key)
        if not isinstance(pair, list):
            continue
        for target, value in zip(("category", "membership"), pair):
            if value is None:
                continue
            if target in got and got[target][0] != value:
                errors.append([key, f"与「{header.get(got[target][1], got[target][1])}」列不一致"
                                    f"（{_display(target, got[target][0])}／{_display(target, value)}）"])
            got.setdefault(target, (value, key))
    return {target: value for target, (value, _key) in got.items()}, errors


def _row_values(row: dict) -> dict:
    """The member fields a parsed row gives (dates as dates, with their precisions)."""
    values = {f: row[f] for f in MEMBER_FIELDS if f in row}
    for key in ("birth_month", *PRECISION_FIELDS):
        if key in values:
            values[key] = _as_date(values[key])
    for key, precision in PRECISION_FIELDS.items():
        if values.get(key):
            values[precision] = row.get(precision, DatePrecision.DAY)
    if values.get("full_member_on") and not values.get("membership"):
        values["membership"] = MembershipType.FULL  # a 转正时间 says so
    return values


def _differences(values: dict, member_or_values) -> list[str]:
    """The identifying fields that tell two records with the same name and birth month apart:
    性别, and 入党时间 (compared by month when either is known only to the month). A blank on
    either side tells nothing."""
    get = member_or_values.get if isinstance(member_or_values, dict) else \
        (lambda k, default=None: getattr(member_or_values, k, default))
    out = []
    if values.get("gender") and get("gender") and values["gender"] != get("gender"):
        out.append("性别")
    a, b = values.get("joined_party_on"), get("joined_party_on")
    if a and b:
        by_month = DatePrecision.MONTH in (values.get("joined_party_precision"), get("joined_party_precision"))
        if (a.year, a.month) != (b.year, b.month) if by_month else a != b:
            out.append("入党时间")
    return out


def _who(name: str, gender: str, birth, joined, precision) -> str:
    parts = [Gender(gender).label if gender else "", f"{birth.year}年{birth.month}月出生" if birth else "",
             f"{cn_partial_date(joined, precision)}入党" if joined else "入党时间未登记"]
    return f"{name}（{'，'.join(p for p in parts if p)}）"


def build_plan(*, actor, rows: list[dict], columns: dict[str, str], target_id: int | None = None,
               lock: bool = False) -> Plan:
    """Decide create / update / no change / conflict for every parsed row, and collect every error.

    Members are matched by branch, name and birth month (never by name alone). When records so
    matched differ in 性别 or 入党时间 — two rows of the file, or a row and a member on file — they
    may be two people or one with a corrected record: the row becomes a conflict the user
    resolves on the preview (Plan.resolve), never a silent merge or a silent second record. A
    same-name member with another or no birth month gets a new record and a 同名 note.
    `target_id` is the organisation imported into: branch names are resolved within it, and a
    row without a branch goes to it if it is a branch. `lock` takes row locks on the members it
    reads (inside the apply transaction).
    """
    plan = Plan(describe=not lock)
    target = Organisation.objects.get(pk=target_id) if target_id else None
    resolver = BranchResolver(actor, within=target)
    header = {**{f: columns.get(f, FIELD_LABELS[f]) for f in FIELD_LABELS}, **columns}
    for kind in ("category", "membership"):
        header[kind] = columns.get("type", FIELD_LABELS[kind])
    default_branch = resolver.branches.get(target_id) if target_id else None
    type_keys = sorted(k for k in columns if base_field(k) == "type")

    # Pass 1: 党员类别 and 党员类型 from their columns; branches.
    resolver.preload({row["branch"] for row in rows if row.get("branch")})
    resolved: list[tuple[dict, Organisation | None, list]] = []
    for row in rows:
        branch = None
        cell_errors = list(row.get("errors", []))
        if type_keys:
            types, type_errors = _combine_types(row, header, type_keys)
            row = {**row, **types}
            cell_errors += type_errors
        text = row.get("branch") or ""
        if text:
            try:
                branch = resolver.resolve(text)
            except CellError as exc:
                cell_errors.append(["branch", str(exc)])
        elif default_branch is not None:
            branch = default_branch
        elif not any(e[0] == "branch" for e in cell_errors):
            cell_errors.append(["branch", f"不能为空（导入到“{target.name}”时须写明所在党支部）" if target else "不能为空"])
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

    # Rows of the file that share branch, name and birth month.
    groups: dict[tuple, list[int]] = defaultdict(list)
    row_values: dict[int, dict] = {}
    for row, branch, cell_errors in resolved:
        if cell_errors or branch is None:
            continue
        row_values[row["row"]] = values = _row_values(row)
        if values.get("birth_month") is not None:
            groups[(branch.pk, row["name"], values["birth_month"])].append(row["row"])

    # Pass 2: match, validate.
    seen_names: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row, branch, cell_errors in resolved:
        result = {"row": row["row"], "name": row.get("name") or "", "branch": branch.name if branch else
                  (row.get("branch") or ""), "branch_id": branch.pk if branch else None,
                  "gender": _display("gender", row.get("gender")) if row.get("gender") else "",
                  "birth": _display("birth_month", _as_date(row.get("birth_month"))),
                  "notes": [], "changes": []}
        for w in row.get("warnings", []):
            warning = RowError(row["row"], header.get(w[0], w[0]), w[1], w[2] if len(w) > 2 else "")
            plan.warnings.append(warning)
            result["notes"].append(warning.in_row())
        errors = [RowError(row["row"], header.get(e[0], e[0]), e[1], e[2] if len(e) > 2 else "")
                  for e in cell_errors]
        if errors or branch is None:
            _fail(plan, result, errors)
            continue
        name = row["name"]
        values = row_values[row["row"]]
        birth = values.get("birth_month")
        namesakes = by_name.get((branch.pk, name), [])
        if birth is None:
            _plan_new_namesake(plan, result, branch, name, values, header, namesakes,
                               seen_names[(branch.pk, name)])
            seen_names[(branch.pk, name)].append(row["row"])
            continue
        group = groups[(branch.pk, name, birth)]
        candidates = [m for m in namesakes if m.birth_month == birth]
        earlier = group[:group.index(row["row"])]
        duplicate = next((n for n in earlier if not _differences(values, row_values[n])), None)
        if duplicate is not None:
            _fail(plan, result, [RowError(row["row"], "", f"与第{duplicate}行重复：同一党支部中姓名和出生年月都相同")])
            continue
        earlier_namesakes = list(seen_names[(branch.pk, name)])
        seen_names[(branch.pk, name)].append(row["row"])
        exact = [m for m in candidates if not _differences(values, m)]
        if len(group) == 1 and len(exact) > 1:
            _fail(plan, result, [RowError(row["row"], header["name"],
                                          f"本支部已有{len(exact)}名同名且出生年月相同的党员，无法确定更新哪一位，"
                                          "请在系统中逐个修改")])
        elif len(group) == 1 and exact and exact[0].pk not in plan.claimed:
            plan.claimed[exact[0].pk] = row["row"]
            _plan_update(plan, result, row, exact[0], values, header)
        elif len(group) == 1 and not candidates:
            _plan_new_namesake(plan, result, branch, name, values, header, namesakes, earlier_namesakes)
        else:
            _plan_conflict(plan, result, row, branch, values, header, candidates,
                           [n for n in group if n != row["row"]], row_values)
    return plan


def _plan_new_namesake(plan, result, branch, name, values, header, namesakes, earlier_rows) -> None:
    notes = []
    for other in namesakes:
        notes.append(f"同名：本支部已有党员“{name}”（出生年月{_display('birth_month', other.birth_month) or '未登记'}），"
                     "将另行登记一人；如是同一人，请核对出生年月")
    for earlier in earlier_rows:
        notes.append(f"同名：与第{earlier}行同一党支部同名，将分别登记")
    result["namesake"] = bool(notes)
    result["notes"] = notes + result["notes"]
    _plan_create(plan, result, branch, name, values, header)


def _plan_conflict(plan, result, row, branch, values, header, candidates, others, row_values) -> None:
    """Same branch, name and birth month as a member on file or another row, but a different
    性别 or 入党时间: the user decides (Plan.resolve) between the members on file and a new record."""
    name, birth = row["name"], values["birth_month"]
    reasons, options = [], []
    for member in candidates:
        differs = _differences(values, member)
        who = _who(name, member.gender, member.birth_month, member.joined_party_on, member.joined_party_precision)
        reasons.append(f"本支部已有党员{who}" + (f"，与本行的{'和'.join(differs)}不同" if differs else "，与本行一致"))
        preview = {"changes": []}
        probe = Member(**{f.attname: getattr(member, f.attname) for f in Member._meta.concrete_fields})
        probe.branch = member.branch
        _apply_values(probe, values, preview)
        options.append({"value": f"{SAME}{member.pk}", "label": f"更新为同一人：{who}",
                        "changes": preview["changes"]})
    for number in others:
        differs = _differences(values, row_values[number])
        reasons.append(f"与第{number}行同名、出生年月相同" + (f"，但{'和'.join(differs)}不同" if differs else ""))
    options.append({"value": NEW, "label": "新增为另一人" + (f"（与第{'、'.join(map(str, others))}行是不同的人）"
                                                            if others else "")})
    result.update(action="conflict", conflict={
        "reasons": reasons, "options": options,
        "against": sorted([m.pk, m.version] for m in candidates)})
    plan.pending[row["row"]] = Pending(row=row, result=result, branch=branch, values=values,
                                       candidates={m.pk: m for m in candidates}, header=header)
    _listed(plan, result)


def _listed(plan: Plan, result: dict) -> None:
    """Add a row's result once (a conflict's result is listed before its choice is applied)."""
    if id(result) not in plan.listed:
        plan.listed.add(id(result))
        plan.results.append(result)


def _fail(plan: Plan, result: dict, errors: list[RowError]) -> None:
    result["action"] = "error"
    result["errors"] = [e.in_row() for e in errors]
    plan.errors.extend(errors)
    _listed(plan, result)


def _model_errors(exc: ValidationError, row: int, header: dict) -> list[RowError]:
    errors = []
    for field_name, messages in exc.message_dict.items():
        column = header.get(field_name, "")
        errors += [RowError(row, column, m.rstrip("。")) for m in messages]
    return errors


# The fields a new member takes from a row; the rest keep their defaults.
_NEW_FIELDS = (*MEMBER_FIELDS, *PRECISION_FIELDS.values())


def _new_member(plan: Plan, branch, name, data: dict) -> Member:
    """The record a row creates. For the preview (nothing is written) one scratch record is
    refilled row after row: building 10,000 model instances was a fifth of the preview's time."""
    if not plan.describe:
        return Member(branch=branch, name=name, status=MemberStatus.ACTIVE, **data)
    if plan.scratch is None:
        plan.scratch = Member(status=MemberStatus.ACTIVE)
        plan.scratch_defaults = {f: getattr(plan.scratch, f) for f in _NEW_FIELDS}
    member = plan.scratch
    for f, default in plan.scratch_defaults.items():
        setattr(member, f, data.get(f, default))
    member.branch, member.name = branch, name
    return member


def _plan_create(plan, result, branch, name, values, header) -> None:
    data = {k: v for k, v in values.items() if v not in (None, "")}
    data.setdefault("category", MemberCategory.GENERAL)
    member = _new_member(plan, branch, name, data)
    try:
        member.clean(today=plan.today)
    except ValidationError as exc:
        _fail(plan, result, _model_errors(exc, result["row"], header))
        return
    result["action"] = "create"
    if plan.describe:
        result["changes"] = _new_values(member)
    else:
        plan.creates.append(member)
    _listed(plan, result)


def _new_values(member: Member) -> list[list[str]]:
    """What a new member's record will say, for the preview (gender and birth month have their
    own columns there; 正式党员 goes without saying)."""
    out = []
    for f in MEMBER_FIELDS:
        value = getattr(member, f)
        if f in ("gender", "birth_month") or value in (None, "") or value == MembershipType.FULL:
            continue
        precision = getattr(member, PRECISION_FIELDS[f]) if f in PRECISION_FIELDS else DatePrecision.DAY
        out.append([FIELD_LABELS[f], "", _display(f, value, precision)])
    return out


def _apply_values(member: Member, values: dict, result: dict) -> list[str]:
    """Set the row's values on the member; the changed fields. A blank cell means "not given here":
    it never clears what the register already holds, and a date given only to the month never
    replaces the same month known to the day."""
    changed = []
    for field_name, value in values.items():
        if value in (None, "") or field_name in PRECISION_FIELDS.values():
            continue
        old = getattr(member, field_name)
        if field_name in PRECISION_FIELDS:
            precision_field = PRECISION_FIELDS[field_name]
            old_precision, precision = getattr(member, precision_field), values[precision_field]
            if old is not None and (old.year, old.month) == (value.year, value.month) and (
                    precision == DatePrecision.MONTH or (old == value and old_precision == precision)):
                continue
            result["changes"].append([FIELD_LABELS[field_name], _display(field_name, old, old_precision),
                                      _display(field_name, value, precision)])
            setattr(member, field_name, value)
            setattr(member, precision_field, precision)
            changed += [field_name, precision_field]
        elif value != old:
            result["changes"].append([FIELD_LABELS[field_name], _display(field_name, old), _display(field_name, value)])
            setattr(member, field_name, value)
            changed.append(field_name)
    return changed


def _plan_update(plan, result, row, member, values, header) -> None:
    result["changes"] = []
    changed = _apply_values(member, values, result)
    try:
        member.clean(today=plan.today)
    except ValidationError as exc:
        _fail(plan, result, _model_errors(exc, row["row"], header))
        return
    result.update(member_id=member.pk, version=member.version, changed=changed,
                  action="update" if changed else "same")
    if member.status != MemberStatus.ACTIVE:
        result["notes"].append(f"该党员状态为“{member.get_status_display()}”，只更新信息，不改变状态")
    if changed:
        plan.updates.append((member, changed))
    _listed(plan, result)


# --- the two steps ------------------------------------------------------------------------

def member_import_prepare(*, actor, upload, target: Organisation | None = None) -> str:
    """Officers check and plan a roster upload (nothing is written to the database); the token of the stored plan.

    `target`: the organisation imported into (any in the officer's reach, a 党委 as well as a
    branch); without it, branch names are resolved across everything the officer reaches."""
    _check_importer(actor, target)
    data = check_upload(upload)
    roster = read_roster(data, default_branch=target is not None and target.is_branch)
    return store_plan(actor=actor, roster=roster, data=data, filename=str(upload.name), target=target)


def _check_importer(actor, target) -> None:
    if not scope_for(actor).has_any(OFFICER_ROLES):
        raise PermissionDenied
    if target is not None and not organisation_list_for(actor, roles=OFFICER_ROLES).filter(pk=target.pk).exists():
        raise PermissionDenied


def store_plan(*, actor, roster: Roster, data: bytes, filename: str, target: Organisation | None = None) -> str:
    """Officers plan a roster already read and keep the plan for the preview; the plan's token."""
    _check_importer(actor, target)
    plan = build_plan(actor=actor, rows=roster.rows, columns=roster.columns, target_id=target.pk if target else None)
    stored = {
        "format": 2, "kind": "members", "owner": actor.pk, "created": time.time(),
        "filename": Path(filename).name[:120], "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "sheet": roster.sheet, "header_row": roster.header_row,
        "header_rows": roster.header_rows, "columns": roster.columns, "ignored": roster.ignored,
        "report": _labelled(roster.report, roster.rows), "skipped": roster.skipped, "other_sheets": roster.other_sheets,
        "skipped_example": roster.skipped_example,
        "target": target.pk if target else None, "target_name": target.name if target else "",
        "target_is_branch": bool(target and target.is_branch),
        # A plan with errors cannot be applied, so it keeps no rows to apply.
        "rows": [{k: v for k, v in r.items() if k not in ("errors", "warnings")} for r in roster.rows]
        if not plan.errors else [],
        "results": plan.results, "errors": [str(e) for e in plan.errors], "counts": plan.counts,
        "error_groups": group_errors(plan.errors), "warning_groups": group_errors(plan.warnings),
        "fingerprint": plan.fingerprint,
    }
    return save_plan(stored)


def _labelled(report: list[dict], rows: list[dict]) -> list[dict]:
    """The column report with each field's name as the register calls it: a 人员类别-like column
    is 党员类别, 党员类型 or both, by the values it held."""
    labels = {c.field: c.label for c in COLUMNS} | FIELD_LABELS
    out = []
    for entry in report:
        entry = dict(entry)
        field_name = entry["field"]
        if field_name:
            entry["label"] = labels.get(base_field(field_name), field_name)
        if field_name and base_field(field_name) == "type":
            pairs = [r[field_name] for r in rows if isinstance(r.get(field_name), list)]
            kinds = [label for i, label in enumerate(("党员类别", "党员类型")) if any(p[i] for p in pairs)]
            if kinds:
                entry["label"] = "、".join(kinds)
                entry["note"] = entry["note"] or "按内容识别"
        out.append(entry)
    return out


def member_import_apply(*, actor, token: str, choices: dict[int, str] | None = None, for_all: str = "") -> dict:
    """Officers apply their own previewed plan: every row in one transaction, or nothing.

    `choices` resolves the plan's conflict rows (row number → "new" or "same:<member id>");
    `for_all` ("new" or "same") answers every row left without a choice. Unresolved conflicts
    are refused (ConflictsUnresolved) before anything else happens, the plan kept for the preview.
    The plan file is claimed next (renamed), so a second click or a second tab cannot apply it
    twice; a failed apply discards it and the roster must be uploaded again.
    """
    stored = plan_for(actor=actor, token=token)
    checked = check_choices(stored, choices or {}, for_all=for_all)
    return apply_plan(actor=actor, token=token, kind="members",
                      apply=lambda *, actor, stored: _apply(actor=actor, stored=stored, choices=checked),
                      summary=lambda c: f"新增{c['created']}名、更新{c['updated']}名")


def check_choices(stored: dict, choices: dict[int, str], *, for_all: str = "") -> dict[int, str]:
    """The choice for every conflict row of a stored plan, or ConflictsUnresolved saying which
    rows lack one (or chose a member another row already stands for)."""
    checked: dict[int, str] = {}
    missing: list[int] = []
    taken = {r["member_id"]: r["row"] for r in stored["results"] if r.get("member_id")}
    twice: list[tuple[int, int]] = []
    for result in stored["results"]:
        if result["action"] != "conflict":
            continue
        number = result["row"]
        options = [o["value"] for o in result["conflict"]["options"]]
        choice = choices.get(number, "")
        if choice not in options:
            choice = ""
        if not choice and for_all == NEW:
            choice = NEW
        elif not choice and for_all == "same":
            same = [o for o in options if o.startswith(SAME)]
            choice = same[0] if len(same) == 1 else ""
        if not choice:
            missing.append(number)
            continue
        if choice.startswith(SAME):
            pk = int(choice[len(SAME):])
            if pk in taken:
                twice.append((taken[pk], number))
                continue
            taken[pk] = number
        checked[number] = choice
    if missing:
        raise ConflictsUnresolved(
            f"还有{len(missing)}行同名党员没有确定是否同一人（{row_ranges(missing)}），请在“待确认”中逐行选择"
            "“更新为同一人”或“新增为另一人”后再确认导入。名册尚未导入。", missing)
    if twice:
        pairs = "；".join(f"第{a}行和第{b}行" for a, b in twice[:5])
        raise ConflictsUnresolved(f"{pairs}对应了系统中的同一名党员，一名党员只能对应一行，请改选。名册尚未导入。",
                                  [b for _, b in twice])
    return checked


@transaction.atomic
def _apply(*, actor, stored: dict, choices: dict[int, str]) -> dict:
    if not scope_for(actor).has_any(OFFICER_ROLES):
        raise PermissionDenied
    # Plans stored before the target could be any organisation named their default branch.
    target_id = stored.get("target", stored.get("default_branch"))
    target = Organisation.objects.filter(pk=target_id).first() if target_id else None
    _check_importer(actor, target)
    plan = build_plan(actor=actor, rows=stored["rows"], columns=stored["columns"], target_id=target_id, lock=True)
    if plan.errors:
        shown = "；".join(str(e) for e in plan.errors[:5])
        raise ValidationError(f"预览之后情况有变，名册未导入：{shown}。请重新上传。")
    if plan.fingerprint != stored["fingerprint"]:
        raise Conflict("预览之后，名册涉及的党员信息已被他人修改，名册未导入。请重新上传并核对预览。")
    plan.resolve(choices)
    if plan.errors:
        shown = "；".join(str(e) for e in plan.errors[:5])
        raise ValidationError(f"名册未导入：{shown}。")
    now = timezone.now()
    write_updates(plan.updates, now, model=Member)
    created = Member.objects.bulk_create(plan.creates, batch_size=500)
    counts = plan.counts
    audit.record(actor=actor, action="member.import", organisation=common_ancestor(plan.branch_ids),
                 detail={"file": stored["filename"], "sha256": stored["sha256"], "sheet": stored["sheet"],
                         "rows": len(plan.results), "created": counts["create"], "updated": counts["update"],
                         "unchanged": counts["same"], "created_ids": id_ranges(m.pk for m in created),
                         "updated_fields": {str(m.pk): c for m, c in plan.updates},
                         "target": target_id, "choices": {str(k): v for k, v in choices.items()}})
    public_data_changed.send(sender=__name__)
    return {"created": counts["create"], "updated": counts["update"], "unchanged": counts["same"],
            "branch_ids": sorted(plan.branch_ids)}


# --- the template -------------------------------------------------------------------------

TEMPLATE_NOTES = ("填写说明：带 * 的列必填。出生年月写到月，如 1975-03、1975.03 或 1975年3月；入党时间、转正时间写到日"
                  "（1998-07-01、1998年7月1日），只知道年月的写到月（1998.07），系统按年月保存。所在党支部填全称、简称或"
                  "组织编码。同一党支部的同名党员靠出生年月区分，请务必填写。第3行是示例，导入时自动跳过。"
                  "更多说明见“填写说明”工作表。")

# (field, header, width, example): 党员类别 and 党员类型 are both read from a 人员类别-like column by
# their values, so the template offers one column of each.
TEMPLATE_COLUMNS = (
    ("name", "姓名*", 10, "张三"), ("gender", "性别*", 6, "男"), ("birth_month", "出生年月", 11, "1975-03"),
    ("joined_party_on", "入党时间", 12, "1998-07-01"), ("post", "职务或职业", 18, "科员"),
    ("branch", "所在党支部*", 26, ""), ("phone", "联系电话", 15, "13800000000"),
    ("type", "党员类别", 24, MemberCategory.GENERAL.label), ("note", "备注", 22, EXAMPLE_MARK),
    ("type", "党员类型", 10, MembershipType.FULL.label), ("full_member_on", "转正时间", 12, "1999-07-01"),
    ("ethnicity", "民族", 8, "汉族"), ("education", "学历", 12, "大学本科"), ("native_place", "籍贯", 12, "广东珠海"),
)
TEMPLATE_RULES = (
    "表头可以在前10行内任意一行，上方可以有标题行（可合并单元格）；表头可以占两行（上面一行是合并的分组标题）。",
    "同一党支部的党员可以把“所在党支部”合并为一个单元格，视为每一行都填了该党支部；空行、“制表人：”“合计：”"
    "等说明行和每页重复的表头会被跳过，并在预览中列出。",
    "“人员类别”“党员类别”“党员类型”“党籍状态”等列按内容识别：四类党员（领导、在职、年老体弱、离退休）是党员类别，"
    "正式党员、预备党员是党员类型；两者可各占一列，也可写在同一格（如“在职/预备党员”）。",
    "“工作单位及职务”“单位及职务”导入为职务或职业；身份证号等证件号码不保存；序号、年龄、党龄等列不导入。"
    "预览页列出每一列导入为哪一项，或为什么不导入。",
    "联系电话：138-2345-6789、138 2345 6789、+86 13823456789 存为 13823456789；0756-2234567、(0756)2234567 存为 "
    "0756-2234567；0756-2234567转801 存为 0756-2234567-801。一格有几个号码的，保存第一个手机号并提示。",
    "日期可以是 Excel 日期（设置为“yyyy年m月”等只显示年月的格式时按年月保存），也可以写 1975.03、1975-03、1975/3、"
    "1975年3月（按年月）或 1975-03-08、1975年3月8日（按日）。",
    "公式按 Excel 保存的计算结果导入，并在该行提示；没有计算结果的公式（如由其他程序生成、从未在 Excel 中打开的文件）"
    "须先在 Excel 中打开并保存。",
    "同一党支部中姓名和出生年月都相同、性别和入党时间也不矛盾的，视为同一人并更新其信息；留空的项目不会清除系统中"
    "已有的信息。姓名和出生年月相同但性别或入党时间不同的，预览中标为“待确认”，由您逐行选择“更新为同一人”或"
    "“新增为另一人”后才能导入。",
    "上传时可选择导入到哪个党组织（党委、党总支或党支部）：表格中的党支部名称只在该党组织之下查找。",
    "有任何一行出错，整个名册都不会导入；预览页会列出出错的行和列，同样的错误合并为一条。",
)


def template_workbook(*, branch_name: str = "") -> bytes:
    """The import template: notes, headers, one example row (skipped on import), drop-downs."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append([TEMPLATE_NOTES])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
    ws.row_dimensions[1].height = 64
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(color="7F1414", size=10)
    ws.append([header for _f, header, _w, _e in TEMPLATE_COLUMNS])
    ws.append([(branch_name or "某某党支部") if f == "branch" else example for f, _h, _w, example in TEMPLATE_COLUMNS])
    lists = {"性别*": ('"男,女"', True), "党员类别": ('"' + ",".join(c.label for c in MemberCategory) + '"', False),
             "党员类型": ('"' + ",".join(m.label for m in MembershipType) + '"', False)}
    last = max_rows() + 2
    for index, (f, header, width, _example) in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = width
        head = ws.cell(row=2, column=index)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="FBEFD5")
        ws.cell(row=3, column=index).font = Font(color="808080", italic=True)
        if f in ("birth_month", "joined_party_on", "full_member_on", "phone"):
            # Text cells keep 1975.10 as typed (a number cell would store 1975.1).
            ws.column_dimensions[letter].number_format = "@"
            for r in range(3, 1003):
                ws.cell(row=r, column=index).number_format = "@"
        if header in lists:
            formula, strict = lists[header]
            rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=strict,
                                  errorTitle=header.rstrip("*"), error="请从列表中选择")
            rule.add(f"{letter}3:{letter}{last}")
            ws.add_data_validation(rule)
    ws.freeze_panes = "A3"
    add_notes_sheet(wb, COLUMNS, rules=TEMPLATE_RULES, widths=(16, 6, 44, 80))
    return workbook_bytes(wb)


# --- the pages' view of this importer -------------------------------------------------------

class MemberImporter(Importer):
    """党员名册导入 for officers: into one organisation they run, or everything they reach."""

    kind, url_name = "members", "orgs:member_import"
    row_template = "orgs/partials/import_row_member.html"
    list_url, list_label = "orgs:member_list", "党员名册"
    preview_title, reupload_label = "导入预览", "重新上传名册"
    sheet_noun, done_label, item, measure = "名册", "名册", "党员", "名"
    source = "本单位现有的名册"
    file_label, file_help = "名册文件", "Excel 工作簿（.xlsx），不超过10MB、20000行"
    busy = "正在校验名册，行数多时需要十几秒，请勿关闭页面…"
    rules = ("其他系统导出的名册可直接上传：表头可在前10行内，上方可以有（合并的）标题行；合并的“所在党支部”单元格对其"
             "覆盖的每一行都有效；“制表人：”“合计：”等说明行自动跳过。",
             "“人员类别”等列按内容识别：四类党员是党员类别，正式党员、预备党员是党员类型。身份证号等证件号码不保存。",
             "日期可以是 Excel 日期，也可以写 1975.03、1975-03、1975年3月、1975/3/8。入党时间、转正时间只写到月的，"
             "按月保存，不补日期。",
             "电话可写作 138-2345-6789、+86 13823456789、(0756)2234567、0756-2234567转801 等，统一保存。",
             mark_safe("同一党支部中<strong>姓名和出生年月</strong>都相同、性别和入党时间也不矛盾的，视为同一人并更新；"
                       "性别或入党时间不同的，在预览中由您确认是否同一人。"))
    columns = COLUMNS
    filters = {"": "全部", "create": "新增", "update": "更新", "same": "无变化", "conflict": "待确认",
               "namesake": "同名提示", "error": "有错误"}
    hide_when_empty = frozenset({"conflict"})
    name_heading, where_heading = "姓名 · 性别 · 出生年月", "所在党支部"
    unchanged_text = "名册中的党员信息与系统一致，没有需要导入的内容。"
    targeted = True

    def max_rows(self) -> int:
        return max_rows()

    def allowed(self, user) -> bool:
        return scope_for(user).has_any(OFFICER_ROLES)

    def targets_for(self, user):
        return organisation_list_for(user, roles=OFFICER_ROLES)

    def initial_target(self, user, wanted: str, targets) -> int | None:
        """The organisation asked for (?org=), or the one the officer runs when there is only one."""
        if wanted.isdigit() and targets.filter(pk=wanted).exists():
            return int(wanted)
        if len(roots := scope_for(user).roots(OFFICER_ROLES)) == 1:
            # One organisation in charge (a branch's staff, a committee's secretary): the obvious target.
            top = targets.filter(path=roots[0]).first()
            return top.pk if top else None
        return None

    def prepare(self, *, actor, upload, target=None) -> str:
        return member_import_prepare(actor=actor, upload=upload, target=target)

    def apply(self, *, actor, token: str, choices: dict[int, str], for_all: str) -> dict:
        return member_import_apply(actor=actor, token=token, choices=choices, for_all=for_all)

    def template_workbook(self, *, actor, wanted: str) -> bytes:
        branch = branch_choices_for(actor).filter(pk=wanted).first() if wanted.isdigit() else None
        return template_workbook(branch_name=branch.name if branch else "")

    def success_url(self, counts: dict) -> str:
        url = reverse(self.list_url)
        if len(counts["branch_ids"]) == 1:
            url += f"?org={counts['branch_ids'][0]}"
        return url


MEMBER_IMPORTER = MemberImporter()
