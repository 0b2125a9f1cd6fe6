"""Rosters as other systems export them, imported through the pages (upload → preview → confirm).

Each workbook is built here with openpyxl the way exports look: title rows merged across the
sheet, 序号 and 身份证号 columns, 人员类别 holding 正式党员/预备党员, 工作单位及职务, dates to the
month and to the day, hyphenated and bracketed phone numbers, the branch merged down beside its
members, notes rows below the table, formula cells with and without a cached result.
"""
import datetime
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.importing import CellError, RowError, group_errors, row_ranges
from core.sheet_reader import month_only_format
from orgs import roster_import
from orgs.models import AuditEvent, DatePrecision, Member, MemberCategory, MembershipType
from orgs.roster_import import parse_member_type, parse_phones
from orgs.views_import import XLSX
from tests.conftest import make_member, make_org

DAY, MONTH = DatePrecision.DAY, DatePrecision.MONTH
ID_NUMBER = "440402197503081234"


# --- building workbooks as other systems write them --------------------------------------------

def workbook(rows, *, merges=(), formats=None, sheet="党员花名册") -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for ref in merges:
        ws.merge_cells(ref)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    return wb


def xlsx(wb_or_rows, **kw) -> bytes:
    wb = wb_or_rows if isinstance(wb_or_rows, openpyxl.Workbook) else workbook(wb_or_rows, **kw)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_cached_results(data: bytes, results: dict[str, str]) -> bytes:
    """The workbook as Excel saves it after calculating: each formula cell named in `results`
    gets its cached value (openpyxl itself writes formulas without one)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    for ref, value in results.items():
        sheet, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>',
                           lambda m: f'<c r="{ref}"{m[1]} t="str"><f>{m[2]}</f><v>{value}</v>', sheet)
        assert n == 1, ref
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else source.read(info))
    return buf.getvalue()


def upload_page(client, data: bytes, *, target=None, name="党员花名册.xlsx"):
    """POST the upload form; the preview's URL and token."""
    payload = {"file": SimpleUploadedFile(name, data, content_type=XLSX)}
    if target is not None:
        payload["target"] = target.pk
    response = client.post(reverse("orgs:member_import"), payload)
    assert response.status_code == 302, response.content.decode()[:3000]
    url = response["Location"]
    return url, url.rstrip("/").rsplit("/", 1)[-1]


def preview(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def confirm(client, token, *, follow=False, **choices):
    return client.post(reverse("orgs:member_import_confirm", args=[token]), choices, follow=follow)


def text_of(html: str) -> str:
    """The page as a reader sees it: tags dropped, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- a roster from another system, whole --------------------------------------------------------

EXPORT_HEADER = ["序号", "姓名", "性别", "民族", "出生年月", "籍贯", "学历", "身份证号", "人员类别", "入党时间",
                 "转正时间", "工作单位及职务", "联系电话", "所在党支部"]


def exported_roster(branch: str) -> openpyxl.Workbook:
    rows = [
        [f"{branch}党员花名册"],
        ["填报单位：市某局机关党委", None, None, None, None, None, None, None, None, None, None, "填表日期：2010年9月"],
        EXPORT_HEADER,
        [1, "黄志强", "男", "汉族", "1978.05", "广东珠海", "大学本科", ID_NUMBER, "正式党员", "2001.07",
         "2002.07", "市某局办公室科员", "138-2345-6789", branch],
        [2, "李淑芬", "女", "壮族", datetime.datetime(1962, 3, 1), "广西桂林", "中专", "440402196203081234",
         "正式党员", datetime.datetime(1985, 7, 1), datetime.datetime(1986, 7, 1), "市某局后勤服务中心职工",
         "+86 13823456780", None],
        [3, "吴晓梅", "女", "汉族", "1990-11", "湖南衡阳", "硕士研究生", "430404199011081234", "预备党员",
         "2010年3月", None, "市某局法规科科员", "(0756)2234567", None],
        [],
        [4, "陈建国", "男", "回族", "1958年12月", "河南信阳", "高中", "410402195812081234", "正式党员",
         "1980年7月15日", "1981年7月", "市某局退休干部", "0756-2234567转801", None],
        ["制表人：张三", None, None, None, None, None, None, None, None, None, None, "审核人：李四"],
        ["合计：4人"],
    ]
    # The title across the sheet; the branch written once beside its four members.
    return workbook(rows, merges=["A1:N1", "N4:N8"])


def test_an_exported_roster_imports_through_the_pages(world, as_user):
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(exported_roster("第一党支部")))
    page = text_of(preview(client, url))
    assert "新增 4" in page and "有错误的行 0" in page
    assert "第3行为表头" in page
    # Every column of the file: imported as what, or why not.
    assert "H 身份证号 不导入 身份证号等证件号码不保存（个人敏感信息）" in page
    assert "A 序号 不导入 序号，不导入" in page
    assert "I 人员类别 党员类型 按内容识别" in page
    assert "L 工作单位及职务 职务或职业" in page
    assert "D 民族 民族" in page and "F 籍贯 籍贯" in page and "G 学历 学历" in page
    # The notes rows below the table are named as skipped, not imported or refused.
    assert "第9行“制表人：张三”（说明、合计或分组行）" in page and "第10行“合计：4人”" in page
    response = confirm(client, token)
    assert response.status_code == 302

    m = {x.name: x for x in Member.objects.filter(branch=world.branch_a, name__in=["黄志强", "李淑芬", "吴晓梅", "陈建国"])}
    assert set(m) == {"黄志强", "李淑芬", "吴晓梅", "陈建国"}
    huang, li, wu, chen = m["黄志强"], m["李淑芬"], m["吴晓梅"], m["陈建国"]
    assert (huang.joined_party_on, huang.joined_party_precision) == (datetime.date(2001, 7, 1), MONTH)
    assert (huang.full_member_on, huang.full_member_precision) == (datetime.date(2002, 7, 1), MONTH)
    assert huang.joined_party_display == "2001年7月" and huang.full_member_display == "2002年7月"
    assert (li.joined_party_on, li.joined_party_precision) == (datetime.date(1985, 7, 1), DAY)
    assert (chen.joined_party_on, chen.joined_party_precision) == (datetime.date(1980, 7, 15), DAY)
    assert chen.full_member_display == "1981年7月"
    assert [x.membership for x in (huang, li, wu, chen)] == [MembershipType.FULL] * 2 + [
        MembershipType.PROBATIONARY, MembershipType.FULL]
    assert {x.category for x in m.values()} == {MemberCategory.GENERAL}  # 正式/预备 is no category
    assert [x.phone for x in (huang, li, wu, chen)] == ["13823456789", "13823456780", "0756-2234567",
                                                        "0756-2234567-801"]
    assert (huang.post, huang.ethnicity, huang.education, huang.native_place) == (
        "市某局办公室科员", "汉族", "大学本科", "广东珠海")
    assert (li.ethnicity, li.native_place, chen.ethnicity) == ("壮族", "广西桂林", "回族")
    # The identity numbers are nowhere: not on the records, not in the audit row.
    stored = json.dumps(list(Member.objects.values()), default=str) + json.dumps(
        list(AuditEvent.objects.values("detail")), default=str, ensure_ascii=False)
    assert ID_NUMBER not in stored and "440402196203081234" not in stored

    # The register and the member page show a month as a month, never an invented day.
    register = text_of(client.get(reverse("orgs:member_list"), {"org": world.branch_a.pk}).content.decode())
    assert "2001年7月 " in register and "2001年7月1日" not in register and "预备党员" in register
    detail = text_of(client.get(reverse("orgs:member_detail", args=[huang.pk])).content.decode())
    assert "入党时间 2001年7月 党员类型 正式党员 转正时间 2002年7月" in detail
    assert "民族 汉族 学历 大学本科 籍贯 广东珠海" in detail


def test_the_plan_kept_for_the_preview_holds_no_identity_number(world, as_user):
    client = as_user(world.staff_a)
    upload_page(client, xlsx(exported_roster("第一党支部")))
    plans = list((Path(settings.MEDIA_ROOT) / roster_import.PLAN_DIR).glob("*.json"))
    assert len(plans) == 1
    assert ID_NUMBER not in plans[0].read_text(encoding="utf-8")


def test_both_kinds_of_column_and_both_in_one_cell(world, as_user):
    rows = [["姓名", "性别", "出生年月", "人员类别", "党籍状态", "所在党支部"],
            ["甲", "男", "1970-01", "离退休", "正式党员", "第一党支部"],
            ["乙", "女", "1985-02", "领导", "预备", "第一党支部"],
            ["丙", "男", "1988-03", "在职/预备党员", None, "第一党支部"],
            ["丁", "女", "1960-04", "年老体弱（正式党员）", None, "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "有错误的行 0" in page
    assert confirm(client, token).status_code == 302
    got = {m.name: (m.category, m.membership) for m in Member.objects.filter(name__in="甲乙丙丁")}
    assert got == {"甲": (MemberCategory.RETIRED, MembershipType.FULL),
                   "乙": (MemberCategory.LEADER, MembershipType.PROBATIONARY),
                   "丙": (MemberCategory.GENERAL, MembershipType.PROBATIONARY),
                   "丁": (MemberCategory.ELDERLY, MembershipType.FULL)}


def test_a_column_of_types_is_never_rejected_whole_and_a_real_mismatch_names_both_columns(world, as_user):
    rows = [["姓名", "性别", "出生年月", "党员类别", "党员类型", "所在党支部"],
            ["甲", "男", "1970-01", "正式党员", "预备党员", "第一党支部"],
            ["乙", "女", "1985-02", "流动党员", "正式党员", "第一党支部"]]
    client = as_user(world.staff_a)
    url, _ = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "第2行「党员类型」：与「党员类别」列不一致（正式党员／预备党员）" in page
    assert "第3行「党员类别」：无法识别“流动党员”" in page
    assert Member.objects.filter(name__in=["甲", "乙"]).count() == 0


# --- phones ----------------------------------------------------------------------------------

def test_an_impossible_phone_is_a_row_error_naming_row_and_column(world, as_user):
    rows = [["姓名", "性别", "手机号码", "所在党支部"],
            ["甲", "男", "138-2345-6789", "第一党支部"],
            ["乙", "女", "138-2345-678", "第一党支部"],
            ["丙", "女", "13800138000/0756-2234567", "第一党支部"]]
    client = as_user(world.staff_a)
    url, _ = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "第3行「手机号码」：“138-2345-678”：电话号码格式不正确" in page
    assert "发现1处错误" in page


def test_a_landline_in_a_number_cell_gets_its_area_code_zero_back():
    assert parse_phones(7562234567) == ("0756-2234567", "“7562234567”按座机 0756-2234567 理解（数字单元格丢掉了区号前的0）")
    assert parse_phones(13800138000) == ("13800138000", "")


def test_a_cell_with_two_numbers_keeps_the_mobile_and_says_so():
    assert parse_phones("0756-2234567/13800138000") == (
        "13800138000", "“0756-2234567/13800138000”有2个号码，系统只记一个，保存了 13800138000")
    assert parse_phones("138 0013 8000") == ("13800138000", "")
    with pytest.raises(CellError):
        parse_phones("13800138000/12")


# --- dates ----------------------------------------------------------------------------------

def test_month_only_excel_formats_keep_the_month(world, as_user):
    rows = [["姓名", "性别", "入党时间", "转正时间", "所在党支部"],
            ["甲", "男", datetime.datetime(2016, 7, 1), datetime.datetime(2017, 7, 1), "第一党支部"],
            ["乙", "女", datetime.datetime(2016, 7, 1), datetime.datetime(2017, 7, 20), "第一党支部"]]
    wb = workbook(rows, formats={"C2": 'yyyy"年"m"月"', "D2": "yyyy.mm", "C3": "yyyy-mm-dd", "D3": "yyyy/m/d"})
    client = as_user(world.staff_a)
    _, token = upload_page(client, xlsx(wb))
    assert confirm(client, token).status_code == 302
    a, b = Member.objects.get(name="甲"), Member.objects.get(name="乙")
    assert (a.joined_party_display, a.full_member_display) == ("2016年7月", "2017年7月")
    assert (b.joined_party_display, b.full_member_display) == ("2016年7月1日", "2017年7月20日")


def test_the_chinese_built_in_month_format_is_read_as_a_month(world, as_user):
    # Excel and WPS save yyyy"年"m"月" as built-in format 57, which openpyxl does not know as a
    # date: the cell would arrive as the serial number 42552.
    rows = [["姓名", "性别", "入党时间", "所在党支部"], ["甲", "男", datetime.datetime(2016, 7, 1), "第一党支部"]]
    data = xlsx(workbook(rows, formats={"C2": 'yyyy"年"m"月"'}))
    source = zipfile.ZipFile(io.BytesIO(data))
    styles = source.read("xl/styles.xml").decode()
    custom = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy&quot;年', styles)[1]
    styles, n = re.subn(rf'<xf numFmtId="{custom}"', '<xf numFmtId="57"', styles)
    styles = re.sub(r"<numFmts.*?</numFmts>", "", styles)
    assert n == 1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in source.infolist():
            z.writestr(info.filename, styles if info.filename == "xl/styles.xml" else source.read(info))
    client = as_user(world.staff_a)
    _, token = upload_page(client, buf.getvalue())
    assert confirm(client, token).status_code == 302
    assert Member.objects.get(name="甲").joined_party_display == "2016年7月"


@pytest.mark.parametrize("code,month_only", [
    ('yyyy"年"m"月"', True), ("yyyy.mm", True), ("mmm-yy", True), ("yyyy-mm-dd", False), ("m/d/yy h:mm", False),
    ('yyyy"年"m"月"d"日"', False), ("0.00", False), ("General", False), (None, False),
])
def test_month_only_formats(code, month_only):
    assert month_only_format(code) is month_only


def test_mixed_dates_in_one_column(world, as_user):
    rows = [["姓名", "性别", "出生年月", "入党时间", "所在党支部"],
            ["甲", "男", "1970.01", "2016.07", "第一党支部"],
            ["乙", "男", "1970.01", "2016-07", "第一党支部"],
            ["丙", "男", "1970.01", "2016/7", "第一党支部"],
            ["丁", "男", "1970.01", "2016年7月", "第一党支部"],
            ["戊", "男", "1970.01", "2016年7月1日", "第一党支部"],
            ["己", "男", "1970.01", datetime.datetime(2016, 7, 1), "第一党支部"],
            ["庚", "男", "1970.01", 2016.07, "第一党支部"]]
    client = as_user(world.staff_a)
    _, token = upload_page(client, xlsx(rows))
    assert confirm(client, token).status_code == 302
    shown = dict(Member.objects.filter(branch=world.branch_a, birth_month=datetime.date(1970, 1, 1))
                 .values_list("name", "joined_party_precision"))
    assert shown == {"甲": MONTH, "乙": MONTH, "丙": MONTH, "丁": MONTH, "戊": DAY, "己": DAY, "庚": MONTH}
    register = client.get(reverse("orgs:member_list"), {"org": world.branch_a.pk}).content.decode()
    assert register.count(">2016年7月<") == 5 and register.count(">2016年7月1日<") == 2


# --- errors grouped ----------------------------------------------------------------------------

def test_one_bad_cell_among_ten_thousand_repeats_is_on_the_first_screen(world, as_user):
    rows = [["姓名", "性别", "出生年月", "入党时间", "人员类别", "所在党支部"]]
    for n in range(10_000):
        rows.append([f"党员{n:05d}", "男", "1970.01", "1998.07", "流动党员", "第一党支部"])
    rows[7000][3] = "1998.13"  # sheet row 7,001
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    html = preview(client, url)
    errors = re.search(r'<ul class="mb-0 small import-errors">(.*?)</ul>', html, re.S)[1]
    lines = [text_of(li) for li in re.findall(r"<li>(.*?)</li>", errors, re.S)]
    assert lines[0] == "第7001行「入党时间」：“1998.13”中的月份“13”不正确，月份应为1到12"
    assert lines[1].startswith("第2–10001行「人员类别」：无法识别“流动党员”") and lines[1].endswith("共10000行")
    assert len(lines) == 2
    # The preview's own filters and pages still work.
    page = text_of(preview(client, url, show="error", page=141))
    assert "第7001行" in page
    assert confirm(client, token).status_code == 302  # refused: back to the upload page
    assert not Member.objects.filter(name__startswith="党员").exists()


def test_row_ranges_and_groups():
    assert row_ranges([2, 3, 4, 9, 11, 12]) == "第2–4、9、11–12行"
    assert row_ranges(list(range(2, 40, 2)), limit=3) == "第2、4、6等行"
    errors = [RowError(n, "联系电话", f"“{v}”：电话号码格式不正确") for n, v in ((3, "abc"), (8, "123"))]
    errors.append(RowError(5, "入党时间", "入党时间不能晚于今天"))
    groups = group_errors(errors)
    assert [g["rows"] for g in groups] == ["第5行", "第3、8行"]
    assert groups[1]["message"] == "“…”：电话号码格式不正确" and groups[1]["count"] == 2
    assert groups[1]["examples"] == ["“abc”：电话号码格式不正确", "“123”：电话号码格式不正确"]


# --- same name and birth month -----------------------------------------------------------------

SAME_HEADER = ["姓名", "性别", "出生年月", "入党时间", "职务", "所在党支部"]


def test_two_rows_same_name_and_birth_month_different_gender_are_resolved_on_the_page(world, as_user):
    rows = [SAME_HEADER, ["张伟", "男", "1985-06", "2008-07-01", "科员", "第一党支部"],
            ["张伟", "女", "1985-06", "2010-07-01", "科员", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "待确认 2" in page and "待确认：2行同名党员是否同一人" in page
    assert "与第3行同名、出生年月相同，但性别和入党时间不同" in page
    assert "新增为另一人（与第3行是不同的人）" in page
    # Confirming without a choice writes nothing and says what is missing, keeping the choice made.
    response = confirm(client, token, **{"choice-2": "new"})
    assert response.status_code == 302 and response["Location"] == url + "#conflicts"
    html = preview(client, url)
    assert "还有1行同名党员没有确定是否同一人（第3行）" in text_of(html) and "名册尚未导入" in text_of(html)
    assert 'name="choice-2" id="choice-2-1" value="new" checked' in html
    assert preview(client, url, show="conflict").count("待确认</span>") == 2  # the page's own filters work
    assert not Member.objects.filter(name="张伟", birth_month=datetime.date(1985, 6, 1)).exists()
    response = confirm(client, token, **{"choice-2": "new", "choice-3": "new"})
    assert response.status_code == 302
    assert sorted(Member.objects.filter(branch=world.branch_a, name="张伟").values_list("gender", flat=True)) == [
        "F", "M"]
    event = AuditEvent.objects.get(action="member.import")
    assert event.detail["choices"] == {"2": "new", "3": "new"}


def test_a_row_differing_from_the_member_on_file_is_never_silently_merged_or_split(world, as_user):
    li = world.member_a  # 李娜, 女, born 1975-03, joined 1998-07-01
    rows = [SAME_HEADER, ["李娜", "女", "1975.03", "2001.07.01", "副科长", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "本支部已有党员李娜（女，1975年3月出生，1998年7月1日入党），与本行的入党时间不同" in page
    assert "更新为同一人：李娜" in page and "将修改 职务或职业 科员→副科长，入党时间 1998年7月1日→2001年7月1日" in page
    response = confirm(client, token, follow=True)
    assert "还有1行同名党员没有确定是否同一人" in response.content.decode()
    li.refresh_from_db()
    assert (li.post, li.joined_party_on) == ("科员", datetime.date(1998, 7, 1))
    assert Member.objects.filter(name="李娜").count() == 1

    response = confirm(client, token, **{"choice-2": f"same:{li.pk}"})
    assert response.status_code == 302
    li.refresh_from_db()
    assert (li.post, li.joined_party_on, li.version) == ("副科长", datetime.date(2001, 7, 1), 2)
    assert Member.objects.filter(name="李娜").count() == 1


def test_a_different_gender_can_be_another_person(world, as_user):
    rows = [SAME_HEADER, ["李娜", "男", "1975.03", "", "科员", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    assert "与本行的性别不同" in text_of(preview(client, url))
    assert confirm(client, token, for_all="new").status_code == 302
    assert sorted(Member.objects.filter(name="李娜").values_list("gender", flat=True)) == ["F", "M"]


def test_gender_tells_same_name_members_on_file_apart(world, as_user):
    make_member(world.branch_a, "王芳", gender="M", birth_month=datetime.date(1985, 6, 1),
                joined_party_on=datetime.date(2008, 7, 1))
    her = make_member(world.branch_a, "王芳", gender="F", birth_month=datetime.date(1985, 6, 1),
                      joined_party_on=datetime.date(2008, 7, 1))
    rows = [SAME_HEADER, ["王芳", "女", "1985-06", "", "主任科员", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "更新 1" in page and "待确认" not in page
    assert confirm(client, token).status_code == 302
    her.refresh_from_db()
    assert her.post == "主任科员"


def test_two_rows_may_not_both_become_the_same_member(world, as_user):
    li = world.member_a
    rows = [SAME_HEADER, ["李娜", "女", "1975.03", "2001-07-01", "科员", "第一党支部"],
            ["李娜", "女", "1975.03", "2002-07-01", "科员", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    response = confirm(client, token, follow=True, **{"choice-2": f"same:{li.pk}", "choice-3": f"same:{li.pk}"})
    assert "第2行和第3行对应了系统中的同一名党员" in text_of(response.content.decode())
    assert Member.objects.filter(name="李娜").count() == 1
    response = confirm(client, token, **{"choice-2": f"same:{li.pk}", "choice-3": "new"})
    assert response.status_code == 302
    assert sorted(Member.objects.filter(name="李娜").values_list("joined_party_on", flat=True)) == [
        datetime.date(2001, 7, 1), datetime.date(2002, 7, 1)]


def test_a_conflict_weighed_against_a_member_changed_since_is_refused(world, as_user):
    from orgs import services
    rows = [SAME_HEADER, ["李娜", "女", "1975.03", "2001.07.01", "副科长", "第一党支部"]]
    client = as_user(world.staff_a)
    _, token = upload_page(client, xlsx(rows))
    services.member_update(actor=world.secretary_a, member=world.member_a, version=1, data={"post": "调研员"})
    response = confirm(client, token, **{"choice-2": f"same:{world.member_a.pk}"}, follow=True)
    assert "已被他人修改，名册未导入" in response.content.decode()
    assert Member.objects.get(pk=world.member_a.pk).post == "调研员"


# --- formula cells -----------------------------------------------------------------------------

def test_formula_cells_with_a_cached_result_import_it_with_a_warning(world, as_user):
    rows = [["姓名", "性别", "出生年月", "入党时间", "所在党支部"],
            ["甲", "男", '=TEXT(DATE(1975,3,1),"yyyy.mm")', "1998-07-01", "第一党支部"],
            ["乙", "女", "1980.05", "=\"2003-07-01\"", "=$E$2"]]
    data = with_cached_results(xlsx(rows), {"C2": "1975.03", "D3": "2003-07-01", "E3": "第一党支部"})
    client = as_user(world.staff_a)
    url, token = upload_page(client, data)
    page = text_of(preview(client, url))
    assert "有错误的行 0" in page
    assert "第2行「出生年月」（C2）：是公式，按其计算结果“1975.03”导入，请核对" in page
    assert "第3行「所在党支部」（E3）：是公式，按其计算结果“第一党支部”导入" in page
    assert confirm(client, token).status_code == 302
    assert Member.objects.get(name="甲").birth_month == datetime.date(1975, 3, 1)
    assert Member.objects.get(name="乙").branch == world.branch_a


def test_a_formula_without_a_cached_result_names_its_cell(world, as_user):
    rows = [["姓名", "性别", "出生年月", "所在党支部"]] + [[f"党员{n}", "男", "1970.01", "第一党支部"] for n in range(10)]
    rows.append(["甲", "男", '=TEXT(DATE(1975,3,1),"yyyy.mm")', "第一党支部"])
    client = as_user(world.staff_a)
    url, _ = upload_page(client, xlsx(rows))
    page = text_of(preview(client, url))
    assert "第12行「出生年月」（C12）：公式没有计算结果，请在 Excel 中打开并保存后再导入" in page
    assert not Member.objects.filter(name="甲").exists()


# --- where the roster goes -----------------------------------------------------------------------

def test_a_committee_target_resolves_its_own_first_branch(world, as_user):
    their_first = make_org(world.committee2, "第一党支部", code="C2-A")
    rows = [["姓名", "性别", "出生年月", "所在党支部"], ["甲", "男", "1970.01", "第一党支部"],
            ["乙", "女", "1980.02", "第四党支部"]]
    client = as_user(world.city_secretary)
    # Across the whole city the name is ambiguous …
    url, _ = upload_page(client, xlsx(rows), target=None)
    assert "有2个党支部名为“第一党支部”" in text_of(preview(client, url))
    # … within the chosen committee it is not.
    url, token = upload_page(client, xlsx(rows), target=world.committee2)
    page = text_of(preview(client, url))
    assert "导入到：市另一局党组" in page and "有错误的行 0" in page
    assert confirm(client, token).status_code == 302
    assert Member.objects.get(name="甲").branch == their_first
    assert Member.objects.get(name="乙").branch == world.branch_d

    # A branch of another committee is named as such.
    url, _ = upload_page(client, xlsx(rows), target=world.committee)
    page = text_of(preview(client, url))
    assert "“市某局机关党委”之下没有党支部“第四党支部”（其他党组织下有同名的）" in page


def test_a_file_without_a_branch_column_needs_a_branch_target(world, as_user):
    rows = [["姓名", "性别", "出生年月"], ["甲", "男", "1970.01"]]
    client = as_user(world.committee_secretary)
    response = client.post(reverse("orgs:member_import"), {
        "file": SimpleUploadedFile("名册.xlsx", xlsx(rows), content_type=XLSX), "target": world.committee.pk})
    assert response.status_code == 200
    assert "缺少「所在党支部」列" in response.content.decode() and "或在上传时选择导入到的党支部" in response.content.decode()
    _, token = upload_page(client, xlsx(rows), target=world.branch_b)
    assert confirm(client, token).status_code == 302
    assert Member.objects.get(name="甲").branch == world.branch_b


def test_the_upload_page_offers_the_officers_organisations(world, as_user):
    page = as_user(world.committee_secretary).get(reverse("orgs:member_import")).content.decode()
    assert "导入到" in page and f'<option value="{world.committee.pk}" selected>' in page
    # Someone else's organisation cannot be chosen.
    response = as_user(world.committee_secretary).post(reverse("orgs:member_import"), {
        "file": SimpleUploadedFile("名册.xlsx", xlsx([["姓名", "性别"], ["甲", "男"]]), content_type=XLSX),
        "target": world.committee2.pk})
    assert response.status_code == 200 and "target" in response.context["form"].errors


# --- layouts -------------------------------------------------------------------------------------

def test_a_two_row_header_with_a_merged_group_title(world, as_user):
    rows = [["姓名", "性别", "党籍信息", None, "所在党支部"],
            [None, None, "入党时间", "转正时间", None],
            ["甲", "男", "2001.07", "2002.07", "第一党支部"]]
    wb = workbook(rows, merges=["A1:A2", "B1:B2", "C1:D1", "E1:E2"])
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(wb))
    page = text_of(preview(client, url))
    assert "第1行起2行为表头" in page and "新增 1" in page
    assert confirm(client, token).status_code == 302
    m = Member.objects.get(name="甲")
    assert (m.joined_party_display, m.full_member_display) == ("2001年7月", "2002年7月")


def test_sub_headers_under_a_group_title_that_was_not_merged(world, as_user):
    rows = [["姓名", "性别", "党籍信息", None, "所在党支部"],
            [None, None, "入党时间", "转正时间", None],
            ["甲", "男", "2001.07", "2002.07", "第一党支部"]]
    client = as_user(world.staff_a)
    url, token = upload_page(client, xlsx(rows))
    assert "第1行起2行为表头" in text_of(preview(client, url))
    assert confirm(client, token).status_code == 302
    assert Member.objects.get(name="甲").full_member_display == "2002年7月"


def test_branches_merged_down_grouped_rows_and_repeated_headers(world, as_user):
    header = ["序号", "姓名", "性别", "所在党支部"]
    rows = [["党员名册"], header,
            ["一、第一党支部"],
            [1, "甲", "男", "第一党支部"], [2, "乙", "女", None], [3, "丙", "男", None],
            header,  # printed exports repeat the header on each page
            ["二、第二党支部"],
            [4, "丁", "女", "第二党支部"], [5, "戊", "男", None],
            [None, None, None, None],
            ["注：本表由组织科汇总"]]
    wb = workbook(rows, merges=["A1:D1", "A3:D3", "D4:D6", "A8:D8", "D9:D10"])
    client = as_user(world.committee_secretary)
    url, token = upload_page(client, xlsx(wb), target=world.committee)
    page = text_of(preview(client, url))
    assert "新增 5" in page and "有错误的行 0" in page
    assert "第3行“一、第一党支部”（说明、合计或分组行）" in page and "（重复的表头）" in page
    assert "第12行“注：本表由组织科汇总”" in page
    assert confirm(client, token).status_code == 302
    got = dict(Member.objects.filter(name__in="甲乙丙丁戊").values_list("name", "branch__name"))
    assert got == {"甲": "第一党支部", "乙": "第一党支部", "丙": "第一党支部", "丁": "第二党支部", "戊": "第二党支部"}


# --- parsers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    ("正式党员", (None, MembershipType.FULL)), ("预备党员", (None, MembershipType.PROBATIONARY)),
    ("中共党员", (None, MembershipType.FULL)), ("中共预备党员", (None, MembershipType.PROBATIONARY)),
    ("离退休党员", (MemberCategory.RETIRED, None)), ("担任领导职务的党员", (MemberCategory.LEADER, None)),
    ("在职", (MemberCategory.GENERAL, None)), ("在职/预备党员", (MemberCategory.GENERAL, MembershipType.PROBATIONARY)),
    ("离休（正式党员）", (MemberCategory.RETIRED, MembershipType.FULL)), ("ＦＵＬＬ", (None, MembershipType.FULL)),
])
def test_member_type_values(value, expected):
    assert parse_member_type(value) == expected


@pytest.mark.parametrize("value", ["流动党员", "群众", "在职/离退休", "预备/正式"])
def test_member_type_values_refused(value):
    with pytest.raises(CellError):
        parse_member_type(value)
