"""评选表彰依据: the ranked released results under an organisation, and its Excel export."""
import io
import re
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.templatetags.cn import cn_date
from evaluations import services
from evaluations.awards_export import awards_filename, awards_title
from orgs.models import AuditEvent
from tests.commitments.publishing import published
from tests.evaluations.builders import assess, closed_window, in_window, pledge, release


def awards_url(org, kind="", fmt=""):
    name = "evaluations:awards_xlsx" if fmt == "xlsx" else "evaluations:awards"
    return reverse(name, args=[org.pk]) + (f"?kind={kind}" if kind else "")


def ranked(html: str) -> list[tuple[str, str]]:
    """(rank, name) of each table row, in order."""
    return re.findall(r'<td class="text-center fw-semibold">(\d+)</td>\s*<td><a [^>]*>([^<]+)</a>', html)


@pytest.fixture
def results(world):
    """Released results in the committee's subtree: two tied at 100 (优秀), one 100 (良好), one 60,
    one with ballots; plus an assessed-but-unreleased pledge, an unassessed one, and a branch D
    pledge outside the committee."""
    closed_window(world)
    p = {}
    p["ma"] = pledge(world, world.branch_a, "马丽")
    p["an"] = pledge(world, world.branch_b, "安娜")
    p["good"] = pledge(world, world.branch_c, "高明")
    p["fair"] = pledge(world, world.branch_a, "范文")
    p["voted"] = pledge(world, world.branch_b, "魏来")
    for n, rating in enumerate(["satisfied", "satisfied", "basic", "unsatisfied"]):
        services.ballot_cast(commitment=p["voted"], rating=rating, rater_token=f"t{n}",
                             client_address=f"198.51.100.{n + 1}", today=in_window(world))
    release(world, p["ma"], result="fulfilled", grade="excellent")
    release(world, p["an"], result="fulfilled", grade="excellent")
    release(world, p["good"], result="fulfilled", grade="good")
    release(world, p["fair"], result="partly", grade="fair")
    # Assessment 已兑现 (100, weight 50) and public (2×100 + 60 + 0)/4 = 65 (weight 30):
    # (5000 + 1950) / 80 = 86.875 → 86.9, 已兑现; 满意率 3/4 = 75.0%.
    release(world, p["voted"], result="fulfilled", grade="excellent")
    p["waiting"] = pledge(world, world.branch_a, "甘露")
    assess(world, p["waiting"])
    p["unassessed"] = pledge(world, world.branch_b, "丁一")
    p["outside"] = pledge(world, world.branch_d, "伍德")
    release(world, p["outside"])
    p["org_a"] = published(world, organisation=world.branch_a)
    release(world, p["org_a"], result="partly", grade="good")
    return p


def test_ranking_order_and_shared_ranks(world, results, as_user):
    response = as_user(world.committee_secretary).get(awards_url(world.committee, "member"))
    assert response.status_code == 200
    html = response.content.decode()
    # 安娜 and 马丽 tie (100, 优秀, no votes): both 1st, ordered by name; 高明 100 but 良好 → 3rd.
    assert ranked(html) == [("1", "安娜"), ("1", "马丽"), ("3", "高明"), ("4", "魏来"), ("5", "范文")]
    assert "86.9" in html and "75.0%" in html
    assert "伍德" not in html and "甘露" not in html and "丁一" not in html


def test_kind_filter(world, results, as_user):
    html = as_user(world.committee_secretary).get(awards_url(world.committee, "org")).content.decode()
    assert ranked(html) == [("1", "第一党支部")]
    assert "马丽" not in html
    default = as_user(world.committee_secretary).get(awards_url(world.committee)).content.decode()
    assert ranked(default) == ranked(html)
    bogus = as_user(world.committee_secretary).get(awards_url(world.committee, "everyone")).content.decode()
    assert ranked(bogus) == ranked(html)


def test_unreleased_are_excluded_with_a_note(world, results, as_user):
    html = as_user(world.committee_secretary).get(awards_url(world.committee, "member")).content.decode()
    assert "另有 <strong>2</strong> 份已公开的党员承诺尚未公布评议结果" in html
    branch_html = as_user(world.secretary_b).get(awards_url(world.branch_b, "member")).content.decode()
    assert ranked(branch_html) == [("1", "安娜"), ("2", "魏来")]
    assert "另有 <strong>1</strong> 份" in branch_html
    org_html = as_user(world.committee_secretary).get(awards_url(world.committee, "org")).content.decode()
    assert "尚未公布评议结果" not in org_html


@pytest.mark.parametrize("persona,org", [("secretary_a", "committee"), ("secretary_b", "branch_a"),
                                         ("committee_secretary", "branch_d"), ("member_user_a", "branch_a"),
                                         ("outsider", "branch_a"), ("auditor", "root")])
def test_org_outside_the_users_scope_is_404(world, results, as_user, persona, org):
    client = as_user(getattr(world, persona))
    target = getattr(world, org)
    assert client.get(awards_url(target, "member")).status_code == 404
    assert client.get(awards_url(target, "member", "xlsx")).status_code == 404
    assert client.get(reverse("evaluations:awards", args=[999999])).status_code == 404
    assert not AuditEvent.objects.filter(action="evaluation.awards_export").exists()


def test_anonymous_is_sent_to_login(world, client):
    response = client.get(awards_url(world.committee))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_is_405(world, as_user):
    client = as_user(world.committee_secretary)
    assert client.post(awards_url(world.committee)).status_code == 405
    assert client.post(awards_url(world.committee, fmt="xlsx")).status_code == 405


def test_xlsx_is_a_real_workbook(world, results, as_user):
    response = as_user(world.committee_secretary).get(awards_url(world.committee, "member", "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = awards_filename(world.committee, world.campaign, "member")
    assert filename == "评选表彰依据-市某局机关党委-党员-2010年.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(filename)}"
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value == awards_title(world.committee, world.campaign, "member")
    assert ws["A1"].value.endswith("评选表彰依据（党员）")
    assert f"生成日期：{cn_date(timezone.localdate())}" in ws["A2"].value
    assert "另有2份" in ws["A2"].value
    headers = [cell.value for cell in ws[3]]
    assert headers == ["名次", "党员姓名", "所在党支部", "综合得分", "综合评定", "群众满意率（%）", "评议票数", "考核结果",
                       "考核等次"]
    rows = [[cell.value for cell in row] for row in ws.iter_rows(min_row=4)]
    assert [(r[0], r[1]) for r in rows] == [(1, "安娜"), (1, "马丽"), (3, "高明"), (4, "魏来"), (5, "范文")]
    assert rows[0] == [1, "安娜", "第二党支部", 100, "已兑现", None, 0, "已兑现", "优秀"]
    assert rows[3] == [4, "魏来", "第二党支部", 86.9, "已兑现", 75, 4, "已兑现", "优秀"]
    for r in rows:
        assert isinstance(r[0], int) and isinstance(r[3], (int, float)) and isinstance(r[6], int)
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["B"].width >= 10 and ws.column_dimensions["C"].width >= 20


def test_xlsx_for_organisations(world, results, as_user):
    response = as_user(world.committee_secretary).get(awards_url(world.committee, "org", "xlsx"))
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value.endswith("评选表彰依据（党组织）")
    assert [cell.value for cell in ws[3]][:3] == ["名次", "党组织名称", "上级党组织"]
    assert [cell.value for cell in ws[4]][:5] == [1, "第一党支部", "市某局机关党委", 60, "基本兑现"]


def test_export_writes_an_audit_row(world, results, as_user):
    as_user(world.secretary_b).get(awards_url(world.branch_b, "member", "xlsx"))
    event = AuditEvent.objects.get(action="evaluation.awards_export")
    assert event.actor == world.secretary_b and event.organisation == world.branch_b
    assert event.detail == {"kind": "member", "campaign": 2010, "rows": 2}
    # Viewing the page writes nothing.
    as_user(world.secretary_b).get(awards_url(world.branch_b, "member"))
    assert AuditEvent.objects.filter(action="evaluation.awards_export").count() == 1


def test_awards_page_query_count_does_not_grow(world, as_user, django_assert_max_num_queries):
    closed_window(world)
    for i in range(3):
        release(world, pledge(world, world.branch_a, f"党员{i:02d}"))
    client = as_user(world.committee_secretary)
    url = awards_url(world.committee, "member")
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for i in range(3, 30):
        release(world, pledge(world, world.branch_a, f"党员{i:02d}"))
    with django_assert_max_num_queries(20) as big:
        html = client.get(url).content.decode()
    assert len(ranked(html)) == 30
    assert len(big.captured_queries) == len(small.captured_queries)


def test_xlsx_writes_formula_like_names_as_text(world, as_user):
    closed_window(world)
    release(world, pledge(world, world.branch_a, '=HYPERLINK("http://evil.example","点我")'))
    response = as_user(world.secretary_a).get(awards_url(world.branch_a, "member", "xlsx"))
    ws = load_workbook(io.BytesIO(response.content)).active
    cell = ws["B4"]
    assert cell.value == '=HYPERLINK("http://evil.example","点我")' and cell.data_type == "s"
