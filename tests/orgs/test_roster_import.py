"""党员名册导入: header variants, date formats, same-name members, all-or-nothing, hostile files, pages.

Workbooks are built in the test: with openpyxl (inline strings, as openpyxl writes them), or by
hand with a shared-string table (as Excel and WPS write them), which is also how the XML bomb and
the 10,000-row roster are made.
"""
import datetime
import io
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl.utils import get_column_letter

from core import importing
from core.dates import PartialDate
from core.errors import Conflict
from core.importing import CellError
from core.sheet_reader import MonthDate
from orgs import roster_import
from orgs.models import AuditEvent, DatePrecision, Member, MemberCategory, OrgKind
from orgs.roster_import import parse_date
from orgs.views_import import XLSX
from tests.conftest import make_member, make_org

HEADERS = ["姓名", "性别", "出生年月", "入党时间", "职务", "所在党支部", "联系电话", "人员类别"]


# --- building workbooks ---------------------------------------------------------------------

def openpyxl_xlsx(rows, *, sheet="党员名册", extra_sheets=()) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for name in extra_sheets:
        wb.create_sheet(name).append(["无关内容"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
         '</Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '</Relationships>')
# Style 1 is the built-in date format 14 (yyyy/m/d), as Excel applies to a typed date.
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
           '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
           '<borders count="1"><border/></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def excel_xlsx(rows, *, sheet_xml=None) -> bytes:
    """A minimal package as Excel writes it: text in a shared-string table, numbers as written,
    dates as serial numbers with a date format."""
    strings, index, out = [], {}, []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            ref = f"{get_column_letter(c)}{r}"
            if value is None:
                continue
            if isinstance(value, datetime.date):
                serial = (value - datetime.date(1899, 12, 30)).days
                cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
            elif isinstance(value, (int, float)):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            else:
                if value not in index:
                    index[value] = len(strings)
                    strings.append(value)
                cells.append(f'<c r="{ref}" t="s"><v>{index[value]}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    if sheet_xml is None:
        width = get_column_letter(max((len(r) for r in rows), default=1))
        sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     f'<dimension ref="A1:{width}{max(len(rows), 1)}"/><sheetData>'
                     + "".join(out) + "</sheetData></worksheet>")
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr("xl/sharedStrings.xml", sst)
        z.writestr("xl/styles.xml", _STYLES)
    return buf.getvalue()


def billion_laughs(levels=9) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * 10}">' for n in range(1, levels + 1)]
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<!DOCTYPE worksheet [{"".join(entities)}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>性别</t></is></c></row>'
            f'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol{levels};</t></is></c></row>'
            "</sheetData></worksheet>")


def upload(data: bytes, name="名册.xlsx"):
    return SimpleUploadedFile(name, data, content_type=XLSX)


def prepare(actor, rows, *, target=None, builder=openpyxl_xlsx, name="名册.xlsx"):
    token = roster_import.member_import_prepare(actor=actor, upload=upload(builder(rows), name), target=target)
    return token, roster_import.plan_for(actor=actor, token=token)


def row(name="赵敏", gender="女", birth="1980-05", joined="2003-07-01", post="科员", branch="第一党支部",
        phone="13800138000", category="一般在职党员"):
    return [name, gender, birth, joined, post, branch, phone, category]


# --- headers --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    ["姓名", "性别", "出生年月", "入党时间", "职务", "所在党支部", "联系电话", "人员类别"],
    ["姓名", "性别", "出生日期", "入党日期", "职业", "党组织", "手机号码", "人员类别"],
    ["姓　名", "性 别", "出生年月", "入党时间", "工作岗位", "所在党组织", "手机", "党员类别"],
    ["姓名*", "性别*", "出生年月（如1975.03）", "入党时间", "职务或职业", "所在党支部*", "联系电话", "类别"],
])
def test_each_header_variant_imports_the_same_member(world, headers):
    token, plan = prepare(world.staff_a, [headers, row()])
    assert plan["errors"] == [] and plan["counts"]["create"] == 1
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    m = Member.objects.get(name="赵敏")
    assert (m.branch, m.gender, m.birth_month, m.joined_party_on, m.post, m.phone, m.category) == (
        world.branch_a, "F", datetime.date(1980, 5, 1), datetime.date(2003, 7, 1), "科员", "13800138000",
        MemberCategory.GENERAL)


def test_title_rows_above_the_header_and_unknown_columns_are_listed(world):
    _, plan = prepare(world.staff_a, [["第一党支部党员名册"], ["填表日期：2010年9月"],
                                      ["序号"] + HEADERS + ["籍贯"], [1] + row() + ["广东"]])
    assert plan["header_row"] == 3 and plan["errors"] == []
    assert plan["ignored"] == ["序号"]
    assert [(c["col"], c["header"], c.get("label", ""), c["note"]) for c in plan["report"]][::8] == [
        ("A", "序号", "", "序号，不导入"), ("I", "人员类别", "党员类别", "按内容识别")]
    assert plan["report"][-1] == {"col": "J", "header": "籍贯", "field": "native_place", "label": "籍贯", "note": ""}
    assert plan["results"][0]["row"] == 4


def test_roster_on_a_later_sheet_is_found_and_other_sheets_are_named(world):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表由组织科汇总"])
    ws = wb.create_sheet("在职党员")
    ws.append(HEADERS)
    ws.append(row(gender="F"))
    ws.append(row(name="钱进", gender="m", category="年老体弱"))
    buf = io.BytesIO()
    wb.save(buf)
    _, plan = prepare(world.staff_a, None, builder=lambda _: buf.getvalue())
    assert plan["sheet"] == "在职党员" and plan["other_sheets"] == ["说明"]
    assert [r["gender"] for r in plan["results"]] == ["女", "男"] and plan["errors"] == []


def test_missing_required_column_is_a_file_error(world):
    with pytest.raises(ValidationError) as exc:
        prepare(world.staff_a, [["姓名", "出生年月", "所在党支部"], ["赵敏", "1980-05", "第一党支部"]])
    assert "缺少「性别」列" in exc.value.messages[0]


def test_no_header_row_is_a_file_error(world):
    with pytest.raises(ValidationError) as exc:
        prepare(world.staff_a, [["赵敏", "女"]] * 12)
    assert "没有找到表头" in exc.value.messages[0]


def test_default_branch_fills_missing_column(world):
    token, plan = prepare(world.committee_secretary, [["姓名", "性别", "出生年月"], ["赵敏", "女", "1980.05"]],
                          target=world.branch_b)
    assert plan["errors"] == []
    roster_import.member_import_apply(actor=world.committee_secretary, token=token)
    assert Member.objects.get(name="赵敏").branch == world.branch_b


# --- values ---------------------------------------------------------------------------------

D, M = DatePrecision.DAY, DatePrecision.MONTH


@pytest.mark.parametrize("value,expected,precision", [
    (datetime.datetime(1975, 3, 8), datetime.date(1975, 3, 8), D),
    (datetime.date(1975, 3, 8), datetime.date(1975, 3, 8), D),
    (1975.03, datetime.date(1975, 3, 1), M),
    (1975.12, datetime.date(1975, 12, 1), M),
    (1975.3, datetime.date(1975, 3, 1), M),
    ("1975.03", datetime.date(1975, 3, 1), M),
    ("1975.1", datetime.date(1975, 1, 1), M),      # typed as text: read as written
    ("1975-03", datetime.date(1975, 3, 1), M),
    ("1975年3月", datetime.date(1975, 3, 1), M),
    ("1975年3月8日", datetime.date(1975, 3, 8), D),
    ("1975/3/8", datetime.date(1975, 3, 8), D),
    ("1975/3", datetime.date(1975, 3, 1), M),
    ("197503", datetime.date(1975, 3, 1), M),
    (197503, datetime.date(1975, 3, 1), M),
    (19750308, datetime.date(1975, 3, 8), D),
    ("１９７５．０３", datetime.date(1975, 3, 1), M),
    (" 1975 - 03 ", datetime.date(1975, 3, 1), M),
    ("1975-03-08 00:00:00", datetime.date(1975, 3, 8), D),
    (27461, datetime.date(1975, 3, 8), D),          # a date cell reformatted as 常规
    (MonthDate(1975, 3, 1), datetime.date(1975, 3, 1), M),  # a date cell formatted yyyy"年"m"月"
])
def test_date_formats(value, expected, precision):
    assert parse_date(value) == (PartialDate(expected, precision), "")


def test_number_1975_point_1_is_october_with_a_warning():
    # Excel stores 1975.10 as 1975.1: a number cell cannot say January that way.
    value, warning = parse_date(1975.1)
    assert value == PartialDate(datetime.date(1975, 10, 1), DatePrecision.MONTH) and "10月" in warning


@pytest.mark.parametrize("value,message", [
    ("1975-13", "月份“13”不正确"), ("1975.13", "月份“13”不正确"), (1975.13, "月份“13”不正确"),
    ("1975-02-30", "不存在"), ("1975", "只有年份"), (1975, "只有年份"), ("七五年三月", "无法识别"),
    ("#N/A", "错误值"),
])
def test_unreadable_dates(value, message):
    with pytest.raises(CellError) as exc:
        parse_date(value)
    assert message in str(exc.value)


def test_every_date_format_through_a_workbook(world):
    values = [datetime.date(1975, 3, 8), 1975.03, 1975.1, "1975.03", "1975-03", "1975年3月", "1975年3月8日",
              "1975/3/8", "197503"]
    rows = [HEADERS] + [row(name=f"党员{i}", birth=v, joined="1998年7月1日") for i, v in enumerate(values)]
    token, plan = prepare(world.staff_a, rows, builder=excel_xlsx)
    assert plan["errors"] == []
    assert "10月" in plan["results"][2]["notes"][0]
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    births = list(Member.objects.filter(name__startswith="党员").order_by("name").values_list("birth_month", flat=True))
    assert births == [datetime.date(1975, 3, 1)] * 2 + [datetime.date(1975, 10, 1)] + [datetime.date(1975, 3, 1)] * 6
    assert set(Member.objects.filter(name__startswith="党员").values_list("joined_party_on", flat=True)) == {
        datetime.date(1998, 7, 1)}


def test_full_width_spaces_digits_and_synonyms_are_normalised(world):
    token, plan = prepare(world.staff_a, [HEADERS, ["张　伟 ", "男", "１９７５．０３", "1998.07", "\u3000科员",
                                                    "第一党支部\u3000", "１３８ ００１３ ８０００", "离退休"]])
    assert plan["errors"] == []
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    m = Member.objects.get(branch=world.branch_a, name="张伟")
    assert (m.post, m.phone, m.category, m.joined_party_on) == ("科员", "13800138000", MemberCategory.RETIRED,
                                                                datetime.date(1998, 7, 1))


def test_chinese_punctuation_in_free_text_is_kept(world):
    token, _ = prepare(world.staff_a, [HEADERS + ["备注"], row(post="办公室（综合科）副主任") + ["党小组长，宣传委员"]])
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    m = Member.objects.get(name="赵敏")
    assert (m.post, m.note) == ("办公室（综合科）副主任", "党小组长，宣传委员")


@pytest.mark.parametrize("cells,column,message", [
    ({"birth": "1975-13"}, "出生年月", "月份“13”不正确"),
    ({"birth": "2099-01"}, "出生年月", "不能晚于今天"),
    ({"birth": "1990-05", "joined": "2000-01-01"}, "入党时间", "年满十八岁"),
    ({"joined": "1910-01-01"}, "入党时间", "不能早于1921年"),
    ({"phone": "1380013800"}, "联系电话", "电话号码格式不正确"),
    ({"gender": "未知"}, "性别", "不是有效的性别"),
    ({"category": "党小组长"}, "人员类别", "无法识别“党小组长”"),
    ({"name": ""}, "姓名", "不能为空"),
    ({"branch": ""}, "所在党支部", "不能为空"),
    ({"name": "张" * 51}, "姓名", "内容过长"),
])
def test_bad_cells_name_row_and_column(world, cells, column, message):
    _, plan = prepare(world.staff_a, [HEADERS, row(), row(**{"name": "钱进", **cells})])
    assert len(plan["errors"]) == 1
    assert plan["errors"][0].startswith(f"第3行「{column}」：") and message in plan["errors"][0]


def test_formula_text_is_refused_and_an_uncalculated_formula_is_named(world):
    # A string cell "=1+1" (formula text typed as text): refused, it would run if exported again.
    _, plan = prepare(world.staff_a, [HEADERS, row(name="=1+1")], builder=excel_xlsx)
    assert "第2行「姓名」" in plan["errors"][0] and "公式" in plan["errors"][0]
    # A real formula without a cached result (openpyxl never calculates): its cell is named.
    _, plan = prepare(world.staff_a, [HEADERS, row(name="=CONCAT(\"张\",\"三\")")])
    assert plan["errors"] == ["第2行「姓名」（A2）：公式没有计算结果，请在 Excel 中打开并保存后再导入"]


# --- branches -------------------------------------------------------------------------------

def test_branch_by_short_name_or_code(world):
    world.branch_b.short_name = "二支部"
    world.branch_b.save()
    _, plan = prepare(world.committee_secretary, [HEADERS, row(branch="二支部"), row(name="钱进", branch="c1-a")])
    assert plan["errors"] == []
    assert [r["branch"] for r in plan["results"]] == ["第二党支部", "第一党支部"]


def test_branch_outside_scope_reads_like_an_unknown_one(world):
    _, plan = prepare(world.staff_a, [HEADERS, row(branch="第二党支部"), row(name="钱进", branch="不存在的支部")])
    assert len(plan["errors"]) == 2
    outside, unknown = plan["errors"]
    assert outside.startswith("第2行「所在党支部」：找不到党支部“第二党支部”，或您无权向该党支部导入")
    assert unknown.replace("不存在的支部", "第二党支部").replace("第3行", "第2行") == outside


def test_non_branch_and_ambiguous_names(world):
    make_org(world.general, "第一党支部", code="C1-G-A")
    _, plan = prepare(world.committee_secretary, [HEADERS, row(), row(name="钱进", branch="综合党总支")])
    assert "有2个党支部名为“第一党支部”（组织编码 C1-A、C1-G-A），请改填组织编码" in plan["errors"][0]
    assert "“综合党总支”是党总支，党员只能编入党支部或临时党支部" in plan["errors"][1]


def test_default_branch_outside_scope_is_refused(world):
    with pytest.raises(PermissionDenied):
        prepare(world.staff_a, [HEADERS, row()], target=world.branch_b)


# --- matching existing members --------------------------------------------------------------

def test_update_existing_member_by_branch_name_and_birth_month(world):
    m = world.member_a  # 李娜, branch A, born 1975-03
    Member.objects.filter(pk=m.pk).update(phone="0756-2120001")
    # 入党时间 to the month only: the same month already known to the day is kept, not blurred.
    token, plan = prepare(world.staff_a, [HEADERS, row(name="李娜", birth="1975.03", joined="1998.07",
                                                       post="副主任科员", phone="", category="领导")])
    assert plan["counts"]["update"] == 1 and plan["counts"]["create"] == 0
    result = plan["results"][0]
    assert result["member_id"] == m.pk
    assert ["职务或职业", "科员", "副主任科员"] in result["changes"]
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    m.refresh_from_db()
    assert (m.post, m.category, m.joined_party_on, m.joined_party_precision, m.version) == (
        "副主任科员", MemberCategory.LEADER, datetime.date(1998, 7, 1), DatePrecision.DAY, 2)
    assert m.updated_at > m.created_at
    event = AuditEvent.objects.get(action="member.import")
    assert sorted(event.detail["updated_fields"][str(m.pk)]) == ["category", "post"]
    assert m.phone == "0756-2120001"  # a blank cell never clears what is on file


def test_unchanged_row_is_counted_and_not_written(world):
    m = world.member_a
    token, plan = prepare(world.staff_a, [HEADERS, row(name="李娜", gender="女", birth="1975-03", joined="1998-07-01",
                                                       phone="", category="一般在职党员")])
    assert plan["counts"]["same"] == 1
    assert plan["counts"]["update"] == 0
    m.refresh_from_db()
    assert m.version == 1


def test_same_name_pair_in_one_branch_told_apart_by_birth_month(world):
    rows = [HEADERS, row(name="王芳", birth="1970-01"), row(name="王芳", birth="1985-06", post="主任科员")]
    token, plan = prepare(world.staff_a, rows)
    assert plan["counts"]["create"] == 2 and plan["counts"]["namesake"] == 1
    assert "与第2行同一党支部同名" in plan["results"][1]["notes"][0]
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert Member.objects.filter(branch=world.branch_a, name="王芳").count() == 2

    # The same pair again, one of them promoted: each row finds its own record.
    rows[2] = row(name="王芳", birth="1985.06", post="副处长")
    token, plan = prepare(world.staff_a, rows)
    assert (plan["counts"]["same"], plan["counts"]["update"], plan["counts"]["create"]) == (1, 1, 0)
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    posts = dict(Member.objects.filter(name="王芳").values_list("birth_month", "post"))
    assert posts == {datetime.date(1970, 1, 1): "科员", datetime.date(1985, 6, 1): "副处长"}


def test_same_name_with_other_or_missing_birth_month_is_a_new_member_flagged(world):
    # 李娜 (1975-03) is on file in branch A; a 李娜 born 1980-02 or with no birth month is someone else.
    _, plan = prepare(world.staff_a, [HEADERS, row(name="李娜", birth="1980-02"), row(name="李娜", birth="")])
    assert plan["counts"]["create"] == 2 and plan["counts"]["update"] == 0
    assert all(r["namesake"] for r in plan["results"])
    assert "本支部已有党员“李娜”（出生年月1975年3月）" in plan["results"][0]["notes"][0]


def test_same_name_pair_across_branches(world):
    # 张伟 born 1975-03 is on file in branch B; a 张伟 with the same birth month in branch A is another person.
    token, plan = prepare(world.committee_secretary,
                          [HEADERS, row(name="张伟", gender="男", birth="1975-03", branch="第一党支部", post="科员"),
                           row(name="张伟", gender="男", birth="1975-03", joined="1998-07-01", branch="第二党支部",
                               post="处长")])
    assert (plan["counts"]["create"], plan["counts"]["update"]) == (1, 1)
    assert plan["results"][1]["member_id"] == world.member_b.pk
    assert not plan["results"][0].get("namesake")
    roster_import.member_import_apply(actor=world.committee_secretary, token=token)
    assert Member.objects.get(branch=world.branch_a, name="张伟").post == "科员"
    assert Member.objects.get(pk=world.member_b.pk).post == "处长"


def test_duplicate_rows_in_the_file_are_an_error_on_the_second(world):
    _, plan = prepare(world.staff_a, [HEADERS, row(), row(name="钱进"), row(phone="13900139000")])
    assert plan["errors"] == ["第4行：与第2行重复：同一党支部中姓名和出生年月都相同"]


def test_two_identical_records_on_file_cannot_be_updated(world):
    make_member(world.branch_a, "李娜", gender="F")  # a second 李娜 born 1975-03, already on file
    _, plan = prepare(world.staff_a, [HEADERS, row(name="李娜", birth="1975-03", joined="")])
    assert "本支部已有2名同名且出生年月相同的党员" in plan["errors"][0]


# --- all or nothing -------------------------------------------------------------------------

def test_one_bad_row_in_ten_thousand_writes_nothing(world):
    rows = [HEADERS]
    for n in range(10_000):
        rows.append([f"党员{n:05d}", "男" if n % 2 else "女", round(1950 + n % 30 + (n % 12 + 1) / 100, 2),
                     "1998-07-01", "科员", "第一党支部", f"138{n:08d}", "在职"])
    rows[5001][3] = "1998-13-01"  # sheet row 5,002 (the header is row 1)
    data = excel_xlsx(rows)
    before = (Member.objects.count(), AuditEvent.objects.count())
    roster = roster_import.read_roster(data)
    token = roster_import.store_plan(actor=world.staff_a, roster=roster, data=data, filename="名册.xlsx")
    plan = roster_import.plan_for(actor=world.staff_a, token=token)
    assert plan["counts"]["create"] == 9_999 and len(plan["errors"]) == 1
    assert plan["errors"][0].startswith("第5002行「入党时间」：")
    assert plan["rows"] == []  # a plan with errors keeps no data to apply
    with pytest.raises(ValidationError):
        roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert (Member.objects.count(), AuditEvent.objects.count()) == before

    # The same roster with the cell corrected (not read again: the test is about writing) goes in
    # whole, in one transaction, with one audit row for the import rather than one per member.
    fixed = roster.rows[5000]
    assert fixed["row"] == 5002
    fixed.update(joined_party_on="1998-12-01", errors=[])
    token = roster_import.store_plan(actor=world.staff_a, roster=roster, data=data, filename="名册.xlsx")
    counts = roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert counts["created"] == 10_000
    assert Member.objects.filter(branch=world.branch_a).count() == 10_000 + 2
    event = AuditEvent.objects.get(action="member.import")
    assert event.detail["created"] == 10_000 and len(event.detail["sha256"]) == 64
    assert AuditEvent.objects.count() == before[1] + 1


def test_failure_during_apply_writes_nothing(world, monkeypatch):
    token, _ = prepare(world.staff_a, [HEADERS, row(), row(name="钱进")])
    before = Member.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(roster_import.audit, "record", boom)
    with pytest.raises(RuntimeError):
        roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert Member.objects.count() == before


def test_member_changed_after_preview_refuses_the_whole_import(world):
    from orgs import services
    token, _ = prepare(world.staff_a, [HEADERS, row(), row(name="李娜", birth="1975-03", joined="1998-07-01",
                                                         post="处长")])
    services.member_update(actor=world.secretary_a, member=world.member_a, version=1, data={"post": "调研员"})
    before = Member.objects.count()
    with pytest.raises(Conflict):
        roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert Member.objects.count() == before
    assert Member.objects.get(pk=world.member_a.pk).post == "调研员"


def test_plan_is_applied_once_and_only_by_its_owner(world):
    token, _ = prepare(world.staff_a, [HEADERS, row()])
    with pytest.raises(FileNotFoundError):
        roster_import.plan_for(actor=world.secretary_a, token=token)
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    with pytest.raises(roster_import.PlanGone) as exc:
        roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert "不能重复导入" in exc.value.message and "新增1名" in exc.value.message
    assert Member.objects.filter(name="赵敏").count() == 1


def test_expired_plan_is_refused(world, monkeypatch):
    token, _ = prepare(world.staff_a, [HEADERS, row()])
    monkeypatch.setattr(importing, "PLAN_MAX_AGE", -1)
    with pytest.raises(roster_import.PlanGone) as exc:
        roster_import.member_import_apply(actor=world.staff_a, token=token)
    assert "已过期" in exc.value.message


# --- hostile and wrong files ----------------------------------------------------------------

def test_defusedxml_is_installed_and_used_by_openpyxl():
    assert openpyxl.DEFUSEDXML is True


def test_xml_bomb_is_refused_before_parsing(world):
    bomb = excel_xlsx([], sheet_xml=billion_laughs(9))
    with pytest.raises(ValidationError) as exc:
        prepare(world.staff_a, None, builder=lambda _: bomb)
    assert "DOCTYPE/ENTITY" in exc.value.messages[0] and "拒绝导入" in exc.value.messages[0]


def test_xml_bomb_is_refused_by_the_parser_too(world):
    # Skip the pre-check: openpyxl parses through defusedxml, which refuses entity declarations.
    # (Three levels only, so a regression would fail the assertion rather than eat the memory.)
    with pytest.raises(ValidationError) as exc:
        roster_import.read_roster(excel_xlsx([], sheet_xml=billion_laughs(3)))
    assert exc.value.code == "xml_bomb"


def test_zip_bomb_is_refused(world):
    padded = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              'spreadsheetml/2006/main"><sheetData/>' + " " * 20_000_000 + "</worksheet>")
    with pytest.raises(ValidationError) as exc:
        roster_import.check_xlsx_bytes(excel_xlsx([], sheet_xml=padded))
    assert "解压后异常巨大" in exc.value.messages[0]


@pytest.mark.parametrize("data,name,message", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "名册.xlsx", "不是有效的 .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "名册.xlsx", "旧版 .xls"),
    (b"PK\x03\x04 not really a zip", "名册.xlsx", "不是有效的 .xlsx"),
    (b"name,gender\n", "名册.csv", "只能导入 .xlsx"),
    (b"", "名册.xlsx", "空的"),
])
def test_wrong_files_are_refused(world, data, name, message):
    with pytest.raises(ValidationError) as exc:
        roster_import.member_import_prepare(actor=world.staff_a, upload=upload(data, name))
    assert message in exc.value.messages[0]


def test_size_and_row_limits(world, settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        prepare(world.staff_a, [HEADERS] + [row(name=f"党员{n}") for n in range(50)])
    assert "超过0MB" in exc.value.messages[0] or "文件超过" in exc.value.messages[0]
    settings.ROSTER_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    settings.ROSTER_IMPORT_MAX_ROWS = 5
    with pytest.raises(ValidationError) as exc:
        prepare(world.staff_a, [HEADERS] + [row(name=f"党员{n}") for n in range(6)])
    assert "超过5行" in exc.value.messages[0]


def test_wrong_dimension_does_not_cut_rows_off(world):
    # Some generators write a <dimension> smaller than the data; openpyxl would stop there.
    data = excel_xlsx([HEADERS, row(), row(name="钱进")])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = sheet.replace("<sheetData>", '<dimension ref="A1:B2"/><sheetData>')
    _, plan = prepare(world.staff_a, None, builder=lambda _: _with_sheet(data, sheet))
    assert plan["counts"]["create"] == 2 and plan["results"][1]["name"] == "钱进"


def _with_sheet(data: bytes, sheet: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else source.read(info))
    return buf.getvalue()


# --- the template ---------------------------------------------------------------------------

def test_template_downloads_and_imports_after_filling(world, as_user):
    response = as_user(world.staff_a).get(reverse("orgs:member_import_template"), {"branch": world.branch_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb["党员名册"]
    assert [c.value for c in ws[2]][:3] == ["姓名*", "性别*", "出生年月"]
    assert ws["F3"].value == "第一党支部"  # the example row names the chosen branch
    assert {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation} == {"B3", "H3", "J3"}
    assert [c.value for c in ws[2]][7:] == ["党员类别", "备注", "党员类型", "转正时间", "民族", "学历", "籍贯"]
    assert "填写说明" in wb.sheetnames
    notes = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    for said in ("工作单位及职务", "身份证号等证件号码不保存", "0756-2234567-801", "按年月保存", "更新为同一人",
                 "新增为另一人", "没有计算结果的公式", "合并为一个单元格", "导入到哪个党组织"):
        assert said in notes, said
    ws.append(["孙悦", "女", "1988.10", "2012-06-30", "科员", "第一党支部", "0756-2125678", "在职", ""])
    buf = io.BytesIO()
    wb.save(buf)
    token, plan = prepare(world.staff_a, None, builder=lambda _: buf.getvalue())
    assert plan["errors"] == [] and plan["skipped_example"] and plan["counts"]["create"] == 1
    roster_import.member_import_apply(actor=world.staff_a, token=token)
    m = Member.objects.get(name="孙悦")
    assert m.birth_month == datetime.date(1988, 10, 1)  # typed into a text cell: October stays October
    assert not Member.objects.filter(name="张三").exists()


# --- pages ----------------------------------------------------------------------------------

def _post_file(client, data, name="名册.xlsx", **extra):
    return client.post(reverse("orgs:member_import"), {"file": upload(data, name), **extra})


def test_upload_preview_confirm_journey(world, as_user):
    client = as_user(world.staff_a)
    page = client.get(reverse("orgs:member_import")).content.decode()
    assert "导入党员名册" in page and "下载导入模板" in page and 'data-busy="正在校验' in page
    response = _post_file(client, openpyxl_xlsx([HEADERS, row(), row(name="李娜", birth="1975-03", joined="1998-07-01",
                                                                    post="处长")]))
    assert response.status_code == 302
    preview_url = response["Location"]
    page = client.get(preview_url).content.decode()
    assert "校验通过，尚未导入" in page and "新增1名、更新1名" in page and "科员 </del>" not in page
    assert 'data-busy="正在导入' in page
    assert Member.objects.filter(name="赵敏").count() == 0  # the preview writes nothing
    token = preview_url.rstrip("/").rsplit("/", 1)[-1]
    response = client.post(reverse("orgs:member_import_confirm", args=[token]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("orgs:member_list"))
    assert "新增1名、更新1名" in client.get(response["Location"]).content.decode()
    assert Member.objects.get(name="赵敏").branch == world.branch_a

    # The used token: the page and the button both say it was imported; nothing is written twice.
    assert "不能重复导入" in client.get(preview_url).content.decode()
    response = client.post(reverse("orgs:member_import_confirm", args=[token]), follow=True)
    assert "不能重复导入" in response.content.decode()
    assert Member.objects.filter(name="赵敏").count() == 1


def test_preview_lists_errors_with_row_and_column_and_offers_no_confirm(world, as_user):
    client = as_user(world.staff_a)
    rows = [HEADERS] + [row(name=f"党员{n}") for n in range(60)]
    rows[5] = row(name="错一", joined="1998-13-01")
    rows[7] = row(name="错二", phone="abc")
    response = _post_file(client, openpyxl_xlsx(rows))
    page = client.get(response["Location"]).content.decode()
    assert "发现2处错误，名册没有导入" in page
    assert "第6行「入党时间」：" in page and "第8行「联系电话」：" in page
    assert "确认导入" not in page
    page = client.get(response["Location"], {"show": "error"}).content.decode()
    assert "错一" in page and "党员0" not in page
    page = client.get(response["Location"], {"page": 2}).content.decode()
    assert "党员59" in page


def test_file_errors_are_shown_on_the_upload_page(world, as_user):
    client = as_user(world.staff_a)
    response = _post_file(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert response.status_code == 200
    assert "不是有效的 .xlsx 工作簿" in response.content.decode()
    response = _post_file(client, excel_xlsx([], sheet_xml=billion_laughs(9)))
    assert "恶意构造" in response.content.decode()
    assert Member.objects.count() == 5


def test_member_list_offers_import_to_officers_only(world, as_user):
    assert "导入名册" in as_user(world.staff_a).get(reverse("orgs:member_list")).content.decode()
    assert "导入名册" not in as_user(world.admin).get(reverse("orgs:member_list")).content.decode()


def test_other_officer_and_outsider_get_404(world, as_user):
    token, _ = prepare(world.staff_a, [HEADERS, row()])
    # The committee secretary reaches branch A but did not upload this roster.
    client = as_user(world.committee_secretary)
    assert client.get(reverse("orgs:member_import_preview", args=[token])).status_code == 404
    assert client.post(reverse("orgs:member_import_confirm", args=[token])).status_code == 404
    client = as_user(world.outsider)
    assert client.get(reverse("orgs:member_import")).status_code == 404
    assert client.get(reverse("orgs:member_import_template")).status_code == 404
    assert as_user(world.staff_a).get(reverse("orgs:member_import_preview", args=["not-a-token"])).status_code == 404
    assert Member.objects.filter(name="赵敏").count() == 0


def test_confirm_is_post_only(world, as_user):
    token, _ = prepare(world.staff_a, [HEADERS, row()])
    assert as_user(world.staff_a).get(reverse("orgs:member_import_confirm", args=[token])).status_code == 405


def test_upload_with_default_branch_from_member_list(world, as_user):
    client = as_user(world.committee_secretary)
    page = client.get(reverse("orgs:member_import"), {"branch": world.branch_b.pk}).content.decode()
    assert f'value="{world.branch_b.pk}" selected' in page
    response = _post_file(client, openpyxl_xlsx([["姓名", "性别"], ["赵敏", "女"]]), target=world.branch_b.pk)
    assert response.status_code == 302
    response = _post_file(client, openpyxl_xlsx([["姓名", "性别"], ["赵敏", "女"]]), target=world.branch_d.pk)
    assert response.status_code == 200 and "target" in response.context["form"].errors


def test_branch_choices_are_org_kind_branches_only(world):
    assert world.general.kind == OrgKind.GENERAL_BRANCH
    _, plan = prepare(world.committee_secretary, [HEADERS, row(branch="C1-G")])
    assert "是党总支" in plan["errors"][0]
