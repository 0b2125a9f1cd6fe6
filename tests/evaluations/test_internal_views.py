"""评诺 internal pages: the evaluation list, one commitment's evaluation page and its POSTs, the
rectification lists, the home page's to-dos, and the campaign's 评诺 settings."""
import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.models import Campaign
from evaluations import services
from evaluations.models import (Assessment, Evaluation, LeaderComment, MeetingTally, RectificationOrder,
                                RectificationStep)
from evaluations.selectors import summary_for
from orgs.models import AuditEvent
from tests.commitments.evidence import record
from tests.commitments.publishing import approved, published
from tests.conftest import make_member
from tests.evaluations.builders import tally as record_tally

pytestmark = pytest.mark.django_db
DAY = datetime.date
LIST = reverse("evaluations:list")
RECT = reverse("evaluations:rectifications")
STALE = "已被他人处理"


def today():
    return timezone.localdate()


def url(name, obj):
    return reverse(f"evaluations:{name}", args=[obj.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def html_of(response):
    return response.content.decode()


def open_window(campaign):
    """Move the 群众评议 window around today (it is long closed for the 2010 campaign)."""
    Campaign.objects.filter(pk=campaign.pk).update(evaluation_opens=today() - datetime.timedelta(days=5),
                                                   evaluation_deadline=today() + datetime.timedelta(days=30))
    campaign.refresh_from_db()


def assessed(c, actor, result="partly", grade="fair", reason="部分事项未按期完成。"):
    return services.assess(actor=actor, commitment=c, version=summary_for(c).version, result=result, grade=grade,
                           reason=reason)


def ordered(c, actor, days=20):
    return services.rectification_order(actor=actor, commitment=c, grounds="考核为基本兑现", required_actions="补齐台账",
                                        deadline=today() + datetime.timedelta(days=days))


def make_overdue(order):
    RectificationOrder.objects.filter(pk=order.pk).update(deadline=today() - datetime.timedelta(days=3))
    order.refresh_from_db()


@pytest.fixture
def pledge(world):
    """member_a's written pledge in branch A (reviewed by branch A), published 2010-10-20."""
    return published(world, member=world.member_a)


@pytest.fixture
def org_commitment(world):
    """Branch A's own commitment, reviewed by the committee."""
    return published(world, organisation=world.branch_a)


# --- the list ------------------------------------------------------------------------------

def test_list_shows_voices_verdict_and_bulk_checkboxes(world, as_user, pledge, org_commitment):
    services.leader_comment_save(actor=world.secretary_a, commitment=pledge, rating="satisfied", comment="很好")
    record_tally(world, pledge, held_on=DAY(2010, 11, 15), place="党员大会",
                          satisfied=8, basic=1, unsatisfied=1)
    assessed(pledge, world.secretary_a, result="fulfilled", grade="excellent")
    response = as_user(world.secretary_a).get(LIST)
    html = html_of(response)
    assert response.status_code == 200
    assert "李娜" in html and "第一党支部" in html and "党员承诺" in html
    assert "满意率 90.0%" in html and "10 票" in html  # the window of 2010 is closed
    assert "已兑现" in html and "优秀" in html and "已考核待公布" in html
    assert reverse("evaluations:detail", args=[pledge.pk]) in html
    # Secretary A assesses her branch's pledges, not the branch's own commitment (the committee does).
    assert f'value="{pledge.pk}:{summary_for(pledge).version}"' in html
    assert f'value="{org_commitment.pk}:' not in html
    assert 'data-confirm="' in html and "公布评议结果" in html
    html = html_of(as_user(world.committee_secretary).get(LIST))
    assert f'value="{org_commitment.pk}:1"' in html and "待考核" in html


def test_list_shows_only_the_vote_count_while_the_window_is_open(world, as_user, pledge):
    open_window(world.campaign)
    record_tally(world, pledge, held_on=today(), place="党员大会",
                          satisfied=7, basic=2, unsatisfied=1)
    # The owner's side (branch A's staff draft the pledges) sees the count only...
    html = html_of(as_user(world.staff_a).get(LIST))
    assert "已收到 10 票" in html and "评议中" in html
    assert "满意率" not in html.split("<tbody>")[1].split("</tbody>")[0]
    # ... the reviewing organisation (branch A's secretary reviews its members' pledges) also the
    # interim rate (六（二）, test_interim.py), never the final one.
    body = html_of(as_user(world.secretary_a).get(LIST)).split("<tbody>")[1].split("</tbody>")[0]
    assert "阶段性满意率 90.0%" in body and "满意率 90.0%<div" not in body


def test_list_filters_by_kind_state_name_and_organisation(world, as_user, pledge, org_commitment):
    pledge_c = published(world, member=world.member_c, reviewer=world.city_secretary, drafter=world.reviewer,
                         publisher=world.reviewer)
    assessed(pledge, world.secretary_a)
    client = as_user(world.committee_secretary)
    html = html_of(client.get(LIST, {"kind": "org"}))
    assert "李娜" not in html and "第一党支部" in html
    html = html_of(client.get(LIST, {"state": "unreleased"}))
    assert "李娜" in html and "陈喆" not in html
    html = html_of(client.get(LIST, {"state": "unassessed"}))
    assert "李娜" not in html and "陈喆" in html
    html = html_of(client.get(LIST, {"q": "陈"}))
    assert "陈喆" in html and "李娜" not in html
    html = html_of(client.get(LIST, {"org": world.branch_c.pk}))
    assert "陈喆" in html and "李娜" not in html
    assert pledge_c.pk
    # An organisation outside the user's reach is a 404, like a missing one.
    assert client.get(LIST, {"org": world.branch_d.pk}).status_code == 404
    assert as_user(world.secretary_a).get(LIST, {"org": world.committee.pk}).status_code == 404


@pytest.mark.parametrize("who", ["outsider", "member_user_a", "auditor"])
def test_list_is_404_for_non_readers(world, as_user, who):
    assert as_user(getattr(world, who)).get(LIST).status_code == 404


def _list_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST).status_code == 200
    return len(ctx.captured_queries)


def _with_voices(world, c):
    services.leader_comment_save(actor=world.secretary_a, commitment=c, rating="basic", comment="继续努力")
    record_tally(world, c, held_on=DAY(2010, 11, 15), place="会议",
                          satisfied=3, basic=1, unsatisfied=1)
    assessed(c, world.secretary_a)
    ordered(c, world.secretary_a)


def test_list_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.secretary_a)
    for n in range(2):
        _with_voices(world, published(world, member=make_member(world.branch_a, f"评诺{n}")))
    small = _list_queries(client)
    for n in range(2, 10):
        _with_voices(world, published(world, member=make_member(world.branch_a, f"评诺{n}")))
    assert _list_queries(client) == small


def test_bulk_release_reports_each_failure(world, as_user, pledge):
    other = published(world, member=world.member_a2)
    assessed(pledge, world.secretary_a)
    v = summary_for(pledge).version
    client = as_user(world.secretary_a)
    response = client.post(reverse("evaluations:release_bulk"),
                           {"targets": [f"{pledge.pk}:{v}", f"{other.pk}:1"]})
    assert response.status_code == 302
    assert Evaluation.objects.get(pk=pledge.pk).released_at is not None
    shown = messages_of(response)
    assert "已公布 1 条承诺的评议结果。" in shown
    assert any("王堃" in m and "尚未进行组织考核" in m for m in shown)
    # A stale row loses with the conflict message, the rest is unchanged.
    response = client.post(reverse("evaluations:release_bulk"), {"targets": [f"{pledge.pk}:{v}"]})
    assert any(STALE in m for m in messages_of(response))


def test_bulk_release_without_rows_shows_the_error(world, as_user, pledge):
    response = as_user(world.secretary_a).post(reverse("evaluations:release_bulk"), {})
    assert response.status_code == 200 and "请先勾选要公布评议结果的承诺" in html_of(response)
    assert as_user(world.staff_a).post(reverse("evaluations:release_bulk"), {}).status_code == 404


# --- the evaluation page -------------------------------------------------------------------

def test_detail_page_shows_window_sections_and_forms(world, as_user, pledge):
    html = html_of(as_user(world.secretary_a).get(url("detail", pledge)))
    for text in ("2010年11月1日至2010年12月31日", "群众评议已结束", "综合评定", "领导点评", "群众评议", "组织考核",
                 "责令整改", "我来点评", "登记民主测评计票", "保存考核结果", "待考核"):
        assert text in html, text
    assert 'name="assess-version" value="1"' in html
    # Releasing needs an assessment first: the button is drawn disabled, with the reason.
    assert "尚未进行组织考核，不能公布评议结果" in html and "disabled" in html


def test_detail_page_for_the_member_reads_without_forms(world, as_user, pledge):
    html = html_of(as_user(world.member_user_a).get(url("detail", pledge)))
    assert "综合评定" in html and "我来点评" not in html and "保存考核结果" not in html
    assert "登记民主测评计票" not in html


def test_detail_is_404_before_publication_and_for_strangers(world, as_user, pledge):
    draft = approved(world, member=world.member_b, reviewer=world.secretary_b, drafter=world.reviewer)
    assert as_user(world.secretary_b).get(url("detail", draft)).status_code == 404
    assert as_user(world.secretary_b).get(url("detail", pledge)).status_code == 404
    assert as_user(world.outsider).get(url("detail", pledge)).status_code == 404
    assert as_user(world.secretary_a).get(reverse("evaluations:detail", args=[999999])).status_code == 404


def test_leader_comment_is_written_then_rewritten(world, as_user, pledge):
    client = as_user(world.secretary_a)
    response = client.post(url("comment", pledge), {"comment-rating": "basic", "comment-comment": "措施还要再实一些"})
    assert response.status_code == 302 and "领导点评已保存。" in messages_of(response)
    html = html_of(client.get(url("detail", pledge)))
    assert "措施还要再实一些" in html and "修改我的点评" in html
    assert re.search(r'value="basic"[^>]*checked', html)  # the form is filled with the own comment
    client.post(url("comment", pledge), {"comment-rating": "satisfied", "comment-comment": "已改进"})
    comment = LeaderComment.objects.get(commitment=pledge)
    assert (comment.rating, comment.comment, comment.author_org) == ("satisfied", "已改进", world.branch_a)


def test_leader_comment_errors_are_shown_and_nothing_saved(world, as_user, pledge):
    response = as_user(world.secretary_a).post(url("comment", pledge), {"comment-rating": "", "comment-comment": ""})
    assert response.status_code == 200
    assert "请选择评价。" in html_of(response) and "请填写点评意见。" in html_of(response)
    assert not LeaderComment.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "member_user_a", "secretary_b", "outsider"])
def test_leader_comment_by_others_is_404(world, as_user, pledge, who):
    response = as_user(getattr(world, who)).post(url("comment", pledge),
                                                 {"comment-rating": "basic", "comment-comment": "x"})
    assert response.status_code == 404 and not LeaderComment.objects.exists()


def test_tally_is_recorded_and_voided_with_a_reason(world, as_user, pledge):
    client = as_user(world.staff_a)
    response = client.post(url("tally", pledge), {
        "tally-held_on": "2010年11月15日", "tally-place": "社区群众座谈会", "tally-attendees": "30",
        "tally-expected": "32", "tally-mass_representatives": "30",
        "tally-satisfied": "20", "tally-basic": "6", "tally-unsatisfied": "2"})
    assert response.status_code == 302 and "民主测评计票已登记。" in messages_of(response)
    tally = MeetingTally.objects.get(commitment=pledge)
    assert (tally.held_on, tally.total, tally.recorded_by) == (DAY(2010, 11, 15), 28, world.staff_a)
    html = html_of(client.get(url("detail", pledge)))
    assert "社区群众座谈会" in html and "2010年11月15日" in html and "作废" in html
    # No reason: refused on the page, nothing changed.
    response = client.post(url("tally_void", tally), {"reason": ""})
    assert response.status_code == 200 and "请填写作废原因。" in html_of(response)
    assert MeetingTally.objects.get(pk=tally.pk).voided_at is None
    response = client.post(url("tally_void", tally), {"reason": "票数录入错误"})
    assert response.status_code == 302
    tally.refresh_from_db()
    assert tally.voided_at and tally.void_reason == "票数录入错误" and tally.voided_by == world.staff_a
    html = html_of(client.get(url("detail", pledge)))
    assert "<del>社区群众座谈会</del>" in html and "已作废：票数录入错误" in html
    # Voiding twice: the conflict message, shown on the page.
    response = client.post(url("tally_void", tally), {"reason": "再次"})
    assert response.status_code == 200 and "该计票记录已被作废。" in html_of(response)


def test_tally_errors_from_the_service_are_shown(world, as_user, pledge):
    response = as_user(world.staff_a).post(url("tally", pledge), {
        "tally-held_on": "2010-11-15", "tally-place": "会议", "tally-attendees": "2",
        "tally-expected": "2", "tally-mass_representatives": "0",
        "tally-satisfied": "3", "tally-basic": "", "tally-unsatisfied": ""})
    assert response.status_code == 200 and "不能超过到会人数（2）" in html_of(response)
    assert not MeetingTally.objects.exists()


@pytest.mark.parametrize("who", ["secretary_b", "member_user_a", "outsider"])
def test_tally_and_void_by_others_are_404(world, as_user, pledge, who):
    tally = record_tally(world, pledge, held_on=DAY(2010, 11, 15), place="会议",
                                  satisfied=1, basic=0, unsatisfied=0)
    client = as_user(getattr(world, who))
    data = {"tally-held_on": "2010-11-15", "tally-place": "会", "tally-satisfied": "1"}
    assert client.post(url("tally", pledge), data).status_code == 404
    assert client.post(url("tally_void", tally), {"reason": "错"}).status_code == 404
    assert MeetingTally.objects.count() == 1 and MeetingTally.objects.get().voided_at is None


def _assess_data(version, **kw):
    return {"assess-version": version, "assess-result": "partly", "assess-grade": "fair",
            "assess-reason": "两项事项未按期完成。", **kw}


def test_assessment_is_saved_and_a_stale_form_loses(world, as_user, pledge):
    client = as_user(world.secretary_a)
    response = client.post(url("assess", pledge), _assess_data(1))
    assert response.status_code == 302 and "组织考核结果已保存。" in messages_of(response)
    a = Assessment.objects.get(commitment=pledge)
    assert (a.result, a.grade, a.assessor_org, a.assessed_by) == ("partly", "fair", world.branch_a, world.secretary_a)
    assert AuditEvent.objects.filter(action="evaluation.assess").count() == 1
    # Another secretary with the page drawn before that assessment submits version 1 again.
    response = as_user(world.committee_secretary).post(url("assess", pledge), _assess_data(1, **{
        "assess-result": "fulfilled", "assess-grade": "good"}))
    assert response.status_code == 200 and STALE in html_of(response)
    assert Assessment.objects.filter(commitment=pledge).count() == 1


def test_assessment_rules_are_shown_on_the_form(world, as_user, pledge):
    response = as_user(world.secretary_a).post(url("assess", pledge), _assess_data(
        1, **{"assess-result": "unfulfilled", "assess-grade": "excellent"}))
    assert response.status_code == 200 and "等次不能评为优秀或良好" in html_of(response)
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "secretary_b", "member_user_a"])
def test_assess_release_and_rectify_by_others_are_404(world, as_user, pledge, who):
    assessed(pledge, world.secretary_a)
    client = as_user(getattr(world, who))
    assert client.post(url("assess", pledge), _assess_data(2)).status_code == 404
    assert client.post(url("release", pledge), {"release-version": 2}).status_code == 404
    assert client.post(url("rectify", pledge), {"rectify-grounds": "x", "rectify-required_actions": "y",
                                                "rectify-deadline": "2099-01-01"}).status_code == 404
    assert Assessment.objects.count() == 1 and not RectificationOrder.objects.exists()
    assert Evaluation.objects.get(pk=pledge.pk).released_at is None


def test_release_publishes_the_results(world, as_user, pledge):
    assessed(pledge, world.secretary_a)
    client = as_user(world.secretary_a)
    html = html_of(client.get(url("detail", pledge)))
    assert f'name="release-version" value="{summary_for(pledge).version}"' in html
    response = client.post(url("release", pledge), {"release-version": summary_for(pledge).version})
    assert response.status_code == 302 and "评议结果已公布。" in messages_of(response)
    assert Evaluation.objects.get(pk=pledge.pk).released_by == world.secretary_a
    html = html_of(client.get(url("detail", pledge)))
    assert "结果已公布" in html and "我来点评" not in html and "登记民主测评计票" not in html
    # A second release (stale page) shows the conflict.
    response = client.post(url("release", pledge), {"release-version": 2})
    assert response.status_code == 200 and STALE in html_of(response)


def test_release_waits_for_the_window_to_close(world, as_user, pledge):
    open_window(world.campaign)
    assessed(pledge, world.secretary_a)
    client = as_user(world.secretary_a)
    html = html_of(client.get(url("detail", pledge)))
    assert "群众评议进行中" in html and "后才能公布评议结果" in html and "disabled" in html
    response = client.post(url("release", pledge), {"release-version": summary_for(pledge).version})
    assert response.status_code == 200 and "后才能公布评议结果" in html_of(response)
    assert Evaluation.objects.get(pk=pledge.pk).released_at is None


def test_rectification_order_respond_extend_close(world, as_user, pledge):
    assessed(pledge, world.secretary_a)
    secretary = as_user(world.secretary_a)
    html = html_of(secretary.get(url("detail", pledge)))
    assert "下达整改通知" in html and "组织考核结果为“基本兑现”" in html
    deadline = today() + datetime.timedelta(days=30)
    response = secretary.post(url("rectify", pledge), {
        "rectify-grounds": "组织考核结果为“基本兑现”。", "rectify-required_actions": "补齐走访台账",
        "rectify-deadline": deadline.isoformat()})
    assert response.status_code == 302 and "整改通知已下达。" in messages_of(response)
    order = RectificationOrder.objects.get(commitment=pledge)
    assert (order.status, order.deadline, order.issuer_org) == ("open", deadline, world.branch_a)
    # A second order while one is open: no form, and the service refuses it.
    response = secretary.post(url("rectify", pledge), {
        "rectify-grounds": "再", "rectify-required_actions": "再", "rectify-deadline": deadline.isoformat()})
    assert response.status_code == 200 and "该承诺已有未完成的整改通知。" in html_of(response)

    staff = as_user(world.staff_a)
    html = html_of(staff.get(url("detail", pledge)))
    assert "反馈整改情况" in html and "补齐走访台账" in html
    response = staff.post(url("order_respond", order), {"respond-version": order.version,
                                                        "respond-response": "已补齐台账12份"})
    assert response.status_code == 302 and "整改情况已反馈，等待验收。" in messages_of(response)
    # The same form sent again is stale.
    response = staff.post(url("order_respond", order), {"respond-version": order.version,
                                                        "respond-response": "再报"})
    assert response.status_code == 200 and STALE in html_of(response)
    order.refresh_from_db()
    assert order.status == "responded" and order.steps.count() == 2

    secretary = as_user(world.secretary_a)
    later = deadline + datetime.timedelta(days=10)
    response = secretary.post(url("order_extend", order), {"extend-version": order.version,
                                                           "extend-deadline": later.isoformat(),
                                                           "extend-opinion": "台账仍缺照片"})
    assert response.status_code == 302 and "整改期限已延长。" in messages_of(response)
    order.refresh_from_db()
    assert (order.status, order.deadline) == ("open", later)
    as_user(world.staff_a).post(url("order_respond", order), {"respond-version": order.version,
                                                              "respond-response": "照片已补"})
    order.refresh_from_db()
    secretary = as_user(world.secretary_a)
    response = secretary.post(url("order_close", order), {"close-version": order.version, "close-opinion": "验收合格"})
    assert response.status_code == 302 and "整改已验收完成。" in messages_of(response)
    order.refresh_from_db()
    assert order.status == "closed" and [s.kind for s in order.steps.all()] == [
        "issue", "respond", "extend", "respond", "close"]
    html = html_of(secretary.get(url("detail", pledge)))
    assert "已完成整改" in html and "验收完成" in html and "台账仍缺照片" in html
    assert "重新考核" in html  # after a verified rectification the commitment may be assessed again


def test_rectification_needs_grounds(world, as_user, pledge):
    for item in pledge.public_version.snapshot["items"]:  # none overdue (their deadline has long passed)
        record(pledge, world.staff_a, item=item["id"], completes_item=True)
    assessed(pledge, world.secretary_a, result="fulfilled", grade="good")
    client = as_user(world.secretary_a)
    html = html_of(client.get(url("detail", pledge)))
    assert "下达整改通知" not in html and "可以责令整改" in html
    response = client.post(url("rectify", pledge), {"rectify-grounds": "x", "rectify-required_actions": "y",
                                                    "rectify-deadline": "2099-01-01"})
    assert response.status_code == 200 and "不符合责令整改的条件" in html_of(response)
    assert not RectificationOrder.objects.exists()


@pytest.mark.parametrize("who", ["secretary_b", "outsider", "staff_a"])
def test_order_verification_by_others_is_404(world, as_user, pledge, who):
    assessed(pledge, world.secretary_a)
    order = ordered(pledge, world.secretary_a)
    client = as_user(getattr(world, who))
    data = {"extend-version": 1, "extend-deadline": "2099-01-01", "extend-opinion": "x",
            "close-version": 1, "close-opinion": "x"}
    assert client.post(url("order_extend", order), data).status_code == 404
    assert client.post(url("order_close", order), data).status_code == 404
    if who != "staff_a":
        assert client.post(url("order_respond", order), {"respond-version": 1,
                                                         "respond-response": "x"}).status_code == 404
    assert RectificationStep.objects.count() == 1


@pytest.mark.parametrize("name", ["comment", "tally", "assess", "release", "rectify"])
def test_get_on_post_only_urls_is_405(world, as_user, pledge, name):
    assert as_user(world.secretary_a).get(url(name, pledge)).status_code == 405


def test_overdue_order_is_highlighted_on_the_page(world, as_user, pledge):
    assessed(pledge, world.secretary_a)
    make_overdue(ordered(pledge, world.secretary_a))
    html = html_of(as_user(world.staff_a).get(url("detail", pledge)))
    assert "整改已逾期" in html and "bg-danger-subtle" in html


# --- rectification lists and to-dos --------------------------------------------------------

def test_rectification_tabs_filters_and_overdue(world, as_user, pledge):
    other = published(world, member=world.member_a2)
    assessed(pledge, world.secretary_a)
    assessed(other, world.secretary_a)
    late = ordered(pledge, world.secretary_a)
    make_overdue(late)
    ordered(other, world.secretary_a)
    staff = as_user(world.staff_a)
    response = staff.get(RECT)
    html = html_of(response)
    assert response.status_code == 200 and "待我整改" in html and "李娜" in html and "王堃" in html
    assert "已逾期" in html and "table-danger" in html and "反馈整改" in html
    html = html_of(staff.get(RECT, {"tab": "answer", "overdue": "on"}))
    assert "李娜" in html and "王堃" not in html
    html = html_of(staff.get(RECT, {"tab": "verify"}))
    assert "没有您所在党组织下达的整改通知" in html
    html = html_of(as_user(world.secretary_a).get(RECT, {"tab": "verify", "status": "open"}))
    assert "李娜" in html and "王堃" in html
    html = html_of(as_user(world.secretary_a).get(RECT, {"tab": "verify", "status": "closed"}))
    assert "李娜" not in html and "没有符合条件的整改通知" in html
    assert as_user(world.secretary_b).get(RECT, {"tab": "verify"}).status_code == 200
    assert "李娜" not in html_of(as_user(world.secretary_b).get(RECT, {"tab": "verify"}))


def test_home_shows_rectification_and_assessment_todos(world, as_user, pledge):
    html = html_of(as_user(world.secretary_a).get(reverse("home")))
    assert "1 条待考核" in html and f"{LIST}?state=unassessed" in html
    assessed(pledge, world.secretary_a)
    order = ordered(pledge, world.secretary_a)
    html = html_of(as_user(world.staff_a).get(reverse("home")))
    assert "1 条待整改" in html and "整改逾期" not in html
    make_overdue(order)
    html = html_of(as_user(world.staff_a).get(reverse("home")))
    assert "1 条整改逾期" in html and "1 条待整改" in html
    html = html_of(as_user(world.secretary_a).get(reverse("home")))
    assert "下达的整改 1 条逾期" in html and "待考核" not in html
    services.rectification_respond(actor=world.staff_a, order=order, version=order.version, response="已整改")
    html = html_of(as_user(world.secretary_a).get(reverse("home")))
    assert "1 条整改待验收" in html and f"{RECT}?tab=verify&amp;status=responded" in html


# --- the commitment page, the navigation, the campaign settings -----------------------------

def test_commitment_page_links_to_its_evaluation(world, as_user, pledge):
    assessed(pledge, world.secretary_a, result="fulfilled", grade="good")
    html = html_of(as_user(world.staff_a).get(reverse("commitments:detail", args=[pledge.pk])))
    assert url("detail", pledge) in html and "评诺" in html and "综合评定" in html
    draft = approved(world, member=world.member_a2)
    html = html_of(as_user(world.staff_a).get(reverse("commitments:detail", args=[draft.pk])))
    assert url("detail", draft) not in html


def test_navigation_shows_evaluations_to_readers_only(world, as_user):
    assert f'href="{LIST}"' in html_of(as_user(world.staff_a).get(reverse("home")))
    assert f'href="{LIST}"' not in html_of(as_user(world.member_user_a).get(reverse("home")))


CAMPAIGN = {"name": "2011年创先争优公开承诺", "year": 2011, "pledge_deadline": "2011-09-30",
            "publish_deadline": "2011-10-31", "evaluation_deadline": "2011-12-31", "leader_min_items": 3}


def test_campaign_form_saves_the_evaluation_settings(world, as_user):
    client = as_user(world.admin)
    html = html_of(client.get(reverse("commitments:campaign_create")))
    assert "评诺设置" in html and "组织考核权重" in html and "满意率警戒线" in html
    response = client.post(reverse("commitments:campaign_create"), {
        **CAMPAIGN, "evaluation_opens": "2011年11月5日", "weight_assessment": 40, "weight_public": 40,
        "weight_leader": 20, "satisfaction_threshold": 80})
    assert response.status_code == 302
    c = Campaign.objects.get(year=2011)
    assert (c.evaluation_opens, c.weights, c.satisfaction_threshold) == (
        DAY(2011, 11, 5), {"leader": 20, "public": 40, "assessment": 40}, 80)
    response = client.post(reverse("commitments:campaign_edit", args=[c.pk]), {
        **CAMPAIGN, "weight_assessment": 60, "weight_public": 30, "weight_leader": 10, "satisfaction_threshold": 75})
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.evaluation_opens, c.weights["assessment"], c.satisfaction_threshold) == (None, 60, 75)
    assert "权重：考核60%" in html_of(client.get(reverse("commitments:campaign_list")))


def test_campaign_form_refuses_weights_not_summing_to_100(world, as_user):
    client = as_user(world.admin)
    response = client.post(reverse("commitments:campaign_create"), {
        **CAMPAIGN, "weight_assessment": 50, "weight_public": 30, "weight_leader": 30})
    assert response.status_code == 200 and "三项权重之和须为100%，现为110%。" in html_of(response)
    assert not Campaign.objects.filter(year=2011).exists()
    # Left empty, the settings take the defaults.
    assert client.post(reverse("commitments:campaign_create"), CAMPAIGN).status_code == 302
    assert Campaign.objects.get(year=2011).weights == {"leader": 20, "public": 30, "assessment": 50}


def _detail_queries(client, c):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url("detail", c)).status_code == 200
    return len(ctx.captured_queries)


def test_detail_query_count_does_not_grow_with_voices_and_orders(world, client, pledge):
    client.force_login(world.committee_secretary)
    services.leader_comment_save(actor=world.secretary_a, commitment=pledge, rating="basic", comment="一")
    record_tally(world, pledge, held_on=DAY(2010, 11, 15), place="会议",
                          satisfied=3, basic=1, unsatisfied=1)
    assessed(pledge, world.secretary_a)
    order = ordered(pledge, world.secretary_a)
    once = _detail_queries(client, pledge)
    services.leader_comment_save(actor=world.committee_secretary, commitment=pledge, rating="satisfied", comment="二")
    for n in range(4):
        t = record_tally(world, pledge, held_on=DAY(2010, 11, 16), place=f"会{n}",
                                  satisfied=2, basic=1, unsatisfied=0)
        services.tally_void(actor=world.staff_a, tally=t, reason="重复")
    for n in range(2):  # the order answered and closed, a second one too, then a third left open
        order = services.rectification_respond(actor=world.staff_a, order=order, version=order.version,
                                               response="已整改")
        services.rectification_close(actor=world.secretary_a, order=order, version=order.version, opinion="合格")
        order = ordered(pledge, world.secretary_a)
    assert _detail_queries(client, pledge) == once


def test_the_issuing_secretary_does_not_answer_her_own_order(world, as_user, pledge):
    assessed(pledge, world.secretary_a)
    order = ordered(pledge, world.secretary_a)
    client = as_user(world.secretary_a)
    html = html_of(client.get(url("detail", pledge)))
    assert "提交整改情况" not in html and "等待承诺单位反馈整改情况" in html and "延长整改期限" in html
    response = client.post(url("order_respond", order), {"respond-version": order.version, "respond-response": "x"})
    assert response.status_code == 404 and RectificationOrder.objects.get(pk=order.pk).status == "open"


def test_tally_form_states_the_bound_and_is_not_offered_to_the_owner(world, as_user):
    """The reviewing organisation sees how many members the bound is made of; the owner branch's
    secretary has no tally form for his own organisation's commitment and a POST is a 404."""
    from_branch = published(world, organisation=world.branch_a)
    html = html_of(as_user(world.committee_secretary).get(url("detail", from_branch)))
    assert "该组织现有党员2人" in html and "群众代表人数" in html
    owner = as_user(world.secretary_a)
    assert "tally-attendees" not in html_of(owner.get(url("detail", from_branch)))
    response = owner.post(url("tally", from_branch), {
        "tally-held_on": "2010-11-15", "tally-place": "会议", "tally-attendees": "2", "tally-expected": "2",
        "tally-mass_representatives": "0", "tally-satisfied": "2"})
    assert response.status_code == 404 and not MeetingTally.objects.exists()
