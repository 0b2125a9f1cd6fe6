"""组织架构导入: the organisation tree from an .xlsx sheet, previewed, then written at once.

One row per organisation: its name, its parent (名称、简称或组织编码 of an organisation already
in the system or of another row in the same sheet, in any order), its kind (or inferred from
the name: …党支部, …党总支, …党委), and optionally code, short name, order and 监督电话.

A row is the same organisation as an existing one when its 组织编码 matches, or else when the
parent and the full name both match — never by name alone, since every committee has its own
第一党支部. Existing organisations are updated (a blank cell never clears anything) but never
moved: a different parent is an error pointing at 调整隶属关系 in the tree.

The file checks, the reading of the sheet, the plan store and the all-or-nothing apply are the
importer framework's (core.importing); the apply writes in bulk and leaves one audit row for the
import.
"""
import hashlib
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.errors import Conflict
from core.importing import (FULLWIDTH, CellError, Column, Importer, Layout, Roster, RowError, add_notes_sheet,
                            apply_plan, check_text, check_upload, clean_text, group_errors, header_key, id_ranges,
                            name_key, read_sheet, save_plan, write_updates)
from core.xlsx import workbook_bytes

from . import audit
from .models import BRANCH_KINDS, Organisation, OrgKind, Role, path_segment
from .permissions import scope_for
from .roster_import import parse_phone
from .selectors import common_ancestor, organisation_list_for
from .signals import public_data_changed
from .validators import ORG_CODE_RE


def max_rows() -> int:
    return int(getattr(settings, "ORG_IMPORT_MAX_ROWS", 5_000))


COLUMNS = (
    Column("name", "党组织名称", ("党组织名称", "组织名称", "党组织全称", "组织全称", "名称", "党组织", "单位党组织名称",
                             "基层党组织名称"), True),
    Column("parent", "上级党组织", ("上级党组织", "上级组织", "上级党组织名称", "上级组织名称", "隶属党组织", "所属上级党组织",
                             "上级党委", "上级", "上级组织编码", "上级党组织编码", "所属党组织"), True,
           "上级的全称、简称或组织编码；可以是表中另一行"),
    Column("kind", "组织类型", ("组织类型", "组织类别", "党组织类型", "党组织类别", "类型", "类别"),
           hint="党委、党组、党总支、党支部、临时党支部；不填时按名称推定"),
    Column("code", "组织编码", ("组织编码", "党组织编码", "编码", "组织代码", "党组织代码", "代码"),
           hint="字母、数字、点、下划线、连字符；不填时自动生成"),
    Column("short_name", "简称", ("简称", "组织简称", "党组织简称")),
    Column("sort_order", "排序", ("排序", "排序号", "显示顺序"), hint="整数，同级组织按此从小到大排列"),
    Column("supervision_phone", "监督电话", ("监督电话", "监督举报电话", "举报电话", "联系电话"),
           hint="公示时供群众监督，如 0756-2121234"),
)
FIELD_LABELS = {c.field: c.label for c in COLUMNS}
TEXT_LIMITS = {"name": 100, "parent": 100, "short_name": 40, "code": 32}
UPDATABLE = ("name", "short_name", "kind", "code", "sort_order", "supervision_phone")

KIND_WORDS = {
    OrgKind.WORK_COMMITTEE: ("工委", "党工委", "工作委员会", "党的工作委员会"),
    OrgKind.COMMITTEE: ("党委", "党委员会", "基层党委", "机关党委", "党的委员会", "基层委员会"),
    OrgKind.LEADING_GROUP: ("党组", "党组织（党组）"),
    OrgKind.GENERAL_BRANCH: ("党总支", "总支", "党总支部", "总支部", "党总支部委员会", "总支委员会"),
    OrgKind.BRANCH: ("党支部", "支部", "联合党支部", "党支部委员会", "支部委员会", "基层党支部"),
    OrgKind.TEMP_BRANCH: ("临时党支部", "临时支部", "临时党组织"),
}
KINDS = {header_key(w): kind for kind, words in KIND_WORDS.items() for w in words}
KINDS.update({header_key(k.label): k.value for k in OrgKind})
KINDS.update({k.value: k.value for k in OrgKind})
# Longest suffix first: 临时党支部 before 党支部, 党总支 before 支部.
NAME_SUFFIXES = sorted(((w, k) for k, words in KIND_WORDS.items() for w in words if len(w) >= 2
                        and "（" not in w), key=lambda p: -len(p[0]))


def parse_kind(value) -> str:
    text = clean_text(value)
    kind = KINDS.get(header_key(text))
    if kind is None:
        raise CellError(f"无法识别组织类型“{text}”，请填写：党委、党组、党总支、党支部或临时党支部")
    return kind


def kind_from_name(name: str) -> str | None:
    for suffix, kind in NAME_SUFFIXES:
        if name.endswith(suffix):
            return kind
    return None


def _text(value, field_name: str) -> str:
    return check_text(clean_text(value), limit=TEXT_LIMITS.get(field_name))


def _parse_row(number: int, cells: dict, epoch) -> dict:
    row = {"row": number, "errors": [], "warnings": []}
    for field_name, raw in cells.items():
        try:
            if clean_text(raw) == "":
                value = ""
            elif field_name == "kind":
                value = parse_kind(raw)
            elif field_name == "supervision_phone":
                value = parse_phone(raw)
            elif field_name == "sort_order":
                value = _parse_int(raw)
            elif field_name == "code":
                value = _text(raw, field_name).translate(FULLWIDTH)
                if not ORG_CODE_RE.match(value):
                    raise CellError(f"“{value}”不是有效的组织编码：只能包含字母、数字、点、下划线和连字符，最长32位")
            else:
                value = _text(raw, field_name)
        except CellError as exc:
            row["errors"].append([field_name, str(exc)])
            value = None
        row[field_name] = value
    if "name" in cells and not row.get("name") and not any(e[0] == "name" for e in row["errors"]):
        row["errors"].append(["name", "不能为空"])
    return row


def _parse_int(raw) -> int:
    if isinstance(raw, bool):
        raise CellError("排序应为整数")
    if isinstance(raw, (int, float)) and float(raw).is_integer():
        number = int(raw)
    else:
        text = clean_text(raw).translate(FULLWIDTH)
        if not text.lstrip("-").isdigit():
            raise CellError(f"排序应为整数，“{text}”不是整数")
        number = int(text)
    if not -1_000_000 <= number <= 1_000_000:
        raise CellError("排序数字过大")
    return number


LAYOUT = Layout(
    columns=COLUMNS, parse_row=_parse_row, noun="党组织", max_rows=max_rows,
    no_header="没有找到表头：请在前10行内放一行列名，至少包括“党组织名称”“上级党组织”。可以先下载导入模板对照。")


def read_org_sheet(data: bytes) -> Roster:
    return read_sheet(data, LAYOUT)


# --- planning -----------------------------------------------------------------------------

@dataclass
class Node:
    """One row as the plan sees it: the organisation it is (existing or new) and its parent."""

    row: dict
    result: dict
    parent_row: int | None = None           # the parent is another row of the sheet
    parent_org: Organisation | None = None  # the parent already exists
    org: Organisation | None = None         # the row is this existing organisation
    kind: str = ""
    failed: bool = False


@dataclass
class OrgPlan:
    results: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    creates: list[Node] = field(default_factory=list)     # parents before children
    updates: list[tuple[Organisation, dict]] = field(default_factory=list)

    @property
    def counts(self) -> dict:
        counts = {"create": 0, "update": 0, "same": 0, "error": 0, "namesake": 0, "warning": 0}
        for r in self.results:
            counts[r["action"]] += 1
            counts["warning"] += bool(r["notes"])
        counts["errors"] = len(self.errors)
        return counts

    @property
    def fingerprint(self) -> str:
        decisions = [[r["row"], r["action"], r.get("org_id"), r.get("version"), r.get("parent_id"),
                      r.get("parent_row"), sorted(r.get("changed", []))] for r in self.results]
        return hashlib.sha256(json.dumps(decisions).encode()).hexdigest()


class Index:
    """Organisations the importer administers (all states), looked up by code, name and short name."""

    def __init__(self, actor, lock: bool = False):
        orgs = organisation_list_for(actor, roles={Role.ADMIN}, include_inactive=True)
        if lock:
            # Inside the apply transaction: nothing in the importer's subtree moves until it commits.
            orgs = orgs.select_for_update()
        self.orgs = {o.pk: o for o in orgs}
        self.by_key: dict[str, set[int]] = defaultdict(set)
        self.by_code: dict[str, Organisation] = {}
        self.children: dict[tuple[int, str], list[Organisation]] = defaultdict(list)
        for org in self.orgs.values():
            self.by_code[org.code.casefold()] = org
            for key in (org.name, org.short_name, org.code):
                if key:
                    self.by_key[name_key(key)].add(org.pk)
            if org.parent_id:
                self.children[(org.parent_id, name_key(org.name))].append(org)

    def lookup(self, text: str) -> list[Organisation]:
        return [self.orgs[pk] for pk in sorted(self.by_key.get(name_key(text), ()))]


def build_org_plan(*, actor, rows: list[dict], columns: dict[str, str], lock: bool = False) -> OrgPlan:
    """Decide create / update / no change for every row, in an order where parents come first.
    `lock` takes row locks on the importer's organisations (inside the apply transaction)."""
    plan = OrgPlan()
    index = Index(actor, lock=lock)
    header = {f: columns.get(f, label) for f, label in FIELD_LABELS.items()}
    nodes = [Node(row=row, result={"row": row["row"], "name": row.get("name") or "", "parent": row.get("parent") or "",
                                   "kind": "", "code": row.get("code") or "", "notes": [], "changes": [],
                                   "errors": []})
             for row in rows]
    by_row = {n.row["row"]: n for n in nodes}

    def fail(node: Node, column: str, message: str, cell: str = "") -> None:
        if not node.failed:
            node.failed = True
        error = RowError(node.row["row"], header.get(column, "") if column else "", message, cell)
        node.result["errors"].append(error.in_row())
        plan.errors.append(error)

    for node in nodes:
        for field_name, message, *cell in node.row.get("errors", []):
            fail(node, field_name, message, *cell)
        for field_name, message, *cell in node.row.get("warnings", []):
            node.result["notes"].append(RowError(node.row["row"], header.get(field_name, ""), message, *cell).in_row())

    # Codes: each at most once in the sheet; a code of an organisation outside the importer's
    # reach cannot be taken over.
    file_codes: dict[str, int] = {}
    for node in nodes:
        code = (node.row.get("code") or "").casefold()
        if not code:
            continue
        if code in file_codes:
            fail(node, "code", f"与第{file_codes[code]}行的组织编码相同")
            continue
        file_codes[code] = node.row["row"]
        existing = index.by_code.get(code)
        if existing is not None:
            node.org = existing
    # Codes are compared without regard to case; look each up as typed and in either case.
    wanted = {variant for node in nodes if (code := node.row.get("code")) and code.casefold() not in index.by_code
              for variant in (code, code.upper(), code.lower())}
    taken = {c.casefold() for c in Organisation.objects.filter(code__in=sorted(wanted))
             .values_list("code", flat=True)} if wanted else set()
    for node in nodes:
        code = (node.row.get("code") or "").casefold()
        if code and code in taken and node.org is None:
            fail(node, "code", f"组织编码“{node.row['code']}”已被您管理范围以外的党组织使用")

    # Which rows of the sheet a parent cell may name.
    sheet_keys: dict[str, set[int]] = defaultdict(set)
    for node in nodes:
        for key in (node.row.get("name"), node.row.get("short_name"), node.row.get("code")):
            if key:
                sheet_keys[name_key(key)].add(node.row["row"])

    # Pass 1: parents (also for rows with other errors, so that a row's problems show at once).
    for node in nodes:
        if any(e[0] in ("parent", "code") for e in node.row.get("errors", [])) or (
                node.failed and not node.row.get("errors")):
            continue
        text = node.row.get("parent") or ""
        number = node.row["row"]
        if not text:
            if node.org is None:
                # The sheet may list the importer's own top organisation without a parent.
                same = index.lookup(node.row.get("name") or "")
                if len(same) == 1:
                    node.org = same[0]
                    node.result["notes"].append("未填上级党组织：系统中已有该组织，只核对信息")
                    continue
                fail(node, "parent", "不能为空（顶层党组织由系统管理员在系统中设立）")
            continue
        in_sheet = sheet_keys.get(name_key(text), set()) - {number}
        existing = index.lookup(text)
        if len(in_sheet) > 1:
            rows_text = "、".join(f"第{r}行" for r in sorted(in_sheet))
            fail(node, "parent", f"表中有多行名为“{text}”（{rows_text}），请改填上级的组织编码")
        elif in_sheet:
            node.parent_row = next(iter(in_sheet))
            node.result["parent_ambiguous_with"] = [o.pk for o in existing]
        elif len(existing) == 1:
            node.parent_org = existing[0]
        elif existing:
            codes = "、".join(o.code for o in existing)
            fail(node, "parent", f"系统中有{len(existing)}个党组织名为“{text}”（组织编码 {codes}），请改填组织编码")
        else:
            fail(node, "parent", f"找不到上级党组织“{text}”，或您无权管理该组织；请填写全称、简称或组织编码，"
                                 "或把上级也列在表中")

    # Pass 2: order parents before children; a loop is an error on every row in it.
    order: list[Node] = []
    state: dict[int, int] = {}  # 1 visiting, 2 done

    def visit(node: Node, trail: list[int]) -> bool:
        number = node.row["row"]
        if state.get(number) == 2:
            return not node.failed
        if state.get(number) == 1:
            loop = trail[trail.index(number):] + [number]
            text = "→".join(f"第{r}行" for r in loop)
            for r in set(loop):
                fail(by_row[r], "parent", f"上级关系形成循环：{text}")
            return False
        state[number] = 1
        ok = not node.failed
        if node.parent_row is not None:
            parent = by_row[node.parent_row]
            if not visit(parent, trail + [number]) and ok:
                fail(node, "parent", f"上级党组织（第{node.parent_row}行）有错误")
        state[number] = 2
        order.append(node)
        return not node.failed

    for node in nodes:
        visit(node, [])

    # Pass 3: what each row is, top-down.
    claimed: dict[int, int] = {}               # existing organisation → the row that names it
    new_names: dict[tuple, int] = {}           # (parent, name) of new rows → row
    for node in order:
        if node.failed:
            continue
        number = node.row["row"]
        parent_org, parent_node = node.parent_org, None
        if node.parent_row is not None:
            parent_node = by_row[node.parent_row]
            if parent_node.org is not None:
                parent_org = parent_node.org
            # A parent cell naming both a row and an existing organisation must mean the same one.
            others = [pk for pk in node.result.pop("parent_ambiguous_with", []) if pk != getattr(parent_org, "pk", None)]
            if others and (parent_node.org is None or parent_node.org.pk not in others):
                codes = "、".join(index.orgs[pk].code for pk in others)
                fail(node, "parent", f"“{node.row['parent']}”既是表中第{node.parent_row}行，又是系统中另一个党组织"
                                     f"（组织编码 {codes}），请改填组织编码")
                continue
        else:
            node.result.pop("parent_ambiguous_with", None)
        if parent_org is not None and not parent_org.is_active:
            fail(node, "parent", f"上级党组织“{parent_org.name}”已撤销")
            continue
        node.parent_org = parent_org
        name = node.row["name"]
        if node.org is None and parent_org is not None:
            matches = index.children.get((parent_org.pk, name_key(name)), [])
            if len(matches) > 1:
                fail(node, "name", f"“{parent_org.name}”下已有{len(matches)}个同名党组织，请填写组织编码以区分")
                continue
            node.org = matches[0] if matches else None
        node.result["parent"] = parent_org.name if parent_org else (parent_node.row["name"] if parent_node else "")
        node.result["parent_id"] = parent_org.pk if parent_org else None
        node.result["parent_row"] = node.parent_row if parent_org is None else None
        if node.org is not None:
            _plan_existing(plan, node, parent_org, parent_node, claimed, index, fail)
        else:
            _plan_new(plan, node, parent_org, parent_node, new_names, fail)

    for node in nodes:
        if node.failed:
            node.result["action"] = "error"
        plan.results.append(node.result)
    return plan


def _plan_existing(plan, node, parent_org, parent_node, claimed, index, fail) -> None:
    org = node.org
    number = node.row["row"]
    if org.pk in claimed:
        fail(node, "name", f"与第{claimed[org.pk]}行是同一个党组织")
        return
    claimed[org.pk] = number
    has_parent_cell = bool(node.row.get("parent"))
    if has_parent_cell and (parent_org is None or parent_org.pk != org.parent_id):
        current = index.orgs.get(org.parent_id)
        where = f"现属“{current.name}”" if current else "是顶层党组织"
        wanted = parent_org.name if parent_org else f"第{node.parent_row}行“{parent_node.row['name']}”"
        fail(node, "parent", f"“{org.name}”{where}，与表中填写的上级“{wanted}”不同；导入不会调整已有党组织的"
                             "隶属关系，如需调整，请在该组织页面使用“调整隶属关系”")
        return
    node.kind = org.kind
    node.result.update(org_id=org.pk, version=org.version, code=org.code, kind=org.get_kind_display())
    if not org.is_active:
        node.result.update(action="same", changed=[])
        node.result["notes"].append("该党组织已撤销，不作改动")
        return
    data, changes = {}, []
    for field_name in UPDATABLE:
        value = node.row.get(field_name)
        if value in (None, ""):
            continue  # a blank cell never clears what the system holds
        old = getattr(org, field_name)
        if value != old:
            data[field_name] = value
            changes.append([FIELD_LABELS[field_name], _display(field_name, old), _display(field_name, value)])
    if "kind" in data:
        node.kind = data["kind"]
        parent_kind = parent_node.kind if parent_node is not None else (parent_org.kind if parent_org else None)
        problem = _kind_problem(data["kind"], parent_kind)
        if problem is None and data["kind"] in BRANCH_KINDS and org.children.exists():
            problem = "该组织有下级党组织，不能改为党支部"
        if problem is None and data["kind"] not in BRANCH_KINDS and org.members.exists():
            problem = "该组织编有党员，只能是党支部或临时党支部"
        if problem:
            fail(node, "kind", problem)
            return
    node.result.update(action="update" if data else "same", changes=changes, changed=sorted(data),
                       kind=OrgKind(node.kind).label)
    if data:
        plan.updates.append((org, data))


def _plan_new(plan, node, parent_org, parent_node, new_names, fail) -> None:
    name = node.row["name"]
    kind = node.row.get("kind") or ""
    if not kind:
        kind = kind_from_name(name) or ""
        if not kind:
            fail(node, "kind", "不能为空：无法从名称推定组织类型，请填写党委、党组、党总支、党支部或临时党支部")
            return
        node.result["notes"].append(f"未填组织类型，按名称推定为{OrgKind(kind).label}")
    # A parent row's kind is the one it will have after this import.
    parent_kind = parent_node.kind if parent_node is not None else parent_org.kind
    problem = _kind_problem(kind, parent_kind)
    if problem:
        fail(node, "kind" if kind == OrgKind.WORK_COMMITTEE else "parent", problem)
        return
    key = (parent_org.pk if parent_org else f"r{node.parent_row}", name_key(name))
    if key in new_names:
        fail(node, "name", f"与第{new_names[key]}行重复：同一上级下的同名党组织")
        return
    new_names[key] = node.row["row"]
    node.kind = kind
    node.result.update(action="create", kind=OrgKind(kind).label, changed=[],
                       changes=[[FIELD_LABELS[f], "", _display(f, node.row[f])] for f in
                                ("code", "short_name", "sort_order", "supervision_phone")
                                if node.row.get(f) not in (None, "")])
    plan.creates.append(node)


def _kind_problem(kind: str, parent_kind: str | None) -> str | None:
    if kind == OrgKind.WORK_COMMITTEE:
        return "工委只能作为组织树的根，不能导入为下级组织"
    if parent_kind in BRANCH_KINDS:
        return "上级是党支部，党支部下不能再设立党组织"
    return None


def _display(field_name: str, value) -> str:
    if value in (None, ""):
        return ""
    if field_name == "kind":
        return OrgKind(value).label
    return str(value)


# --- the two steps ------------------------------------------------------------------------

def _check_importer(actor) -> None:
    if not scope_for(actor).has_any({Role.ADMIN}):
        raise PermissionDenied


def org_import_prepare(*, actor, upload) -> str:
    """A system administrator checks and plans a sheet of organisations (nothing is written)."""
    _check_importer(actor)
    data = check_upload(upload)
    roster = read_org_sheet(data)
    return store_org_plan(actor=actor, roster=roster, data=data, filename=str(upload.name))


def store_org_plan(*, actor, roster: Roster, data: bytes, filename: str) -> str:
    _check_importer(actor)
    plan = build_org_plan(actor=actor, rows=roster.rows, columns=roster.columns)
    return save_plan({
        "format": 1, "kind": "orgs", "owner": actor.pk, "created": time.time(),
        "filename": Path(filename).name[:120], "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "sheet": roster.sheet, "header_row": roster.header_row,
        "columns": roster.columns, "ignored": roster.ignored, "other_sheets": roster.other_sheets,
        "skipped_example": roster.skipped_example,
        "rows": [{k: v for k, v in r.items() if k != "errors"} for r in roster.rows] if not plan.errors else [],
        "results": plan.results, "errors": [str(e) for e in plan.errors], "counts": plan.counts,
        "error_groups": group_errors(plan.errors),
        "fingerprint": plan.fingerprint,
    })


def org_import_apply(*, actor, token: str) -> dict:
    """Apply the administrator's own previewed plan: every row in one transaction, or nothing."""
    return apply_plan(actor=actor, token=token, kind="orgs", apply=_apply,
                      summary=lambda c: f"新增{c['created']}个、更新{c['updated']}个党组织")


@transaction.atomic
def _apply(*, actor, stored: dict) -> dict:
    """Re-plan under row locks, refuse if anything moved since the preview, then write in bulk:
    one INSERT per level of the new subtrees, one UPDATE per set of changed columns, one audit row.

    The per-organisation service (organisation_create) validates and audits one row at a time,
    ~13 ms each on SQLite; a city's tree of 2,000 organisations would take half a minute. The plan
    has already applied the same rules (kinds under parents, codes, phones, lengths), and the
    constraints of the table stand behind it.
    """
    _check_importer(actor)
    plan = build_org_plan(actor=actor, rows=stored["rows"], columns=stored["columns"], lock=True)
    if plan.errors:
        shown = "；".join(str(e) for e in plan.errors[:5])
        raise ValidationError(f"预览之后情况有变，表格未导入：{shown}。请重新上传。")
    if plan.fingerprint != stored["fingerprint"]:
        raise Conflict("预览之后，表格涉及的党组织已被他人修改，表格未导入。请重新上传并核对预览。")
    now = timezone.now()
    write_updates([(org, sorted(data)) for org, data in _with_values(plan.updates)], now, model=Organisation)
    try:
        with transaction.atomic():
            created = _create_levels(plan.creates)
    except IntegrityError:
        raise Conflict("预览之后，表格中的组织编码已被他人使用，表格未导入。请重新上传并核对预览。") from None
    counts = plan.counts
    top = common_ancestor([o.pk for o in created.values()] + [org.pk for org, _ in plan.updates])
    audit.record(actor=actor, action="org.import", organisation=top,
                 detail={"file": stored["filename"], "sha256": stored["sha256"], "sheet": stored["sheet"],
                         "rows": len(plan.results), "created": counts["create"], "updated": counts["update"],
                         "unchanged": counts["same"], "created_ids": id_ranges(o.pk for o in created.values()),
                         "updated_fields": {str(org.pk): sorted(data) for org, data in plan.updates}})
    public_data_changed.send(sender=__name__)
    return {"created": counts["create"], "updated": counts["update"], "unchanged": counts["same"],
            "top_id": top.pk if top else None}


def _with_values(updates):
    for org, data in updates:
        for field_name, value in data.items():
            setattr(org, field_name, value)
        yield org, data


def _create_levels(nodes: list[Node]) -> dict[int, Organisation]:
    """Insert new organisations level by level (a child needs its parent's id for its path)."""
    created: dict[int, Organisation] = {}
    depth_of: dict[int, int] = {}
    levels: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:  # parents come before children
        depth = node.parent_org.depth + 1 if node.parent_org is not None else depth_of[node.parent_row] + 1
        depth_of[node.row["row"]] = depth
        levels[depth].append(node)
    quote = connection.ops.quote_name
    table = quote(Organisation._meta.db_table)
    for depth in sorted(levels):
        objs = []
        for node in levels[depth]:
            row, placeholder = node.row, uuid.uuid4().hex
            parent = node.parent_org if node.parent_org is not None else created[node.parent_row]
            objs.append(Organisation(
                parent=parent, name=row["name"], kind=node.kind, code=row.get("code") or placeholder,
                short_name=row.get("short_name") or "", supervision_phone=row.get("supervision_phone") or "",
                sort_order=row.get("sort_order") or 0, path=placeholder, depth=depth))
        Organisation.objects.bulk_create(objs, batch_size=500)
        for node, org in zip(levels[depth], objs):
            org.path = org.parent.path + path_segment(org.pk)
            if not node.row.get("code"):
                org.code = f"Z{org.pk:06d}"
            created[node.row["row"]] = org
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {quote('path')} = %s, {quote('code')} = %s "
                               f"WHERE {quote('id')} = %s", [(o.path, o.code, o.pk) for o in objs])
    return created


# --- the template -------------------------------------------------------------------------

TEMPLATE_NOTES = ("填写说明：带 * 的列必填。每行一个党组织；“上级党组织”填系统中已有党组织的全称、简称或组织编码，"
                  "也可以填本表另一行的党组织（顺序不限）。组织类型不填时按名称推定（…党委、…党总支、…党支部）。"
                  "组织编码不填时自动生成。示例见“填写说明”工作表。")


def template_workbook(*, parent_name: str = "") -> bytes:
    """The import template: notes, headers, and an example on the second sheet (never imported)."""
    order = ["name", "parent", "kind", "code", "short_name", "sort_order", "supervision_phone"]
    by_field = {c.field: c for c in COLUMNS}
    wb = Workbook()
    ws = wb.active
    ws.title = "组织架构"
    ws.append([TEMPLATE_NOTES])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    ws.row_dimensions[1].height = 48
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(color="7F1414", size=10)
    ws.append([by_field[f].label + ("*" if by_field[f].required else "") for f in order])
    widths = {"name": 30, "parent": 30, "kind": 12, "code": 14, "short_name": 14, "sort_order": 8,
              "supervision_phone": 16}
    for position, f in enumerate(order, start=1):
        letter = get_column_letter(position)
        ws.column_dimensions[letter].width = widths[f]
        head = ws.cell(row=2, column=position)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="FBEFD5")
        if f in ("code", "supervision_phone"):
            ws.column_dimensions[letter].number_format = "@"
    kinds = DataValidation(type="list", allow_blank=True, showErrorMessage=False,
                           formula1='"' + ",".join(k.label for k in OrgKind if k != OrgKind.WORK_COMMITTEE) + '"')
    kinds.add(f"C3:C{max_rows() + 2}")
    ws.add_data_validation(kinds)
    ws.freeze_panes = "A3"

    parent = parent_name or "某某机关党委"
    add_notes_sheet(wb, COLUMNS, examples=(
        ["示例（本工作表不会被导入）"],
        ["党组织名称", "上级党组织", "组织类型", "组织编码"],
        ["综合党总支", parent, "党总支", ""],
        ["综合党总支第一党支部", "综合党总支", "党支部", ""],
        [],
    ), rules=(
        "组织编码相同，或上级和全称都相同的，视为同一党组织并更新其信息；留空的项目不会清除已有信息；"
        "已有党组织不会因导入而调整隶属关系。",
        "有任何一行出错，整个表格都不会导入；预览页会列出出错的行和列。"), widths=(24, 24, 30, 70))
    return workbook_bytes(wb)


# --- the pages' view of this importer -------------------------------------------------------

class OrgImporter(Importer):
    """组织架构导入 for system administrators."""

    kind, url_name = "orgs", "orgs:org_import"
    row_template = "orgs/partials/import_row_org.html"
    list_url, list_label = "orgs:tree", "组织架构"
    preview_title, reupload_label = "组织架构导入预览", "重新上传"
    sheet_noun, done_label, item, measure = "表格", "组织架构", "党组织", "个"
    source = "其他系统导出的组织列表"
    file_label, file_help = "组织架构表", "Excel 工作簿（.xlsx），不超过10MB"
    busy = "正在校验表格，请稍候…"
    rules = ("每行一个党组织。“上级党组织”可以是系统中已有的党组织，也可以是本表另一行，顺序不限。",
             mark_safe("<strong>组织编码</strong>相同，或<strong>上级和全称</strong>都相同，才视为同一党组织并更新其信息；"
                       "各党委下同名的“第一党支部”互不混淆。"),
             "已有党组织不会因导入而调整隶属关系；如需调整，请在该组织页面使用“调整隶属关系”。")
    also_shown = 4
    columns = COLUMNS
    # No 同名 filter: same names are told apart by parent, never flagged.
    filters = {"": "全部", "create": "新增", "update": "更新", "same": "无变化", "conflict": "待确认",
               "error": "有错误"}
    name_heading, where_heading = "党组织名称 · 类型", "上级党组织"
    unchanged_text = "表格中的党组织与系统一致，没有需要导入的内容。"

    def max_rows(self) -> int:
        return max_rows()

    def allowed(self, user) -> bool:
        return scope_for(user).has_any({Role.ADMIN})

    def prepare(self, *, actor, upload, target=None) -> str:
        return org_import_prepare(actor=actor, upload=upload)

    def apply(self, *, actor, token: str, choices: dict[int, str], for_all: str) -> dict:
        return org_import_apply(actor=actor, token=token)

    def template_workbook(self, *, actor, wanted: str) -> bytes:
        top = organisation_list_for(actor, roles={Role.ADMIN}).first()
        return template_workbook(parent_name=top.name if top else "")

    def success_url(self, counts: dict) -> str:
        return reverse("orgs:detail", args=[counts["top_id"]]) if counts["top_id"] else reverse(self.list_url)


ORG_IMPORTER = OrgImporter()
