"""审诺 pages: the queue, one review, bulk approval."""
import re

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.urls import reverse

from commitments.diff import version_diff
from commitments.models import CommitmentStatus, ReviewDecision
from orgs.models import AuditEvent, MemberCategory
from tests.conftest import make_campaign, make_member

from .builders import ALL_MET, approve, resubmit, submitted

S = CommitmentStatus
QUEUE = reverse("reviews:queue")


def _review_url(c):
    return reverse("reviews:review", args=[c.pk])


def _post(c, decision="approve", **extra):
    data = {"version": c.version, "decision": decision, "opinion": "同意。", **{k: "on" for k in ALL_MET}}
    data.update(extra)
    return data


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- queue -----------------------------------------------------------------------------------

def test_queue_lists_rows_with_badges_version_and_items(world, as_user):
    leader = make_member(world.branch_a, "周领导", category=MemberCategory.LEADER)
    submitted(world, member=leader, items=3, minutes_ago=300)
    oral = submitted(world, member=world.member_a2, is_oral=True, recorder=world.staff_a, minutes_ago=10)
    html = as_user(world.secretary_a).get(QUEUE).content.decode()
    assert "周领导" in html and "领导干部" in html and "口头承诺" in html
    assert "第1版" in html and "3 条" in html and "第一党支部" in html
    assert html.index("周领导") < html.index("王堃")  # oldest submission first
    # Bulk approval has its own page; the queue says which rows must be reviewed one by one.
    assert 'name="targets"' not in html and reverse("reviews:bulk_approve") in html
    assert html.count(">须逐条审核</span>") == 2
    assert reverse("reviews:review", args=[oral.pk]) in html


def test_queue_subtree_checkbox_and_filters(world, as_user):
    submitted(world, organisation=world.branch_a)
    submitted(world, member=world.member_c)
    client = as_user(world.committee_secretary)
    html = client.get(QUEUE).content.decode()
    assert "第一党支部" in html and "陈喆" not in html and "包括下级组织" in html
    html = client.get(QUEUE, {"subtree": "on"}).content.decode()
    assert "陈喆" in html
    html = client.get(QUEUE, {"subtree": "on", "kind": "org"}).content.decode()
    assert "陈喆" not in html and "第一党支部" in html
    html = client.get(QUEUE, {"subtree": "on", "org": world.branch_c.pk}).content.decode()
    assert "陈喆" in html and "没有符合条件" not in html


def test_queue_campaign_filter_defaults_to_the_current_year(world, as_user):
    old = make_campaign(2009, is_current=False)
    from tests.conftest import make_commitment
    make_commitment(old, member=world.member_a, status="submitted")
    client = as_user(world.secretary_a)
    assert "李娜" not in client.get(QUEUE).content.decode()
    assert "李娜" in client.get(QUEUE, {"campaign": "2009"}).content.decode()
    assert "李娜" not in client.get(QUEUE, {"campaign": "1999"}).content.decode()  # unknown → current


def test_queue_org_outside_reach_is_404(world, as_user):
    assert as_user(world.secretary_a).get(QUEUE, {"org": world.branch_b.pk}).status_code == 404


@pytest.mark.parametrize("who", ["staff_a", "member_user_a", "reviewer", "admin", "auditor", "outsider"])
def test_non_secretaries_get_404_on_the_queue(world, as_user, who):
    assert as_user(getattr(world, who)).get(QUEUE).status_code == 404


def test_queue_is_get_only(world, as_user):
    client = as_user(world.secretary_a)
    assert client.post(QUEUE).status_code == 405


def _grow(world, n):
    for i in range(n):
        submitted(world, member=make_member(world.branch_a, f"党员{n}-{i}",
                                            category=MemberCategory.LEADER if i % 2 else MemberCategory.GENERAL))
        submitted(world, organisation=_branch(world, f"支部{n}-{i}"))


def _branch(world, name):
    from tests.conftest import make_org
    return make_org(world.committee, name)


def _count(client, url, params, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as ctx:
        response = client.get(url, params)
        assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who,params", [("secretary_a", {}), ("committee_secretary", {"subtree": "on"})])
def test_queue_query_count_does_not_grow(world, client, django_assert_max_num_queries, who, params):
    client.force_login(getattr(world, who))
    _grow(world, 1)
    small = _count(client, QUEUE, params, django_assert_max_num_queries)
    _grow(world, 10)
    big = _count(client, QUEUE, params, django_assert_max_num_queries)
    assert big == small, f"{small} queries at 1×, {big} at 10×"


# --- review page -----------------------------------------------------------------------------

def test_review_page_shows_snapshot_owner_and_form(world, as_user):
    c = submitted(world, member=world.member_a, items=2)
    html = as_user(world.secretary_a).get(_review_url(c)).content.decode()
    for text in ("争当优秀共产党员", "承诺事项1：为群众办实事", "措施2", "2010年12月31日", "完成措施",
                 "李娜", "女", "1975年3月", "科员", "1998年7月1日", "一般在职党员",
                 "体现先进性要求", "切实可行", "审定意见", "五项全部符合才能审定通过", 'name="version"',
                 'value="approve"', 'value="return"', "data-confirm", "尚无审核记录"):
        assert text in html, text
    assert "履行责任人" not in html  # a member's pledge has none


def test_review_page_for_an_oral_pledge_names_the_recorder(world, as_user):
    world.staff_a.last_name = "王记录"
    world.staff_a.save()
    c = submitted(world, member=world.member_a2, is_oral=True, recorder=world.staff_a)
    html = as_user(world.secretary_a).get(_review_url(c)).content.decode()
    assert "口头承诺，由王记录代为记录" in html


def test_review_page_of_an_org_commitment_shows_the_org_and_responsible(world, as_user):
    c = submitted(world, organisation=world.branch_a)
    html = as_user(world.committee_secretary).get(_review_url(c)).content.decode()
    assert "创建目标" in html and "履行责任人" in html and "支部书记" in html and "0756-2120001" in html


def test_review_page_shows_the_diff_and_previous_decisions(world, as_user):
    c = submitted(world, member=world.member_a, items=2)

    def edit(items):
        items[0]["content"] = "承诺事项1：为基层群众办好事"
        return items[1:2] + items[:1] + [{"content": "新增：结对帮扶一户困难群众", "measures": "每月走访",
                                          "deadline": items[0]["deadline"]}]
    c = resubmit(c, reviewer=world.secretary_a, editor=world.member_user_a, edit=edit)
    html = as_user(world.committee_secretary).get(_review_url(c)).content.decode()
    assert "与第1版相比的修改" in html and "第2版" in html
    assert "新增事项" in html and "已修改" in html and "<ins" in html and "基层" in html
    assert "请把措施写具体。" in html and "退回修改" in html  # the earlier decision


def test_the_diff_partial_works_included_with_only(world):
    s = {"goal": "甲", "items": [{"id": 1, "content": "事项", "measures": "", "deadline": "2010-12-31"}]}
    t = Template('{% include "commitments/partials/diff.html" with diff=diff only %}')
    html = t.render(Context({"diff": version_diff(s, {**s, "goal": "乙"}), "other": "x"}))
    assert "删除：" in html and "新增：" in html


def test_approve_redirects_to_the_queue_with_a_message(world, as_user):
    c = submitted(world, member=world.member_a)
    client = as_user(world.secretary_a)
    response = client.post(_review_url(c), _post(c))
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert any("已审定通过李娜的党员公开承诺" in m for m in _messages(response))
    c.refresh_from_db()
    assert c.status == S.APPROVED
    decision = ReviewDecision.objects.get()
    assert decision.all_criteria_met and decision.reviewer == world.secretary_a


def test_return_with_guidance(world, as_user):
    c = submitted(world)
    response = as_user(world.secretary_a).post(_review_url(c), {"version": c.version, "decision": "return",
                                                                "opinion": "请补充完成时限。"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == S.RETURNED and ReviewDecision.objects.get().opinion == "请补充完成时限。"


def test_validation_errors_show_next_to_fields_and_keep_the_input(world, as_user):
    c = submitted(world)
    data = _post(c, opinion="基本可行")
    del data["feasible"]
    response = as_user(world.secretary_a).post(_review_url(c), data)
    assert response.status_code == 200
    html = response.content.decode()
    # The message stands at the unticked criterion.
    assert 'id="id_feasible-err"' in html and "未确认“切实可行”：五项要求全部符合才能审定通过" in html
    assert "基本可行</textarea>" in html
    assert 'name="advanced" id="id_advanced" class="form-check-input" checked' in html
    c.refresh_from_db()
    assert c.status == S.SUBMITTED and not ReviewDecision.objects.exists()


def test_missing_button_or_version_is_a_clear_error(world, as_user):
    c = submitted(world)
    client = as_user(world.secretary_a)
    html = client.post(_review_url(c), {"opinion": "同意"}).content.decode()
    assert "页面已过期" in html and "审定通过”或“退回修改" in html
    assert not ReviewDecision.objects.exists()


def test_a_stale_form_shows_the_conflict_and_changes_nothing(world, as_user):
    c = submitted(world)
    stale = _post(c, opinion="我也同意")
    approve(c, world.committee_secretary, opinion="同意（机关党委）")
    c.refresh_from_db()
    client = as_user(world.secretary_a)
    before = (c.version, AuditEvent.objects.count())
    response = client.post(_review_url(c), {**stale, "decision": "return"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "该承诺已被他人处理" in html and "我也同意</textarea>" in html and "已审定" in html
    assert 'value="approve"' not in html  # no buttons on a decided commitment
    c.refresh_from_db()
    assert (c.version, AuditEvent.objects.count()) == before and c.status == S.APPROVED
    assert list(ReviewDecision.objects.values_list("opinion", flat=True)) == ["同意（机关党委）"]


def test_a_decided_commitment_is_shown_read_only(world, as_user):
    c = submitted(world)
    approve(c, world.secretary_a, opinion="同意，予以审定。")
    html = as_user(world.secretary_a).get(_review_url(c)).content.decode()
    assert "该承诺当前为“已审定”" in html and "同意，予以审定。" in html
    assert "<textarea" not in html


def test_a_draft_sends_the_reviewer_to_the_commitment_page(world, as_user):
    from tests.conftest import make_commitment
    c = make_commitment(world.campaign, member=world.member_a)
    response = as_user(world.secretary_a).get(_review_url(c))
    assert response.status_code == 302 and response["Location"] == reverse("commitments:detail", args=[c.pk])


@pytest.mark.parametrize("who", ["secretary_b", "staff_a", "member_user_a", "outsider", "admin"])
def test_those_who_may_not_review_get_404(world, as_user, who):
    c = submitted(world, member=world.member_a)
    client = as_user(getattr(world, who))
    assert client.get(_review_url(c)).status_code == 404
    assert client.post(_review_url(c), _post(c)).status_code == 404
    c.refresh_from_db()
    assert c.status == S.SUBMITTED


def test_sibling_branch_secretary_gets_404_and_missing_ids_too(world, as_user):
    c = submitted(world, organisation=world.branch_a)
    client = as_user(world.secretary_b)
    assert client.get(_review_url(c)).status_code == 404
    assert as_user(world.committee_secretary).get(reverse("reviews:review", args=[999999])).status_code == 404


def test_own_submission_gets_404(world, as_user):
    c = submitted(world, actor=world.secretary_a)
    assert as_user(world.secretary_a).get(_review_url(c)).status_code == 404


def test_review_page_query_count_is_small(world, client, django_assert_max_num_queries):
    c = submitted(world, member=world.member_a, items=10)
    c = resubmit(c, reviewer=world.secretary_a, editor=world.staff_a)
    client.force_login(world.committee_secretary)
    with django_assert_max_num_queries(10):
        assert client.get(_review_url(c)).status_code == 200


# --- bulk approval ---------------------------------------------------------------------------

def _shown(client, query=""):
    """The bulk page's signed list of the rows it showed, as the browser posts it back."""
    html = client.get(reverse("reviews:bulk_approve") + query).content.decode()
    return re.search(r'name="shown" value="([^"]+)"', html).group(1)


def test_bulk_approve_reports_each_failure_by_owner_and_reason(world, as_user):
    fine = [submitted(world, member=make_member(world.branch_a, f"批量{n}")) for n in range(2)]
    stale = submitted(world, member=world.member_a)
    forbidden = submitted(world, member=world.member_d)
    targets = [f"{c.pk}:{c.version}" for c in fine] + [f"{stale.pk}:{stale.version - 1}",
                                                         f"{forbidden.pk}:{forbidden.version}"]
    client = as_user(world.secretary_a)
    shown = _shown(client, "?subtree=on")
    response = client.post(reverse("reviews:bulk_approve") + "?subtree=on",
                           {"targets": targets, "shown": shown, "opinion": "同意。"})
    assert response.status_code == 302 and response["Location"] == QUEUE + "?subtree=on"
    messages = _messages(response)
    assert "已批量审定通过 2 条承诺。" in messages
    assert any(m.startswith("李娜的党员公开承诺：该承诺已被他人处理") for m in messages)
    assert f"编号 {forbidden.pk} 的承诺：该承诺不存在或您无权处理。" in messages  # no name from outside the scope
    assert set(ReviewDecision.objects.values_list("commitment_id", flat=True)) == {c.pk for c in fine}
    for c in (stale, forbidden):
        c.refresh_from_db()
        assert c.status == S.SUBMITTED


def test_bulk_approve_without_selection_or_opinion_redraws_the_queue(world, as_user):
    c = submitted(world)
    client = as_user(world.secretary_a)
    shown = _shown(client)
    response = client.post(reverse("reviews:bulk_approve"), {"opinion": "同意", "shown": shown})
    assert response.status_code == 200
    assert "请先勾选要审定通过的承诺。" in response.content.decode()
    response = client.post(reverse("reviews:bulk_approve"), {"targets": [f"{c.pk}:{c.version}"], "opinion": "",
                                                             "shown": shown})
    html = response.content.decode()
    assert response.status_code == 200 and "请填写审定意见。" in html
    assert f'value="{c.pk}:{c.version}" id="pick-{c.pk}" checked' in html  # the selection is kept
    response = client.post(reverse("reviews:bulk_approve"), {"targets": ["x:y"], "opinion": "同意", "shown": shown})
    assert "页面已过期" in response.content.decode()
    assert not ReviewDecision.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "member_user_a", "outsider"])
def test_bulk_approve_is_404_for_non_secretaries(world, as_user, who):
    c = submitted(world)
    response = as_user(getattr(world, who)).post(reverse("reviews:bulk_approve"),
                                                 {"targets": [f"{c.pk}:{c.version}"], "opinion": "同意"})
    assert response.status_code == 404
    assert not ReviewDecision.objects.exists()
