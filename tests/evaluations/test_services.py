"""评诺 services on the real database: leader comments, ballots, meeting tallies, assessments,
releasing results and rectification orders; each with who may, when, the Chinese messages and
the audit rows."""
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.anonymity import client_hash_of, salt_for
from commitments.models import Campaign, Commitment, Suggestion
from commitments.services.opinions import suggestion_submit_public
from core.errors import Conflict
from evaluations import services
from evaluations.demo import seed_evaluations
from evaluations.models import (Assessment, Ballot, Evaluation, Fulfilment, Grade, LeaderComment, MeetingTally, Rating,
                                RectificationOrder, RectificationStatus, RectificationStep)
from evaluations.scoring import Tally
from evaluations.selectors import rectification_todo_counts, summaries_for, summary_for
from orgs import audit
from orgs.models import AuditEvent
from tests.commitments.publishing import approved
from tests.conftest import make_member

from .builders import (CLOSED, DAY, OPEN, assessed, cast, closed, complete_items, fresh_address, fresh_token, ordered,
                       published_org, published_pledge, released, responded, tally, version_of)

pytestmark = pytest.mark.django_db
S, B, U = Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED
STALE = "该承诺的评诺已被他人处理，请刷新页面查看最新结果。"
STALE_ORDER = "该整改通知已被他人处理，请刷新页面查看最新状态。"
RELEASED = "评议结果已经公布，不能再修改。"


@pytest.fixture
def pledge(world):
    """member_a's written pledge, published 2010-10-20, reviewed (and assessed) by branch A."""
    return published_pledge(world)


def actions(prefix):
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("id").values_list("action", flat=True))


# --- 领导点评 ------------------------------------------------------------------------------------

def comment(actor, c, rating=S, text="承诺事项落实扎实。"):
    return services.leader_comment_save(actor=actor, commitment=c, rating=rating, comment=text)


def test_branch_secretary_comments_once_and_a_second_save_updates(world, pledge):
    first = comment(world.secretary_a, pledge)
    assert (first.author, first.author_org, first.rating) == (world.secretary_a, world.branch_a, S)
    second = comment(world.secretary_a, pledge, rating=B, text="还需加强宣传。")
    assert second.pk == first.pk
    row = LeaderComment.objects.get()
    assert (row.rating, row.comment) == (B, "还需加强宣传。")
    events = AuditEvent.objects.filter(action="evaluation.comment").order_by("id")
    assert [e.detail["created"] for e in events] == [True, False]
    assert all(e.actor == world.secretary_a and e.organisation == world.branch_a for e in events)


def test_secretaries_above_comment_as_their_own_organisation(world, pledge):
    comment(world.committee_secretary, pledge, rating=U)
    comment(world.city_secretary, pledge, rating=B)
    rows = {c.author: c.author_org for c in LeaderComment.objects.all()}
    assert rows == {world.committee_secretary: world.committee, world.city_secretary: world.root}
    assert summary_for(pledge, today=OPEN).leader_ratings == [U, B]


@pytest.mark.parametrize("actor", ["staff_a", "member_user_a", "secretary_b", "outsider", "reviewer", "auditor"])
def test_non_secretaries_and_outsiders_may_not_comment(world, pledge, actor):
    with pytest.raises(PermissionDenied):
        comment(getattr(world, actor), pledge)
    assert not LeaderComment.objects.exists() and not AuditEvent.objects.filter(action="evaluation.comment").exists()


def test_a_secretary_may_not_comment_on_their_own_pledge(world):
    own = make_member(world.branch_a, "周敏")
    own.user = world.secretary_a
    own.save(update_fields=["user"])
    c = published_pledge(world, member=own, reviewer=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        comment(world.secretary_a, c)
    assert comment(world.committee_secretary, c).pk


def test_comment_fields_are_checked(world, pledge):
    with pytest.raises(ValidationError) as exc:
        services.leader_comment_save(actor=world.secretary_a, commitment=pledge, rating="great", comment="  ")
    assert exc.value.message_dict == {"rating": ["请选择评价。"], "comment": ["请填写点评意见。"]}


def test_no_comment_before_publication(world):
    c = approved(world, member=world.member_a)
    with pytest.raises(Conflict) as exc:
        comment(world.secretary_a, c)
    assert exc.value.message == "该承诺尚未公开，公开后才能开展评议。"


def test_no_comment_after_release(world, pledge):
    comment(world.secretary_a, pledge)
    assessed(world, pledge)
    released(world, pledge)
    with pytest.raises(Conflict) as exc:
        comment(world.secretary_a, pledge, rating=U)
    assert exc.value.message == RELEASED
    with pytest.raises(Conflict):
        comment(world.committee_secretary, pledge)
    assert list(LeaderComment.objects.values_list("rating", flat=True)) == [S]


# --- 群众评议: online ballots -----------------------------------------------------------------------

def ballot(c, *, token=None, address=None, rating=S, remark="", today=OPEN, new_token=False):
    return services.ballot_cast(commitment=c, rating=rating, remark=remark, rater_token=token or fresh_token(),
                                client_address=address or fresh_address(), today=today, new_token=new_token)


def test_a_ballot_is_counted_in_the_summary(pledge):
    b = ballot(pledge, rating=B, remark="  办事还算及时  ")
    assert (b.rating, b.remark) == (B, "办事还算及时")
    assert len(b.rater_hash) == 64 and len(b.client_hash) == 64
    assert summary_for(pledge, today=OPEN).online == Tally(0, 1, 0)


def test_one_ballot_per_rater_token(pledge):
    ballot(pledge, token="browser-1", address="203.0.113.1")
    with pytest.raises(services.AlreadyRated) as exc:
        ballot(pledge, token="browser-1", address="203.0.113.2", rating=U)
    assert exc.value.messages == ["您已评议过该承诺，每人只能评议一次。感谢您的参与！"]
    assert Ballot.objects.count() == 1


def test_the_same_token_may_rate_another_commitment(world, pledge):
    other = published_pledge(world, member=world.member_a2)
    ballot(pledge, token="browser-1")
    ballot(other, token="browser-1")
    assert Ballot.objects.count() == 2


def test_an_empty_token_is_refused(pledge):
    with pytest.raises(ValidationError) as exc:
        services.ballot_cast(commitment=pledge, rating=S, rater_token="", client_address="203.0.113.9", today=OPEN)
    assert exc.value.messages == ["无法识别评议人，请允许浏览器保存Cookie后重试。"]
    assert not Ballot.objects.exists()


def test_hundred_casts_from_one_address_by_browsers_without_a_cookie_count_once(pledge):
    refused = 0
    for _ in range(100):
        try:
            ballot(pledge, address="203.0.113.50", new_token=True)
        except services.TokenRequired as exc:
            assert "没有保存评议凭证（Cookie）" in exc.messages[0] and "您已评议过" not in exc.messages[0]
            refused += 1
    assert refused == 99 and Ballot.objects.count() == 1


def test_hundred_casts_with_one_token_from_many_addresses_count_once(pledge):
    refused = 0
    for _ in range(100):
        try:
            ballot(pledge, token="the-same-browser")
        except services.AlreadyRated:
            refused += 1
    assert refused == 99 and Ballot.objects.count() == 1


def test_distinct_clients_count_separately(pledge):
    ballot(pledge, address="203.0.113.1", rating=S)
    ballot(pledge, address="203.0.113.2", rating=S)
    ballot(pledge, address="203.0.113.3", rating=U)
    assert summary_for(pledge, today=OPEN).online == Tally(2, 0, 1)
    assert Ballot.objects.values("client_hash").distinct().count() == 3


def test_ipv6_clients_in_one_64_are_one_network(settings, pledge):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 1
    ballot(pledge, address="2001:db8:1:2::1")
    with pytest.raises(services.NetworkCapReached):
        ballot(pledge, address="2001:db8:1:2:ffff:ffff:ffff:fffe")
    ballot(pledge, address="2001:db8:1:3::1")
    assert Ballot.objects.count() == 2


def test_ipv4_mapped_address_is_the_ipv4_network(settings, pledge):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 1
    ballot(pledge, address="203.0.113.60")
    with pytest.raises(services.NetworkCapReached):
        ballot(pledge, address="::ffff:203.0.113.60")


def test_hourly_limit_per_client_across_commitments(world, settings, pledge):
    settings.BALLOTS_PER_CLIENT_HOUR = 2
    others = [published_pledge(world, member=world.member_a2), published_org(world)]
    ballot(pledge, address="203.0.113.77")
    ballot(others[0], address="203.0.113.77")
    with pytest.raises(services.RatingThrottled) as exc:
        ballot(others[1], address="203.0.113.77")
    assert exc.value.messages == ["评议提交过于频繁，请稍后再试。"]
    # Another client is not held back.
    ballot(others[1], address="203.0.113.78")
    assert Ballot.objects.count() == 3


@pytest.mark.parametrize("today, message", [
    (DAY(2010, 10, 31), "群众评议尚未开始（评议时间：2010年11月1日至2010年12月31日）。"),
    (DAY(2011, 1, 1), "群众评议已经结束（评议时间：2010年11月1日至2010年12月31日）。"),
])
def test_ballots_outside_the_window_are_refused(pledge, today, message):
    with pytest.raises(ValidationError) as exc:
        ballot(pledge, today=today)
    assert exc.value.messages == [message] and exc.value.code == "closed"
    assert not Ballot.objects.exists()


def test_first_and_last_day_of_the_window_are_open(pledge):
    ballot(pledge, today=DAY(2010, 11, 1))
    ballot(pledge, today=DAY(2010, 12, 31))
    assert Ballot.objects.count() == 2


def test_invalid_rating_is_refused(pledge):
    with pytest.raises(ValidationError) as exc:
        ballot(pledge, rating="excellent")
    assert exc.value.message_dict == {"rating": ["请选择满意、基本满意或不满意。"]}
    assert not Ballot.objects.exists()


def test_remark_over_200_characters_is_refused(pledge):
    with pytest.raises(ValidationError) as exc:
        ballot(pledge, remark="很" * 201)
    assert exc.value.message_dict == {"remark": ["意见不能超过200个字。"]}
    assert ballot(pledge, remark="好" * 200).remark == "好" * 200


def test_unpublished_commitment_takes_no_ballots(world):
    c = approved(world, member=world.member_a)
    with pytest.raises(Conflict) as exc:
        ballot(c)
    assert exc.value.message == "该承诺尚未公开，公开后才能开展评议。"
    assert not Ballot.objects.exists()


def test_ballot_audit_row_keeps_no_address(pledge):
    address = "203.0.113.201"
    token = audit.client_ip_var.set(address)  # as the middleware would for the request
    try:
        b = ballot(pledge, address=address)
        assert audit.client_ip_var.get() == address
    finally:
        audit.client_ip_var.reset(token)
    event = AuditEvent.objects.get(action="evaluation.ballot")
    assert event.client_ip is None and event.actor is None and event.actor_name == "匿名"
    assert event.detail == {"ballot": b.pk}
    row = " ".join(str(v) for v in AuditEvent.objects.filter(pk=event.pk).values().get().values())
    assert address not in row and b.client_hash not in row and b.rater_hash not in row


# --- 群众评议 on shared networks: per browser, capped per network and day ----------------------------

def test_two_browsers_on_one_network_both_rate(pledge):
    ballot(pledge, token="colleague-1", address="203.0.113.90", rating=S)
    ballot(pledge, token="colleague-2", address="203.0.113.90", rating=U)
    assert summary_for(pledge, today=OPEN).online == Tally(1, 0, 1)
    assert Ballot.objects.values("client_hash").distinct().count() == 1


def test_the_same_browser_twice_is_told_it_has_rated(pledge):
    ballot(pledge, token="colleague-1", address="203.0.113.91")
    with pytest.raises(services.AlreadyRated) as exc:
        ballot(pledge, token="colleague-1", address="203.0.113.91")
    assert "您已评议过该承诺" in exc.value.messages[0]


def test_the_31st_ballot_from_one_network_in_a_day_is_refused_with_the_cap(pledge):
    for n in range(30):
        ballot(pledge, address="203.0.113.92")
    with pytest.raises(services.NetworkCapReached) as exc:
        ballot(pledge, address="203.0.113.92")
    assert exc.value.messages == ["该网络今天对该承诺的评议已达上限（30次），请明天再试或换用其他网络。"]
    assert "您已评议过" not in exc.value.messages[0]
    # Another network is not held back.
    ballot(pledge, address="203.0.113.93")
    assert Ballot.objects.count() == 31


def test_the_network_cap_setting_is_honoured(settings, world, pledge):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 3
    for n in range(3):
        ballot(pledge, address="203.0.113.94")
    with pytest.raises(services.NetworkCapReached) as exc:
        ballot(pledge, address="203.0.113.94")
    assert "已达上限（3次）" in exc.value.messages[0]
    ballot(published_pledge(world, member=world.member_a2), address="203.0.113.94")


def test_the_network_cap_resets_the_next_day(settings, pledge):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 2
    ballot(pledge, address="203.0.113.95")
    ballot(pledge, address="203.0.113.95")
    with pytest.raises(services.NetworkCapReached):
        ballot(pledge, address="203.0.113.95")
    # Yesterday's ballots: the network starts the day afresh (the browsers that cast them have not).
    Ballot.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    ballot(pledge, address="203.0.113.95")
    ballot(pledge, address="203.0.113.95")
    with pytest.raises(services.NetworkCapReached):
        ballot(pledge, address="203.0.113.95")
    assert Ballot.objects.count() == 4


def test_hashes_are_keyed_per_campaign(world, pledge):
    other_year = Campaign.objects.create(name="2011年", year=2011, pledge_deadline=DAY(2011, 9, 30),
                                         publish_deadline=DAY(2011, 10, 31), evaluation_deadline=DAY(2011, 12, 31))
    b = ballot(pledge, token="browser-1", address="203.0.113.96")
    salt, other = salt_for(world.campaign), salt_for(other_year)
    assert len(salt) == len(other) == 64 and salt != other
    assert b.client_hash == client_hash_of("203.0.113.96", salt=salt)
    assert b.client_hash != client_hash_of("203.0.113.96", salt=other)
    assert b.rater_hash == services.rater_hash_of("browser-1", salt=salt)
    assert b.rater_hash != services.rater_hash_of("browser-1", salt=other)
    # The salt is made once: later ballots of the campaign are keyed alike.
    assert ballot(pledge, token="browser-2", address="203.0.113.96").client_hash == b.client_hash


def test_release_erases_the_hashes_and_the_ballots_still_count(world, pledge):
    cast(pledge, S, 3)
    cast(pledge, U, 1)
    other = published_pledge(world, member=world.member_a2)
    kept = ballot(other, address="203.0.113.97")
    assessed(world, pledge)
    released(world, pledge)
    # Four blank hashes on one commitment: the uniqueness holds only for hashes that are there.
    assert set(Ballot.objects.filter(commitment=pledge).values_list("rater_hash", "client_hash")) == {("", "")}
    assert summary_for(pledge, today=CLOSED).online == Tally(3, 0, 1)
    assert summary_for(pledge, today=CLOSED).verdict.satisfaction_rate == 75.0
    # Another commitment's ballots wait for its own release (or the campaign's erasure).
    assert Ballot.objects.get(pk=kept.pk).rater_hash == kept.rater_hash
    event = AuditEvent.objects.get(action="evaluation.release")
    assert event.detail["erased_hashes"] == {"ballots": 4, "suggestions": 0}


def test_release_erases_the_campaigns_suggester_hashes_past_the_hour_the_box_counts(world, pledge):
    old = suggestion_submit_public(organisation=world.branch_a, content="希望多开展走访活动", client_address="203.0.113.99")
    Suggestion.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=2))
    recent = suggestion_submit_public(organisation=world.branch_a, content="希望公开办事流程", client_address="203.0.113.99")
    assessed(world, pledge)
    released(world, pledge)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.client_hash == "" and len(recent.client_hash) == 64


def test_no_ballot_after_release_even_if_the_window_is_moved_later(world, pledge):
    cast(pledge, S, 1)
    assessed(world, pledge)
    released(world, pledge)
    Campaign.objects.filter(pk=world.campaign.pk).update(evaluation_deadline=DAY(2011, 3, 31))
    with pytest.raises(ValidationError) as exc:
        ballot(pledge, today=DAY(2011, 2, 1))
    assert exc.value.code == "closed" and exc.value.messages == ["评议结果已经公布，群众评议已经结束。"]
    assert Ballot.objects.count() == 1


def test_campaign_erasure_blanks_every_hash_destroys_the_salt_and_is_audited(world, pledge):
    cast(pledge, S, 2)
    other = published_pledge(world, member=world.member_a2)
    cast(other, B, 1)
    suggestion = suggestion_submit_public(organisation=world.branch_a, content="希望多开展走访活动",
                                          client_address="203.0.113.98")
    counts = services.rater_hashes_erase(actor=world.admin, campaign=world.campaign, today=CLOSED)
    assert counts == {"ballots": 3, "suggestions": 1}
    assert set(Ballot.objects.values_list("rater_hash", "client_hash")) == {("", "")}
    suggestion.refresh_from_db()
    assert suggestion.client_hash == ""
    world.campaign.refresh_from_db()
    assert world.campaign.hash_salt == "" and world.campaign.hashes_erased_at is not None
    event = AuditEvent.objects.get(action="evaluation.erase_hashes")
    assert event.actor == world.admin and event.detail == {"year": 2010, "ballots": 3, "suggestions": 1}
    assert summary_for(pledge, today=CLOSED).online == Tally(2, 0, 0)
    # Erased = closed for good, even were the window moved later.
    Campaign.objects.filter(pk=world.campaign.pk).update(evaluation_deadline=DAY(2011, 3, 31))
    with pytest.raises(ValidationError) as exc:
        ballot(other, today=DAY(2011, 2, 1))
    assert exc.value.code == "closed"


@pytest.mark.parametrize("persona", ["secretary_a", "committee_secretary", "outsider"])
def test_only_a_root_administrator_erases_a_campaigns_hashes(world, pledge, persona):
    cast(pledge, S, 1)
    with pytest.raises(PermissionDenied):
        services.rater_hashes_erase(actor=getattr(world, persona), campaign=world.campaign, today=CLOSED)
    assert Ballot.objects.exclude(rater_hash="").count() == 1
    assert not AuditEvent.objects.filter(action="evaluation.erase_hashes").exists()


def test_hashes_are_not_erased_while_the_window_is_open(world, pledge):
    cast(pledge, S, 1)
    with pytest.raises(ValidationError) as exc:
        services.rater_hashes_erase(actor=world.admin, campaign=world.campaign, today=OPEN)
    assert exc.value.messages == ["群众评议截止（2010年12月31日）后才能清除评议人标识。"]
    assert Ballot.objects.exclude(rater_hash="").count() == 1


def test_erase_command(world, pledge, monkeypatch):
    cast(pledge, S, 1)
    monkeypatch.setattr(services.timezone, "localdate", lambda: CLOSED)
    out = io.StringIO()
    call_command("erase_rater_hashes", "2010", stdout=out)
    assert "已清除2010年度 1 张评议票、0 条意见建议的评议人标识" in out.getvalue()
    assert set(Ballot.objects.values_list("rater_hash", "client_hash")) == {("", "")}
    event = AuditEvent.objects.get(action="evaluation.erase_hashes")
    assert event.actor is None and event.detail["ballots"] == 1


# --- 民主测评 meeting tallies -------------------------------------------------------------------------

def test_tally_is_added_to_online_ballots(world, pledge):
    cast(pledge, S, 2)
    cast(pledge, U, 1)
    t = tally(world, pledge, satisfied=10, basic=5, unsatisfied=1, attendees=20)
    assert (t.total, t.recorded_by, t.attendees) == (16, world.staff_a, 20)
    tally(world, pledge, satisfied=1, basic=0, unsatisfied=0, held_on=DAY(2010, 11, 21), place="社区会议室")
    s = summaries_for([pledge], today=CLOSED)[pledge.pk]
    assert s.online == Tally(2, 0, 1) and s.meetings == Tally(11, 5, 1) and s.tally == Tally(13, 5, 2)
    # (13 + 5) / 20 = 90 %; (1300 + 300) / 20 = 80.
    assert s.verdict.satisfaction_rate == 90.0 and s.tally.score == 80.0 and s.verdict.votes == 20
    event = AuditEvent.objects.filter(action="evaluation.tally").order_by("id").first()
    assert event.actor == world.staff_a and event.organisation == world.branch_a
    assert event.detail["counts"] == {"satisfied": 10, "basic": 5, "unsatisfied": 1, "attendees": 20,
                                      "expected": 20, "mass_representatives": 18}


def test_running_tally_is_hidden_while_the_window_is_open(world, pledge):
    tally(world, pledge, satisfied=1, unsatisfied=9)
    assessed(world, pledge)
    v = summary_for(pledge, today=OPEN).verdict
    assert v.satisfaction_rate is None and v.votes == 0 and "群众评议" in v.missing
    assert summary_for(pledge, today=CLOSED).verdict.satisfaction_rate == 10.0


def test_tally_accepts_numeric_strings(world, pledge):
    t = tally(world, pledge, satisfied="7", basic="", unsatisfied="0", attendees="9", expected="9")
    assert (t.satisfied, t.basic, t.unsatisfied, t.attendees, t.expected) == (7, 0, 0, 9, 9)


@pytest.mark.parametrize("change, errors", [
    (dict(held_on=None), {"held_on": ["请填写测评日期。"]}),
    (dict(held_on=DAY(2010, 10, 19)), {"held_on": ["测评日期不能早于承诺公开日期（2010年10月20日）。"]}),
    (dict(place=" "), {"place": ["请填写测评地点。"]}),
    (dict(satisfied=0, basic=0, unsatisfied=0), {"satisfied": ["三项票数不能都为0。"]}),
    (dict(attendees=None), {"attendees": ["请填写到会人数。"]}),
    (dict(attendees=""), {"attendees": ["请填写到会人数。"]}),
    (dict(expected=None), {"expected": ["请填写应到人数。"]}),
    (dict(attendees=10), {"attendees": ["满意、基本满意、不满意人数之和（16）不能超过到会人数（10）。"]}),
    (dict(expected=18), {"expected": ["到会人数（20）不能超过应到人数（18）。"]}),
    (dict(mass_representatives=10),
     {"expected": ["应到人数（22）不能超过该组织党员人数（2人）与群众代表人数（10人）之和。"]}),
    (dict(satisfied=100_000, basic=0, unsatisfied=0, attendees=100_000, expected=100_000, mass_representatives=0),
     {"expected": ["应到人数（100000）不能超过该组织党员人数（2人）与群众代表人数（0人）之和。"]}),
    (dict(basic=-1), {"basic": ["请填写0至100000之间的整数。"]}),
    (dict(unsatisfied=100_001), {"unsatisfied": ["请填写0至100000之间的整数。"]}),
    (dict(satisfied="十"), {"satisfied": ["请填写整数。"]}),
    (dict(basic="3.5"), {"basic": ["请填写整数。"]}),
    (dict(attendees="many"), {"attendees": ["请填写整数。"]}),
])
def test_tally_validation(world, pledge, change, errors):
    """四（五）: votes ≤ 到会人数 ≤ 应到人数 ≤ the branch's members + the declared 群众代表 (branch A has
    two members), so a tally of 100,000 满意 can no longer be entered."""
    args = dict(held_on=DAY(2010, 11, 20), place="支部活动室", satisfied=10, basic=5, unsatisfied=1,
                attendees=20, expected=22, mass_representatives=20)
    args.update(change)
    with pytest.raises(ValidationError) as exc:
        services.tally_record(actor=world.staff_a, commitment=pledge, **args)
    assert exc.value.message_dict == errors
    assert not MeetingTally.objects.exists() and not AuditEvent.objects.filter(action="evaluation.tally").exists()


def test_tally_within_the_bounds_is_recorded(world, pledge):
    t = services.tally_record(actor=world.staff_a, commitment=pledge, held_on=DAY(2010, 11, 20), place="支部活动室",
                              satisfied=10, basic=5, unsatisfied=1, attendees=20, expected=22,
                              mass_representatives=20)
    assert (t.attendees, t.expected, t.mass_representatives) == (20, 22, 20)
    event = AuditEvent.objects.get(action="evaluation.tally")
    assert event.detail["members"] == 2 and event.detail["counts"]["expected"] == 22


def test_fractional_vote_count_is_refused_not_truncated(world, pledge):
    with pytest.raises(ValidationError) as exc:
        tally(world, pledge, satisfied=3.5)
    assert exc.value.message_dict == {"satisfied": ["请填写整数。"]}


def test_tally_in_the_future_is_refused(world, pledge):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        tally(world, pledge, satisfied=3, held_on=tomorrow)
    assert exc.value.message_dict == {"held_on": ["测评日期不能晚于今天。"]}
    assert tally(world, pledge, satisfied=3, held_on=timezone.localdate()).pk


def test_tally_on_the_publication_day_is_accepted(world, pledge):
    assert tally(world, pledge, satisfied=3, held_on=DAY(2010, 10, 20)).pk


@pytest.mark.parametrize("actor", ["member_user_a", "outsider", "secretary_b", "auditor"])
def test_who_may_not_record_a_tally(world, pledge, actor):
    with pytest.raises(PermissionDenied):
        tally(world, pledge, satisfied=3, actor=getattr(world, actor))
    assert not MeetingTally.objects.exists()


@pytest.mark.parametrize("actor", ["secretary_a", "staff_a"])
def test_officers_of_the_owner_organisation_record_no_tally_for_its_commitment(world, actor):
    """四（五）: the owner's officers do not count the votes on their own organisation's commitment;
    the reviewing organisation (the committee) does."""
    c = published_org(world)
    with pytest.raises(PermissionDenied):
        tally(world, c, satisfied=3, actor=getattr(world, actor))
    assert tally(world, c, satisfied=3, actor=world.committee_secretary).pk


def test_an_officer_above_who_also_belongs_to_the_branch_records_no_tally_for_it(world):
    """A role held higher up does not lift the rule: the committee secretary who is also a member of
    branch A is still counting votes on his own organisation's commitment."""
    make_member(world.branch_a, "机关党委书记", user=world.committee_secretary)
    c = published_org(world)
    with pytest.raises(PermissionDenied):
        tally(world, c, satisfied=3, actor=world.committee_secretary)
    assert tally(world, c, satisfied=3, actor=world.city_secretary).pk


def test_nobody_records_a_tally_for_their_own_pledge(world):
    own = published_pledge(world)
    secretary_member = make_member(world.branch_a, "一支部书记", user=world.secretary_a)
    secretary_pledge = published_pledge(world, member=secretary_member, reviewer=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        tally(world, own, satisfied=3, actor=world.member_user_a)
    with pytest.raises(PermissionDenied):
        tally(world, secretary_pledge, satisfied=3, actor=world.secretary_a)
    assert tally(world, secretary_pledge, satisfied=3, actor=world.staff_a).pk


@pytest.mark.parametrize("actor", ["staff_a", "secretary_a", "committee_secretary", "reviewer"])
def test_officers_over_the_owner_record_tallies(world, pledge, actor):
    assert tally(world, pledge, satisfied=3, actor=getattr(world, actor)).recorded_by == getattr(world, actor)


def test_void_removes_the_tally_from_the_count_and_keeps_the_row(world, pledge):
    wrong = tally(world, pledge, satisfied=100, unsatisfied=1)
    tally(world, pledge, satisfied=8, basic=2)
    services.tally_void(actor=world.secretary_a, tally=wrong, reason="满意票数录入错误")
    wrong.refresh_from_db()
    assert wrong.voided_at is not None and wrong.voided_by == world.secretary_a
    assert wrong.void_reason == "满意票数录入错误"
    assert MeetingTally.objects.count() == 2
    assert summary_for(pledge, today=CLOSED).meetings == Tally(8, 2, 0)
    event = AuditEvent.objects.get(action="evaluation.tally_void")
    assert event.detail == {"tally": wrong.pk, "reason": "满意票数录入错误"}
    with pytest.raises(Conflict) as exc:
        services.tally_void(actor=world.secretary_a, tally=wrong, reason="再次作废")
    assert exc.value.message == "该计票记录已被作废。"


def test_void_needs_a_reason_and_an_officer(world, pledge):
    t = tally(world, pledge, satisfied=3)
    with pytest.raises(ValidationError) as exc:
        services.tally_void(actor=world.staff_a, tally=t, reason=" ")
    assert exc.value.message_dict == {"reason": ["请填写作废原因。"]}
    for actor in (world.member_user_a, world.outsider, world.secretary_b):
        with pytest.raises(PermissionDenied):
            services.tally_void(actor=actor, tally=t, reason="错误")
    t.refresh_from_db()
    assert t.voided_at is None


def test_no_tally_or_void_after_release(world, pledge):
    t = tally(world, pledge, satisfied=3)
    assessed(world, pledge)
    released(world, pledge)
    with pytest.raises(Conflict) as exc:
        tally(world, pledge, satisfied=1)
    assert exc.value.message == RELEASED
    with pytest.raises(Conflict):
        services.tally_void(actor=world.staff_a, tally=t, reason="错误")


# --- 组织考核 ---------------------------------------------------------------------------------------

def assess(world, c, *, version=None, result=Fulfilment.FULFILLED, grade=Grade.GOOD, reason="按期完成。",
           actor=None):
    return services.assess(actor=actor or world.secretary_a, commitment=c,
                           version=version_of(c) if version is None else version,
                           result=result, grade=grade, reason=reason)


def test_assessment_happy_path(world, pledge):
    a = assess(world, pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR, reason="  一项未完成。 ")
    assert (a.result, a.grade, a.reason, a.assessor_org, a.assessed_by) == (
        Fulfilment.PARTLY, Grade.FAIR, "一项未完成。", world.branch_a, world.secretary_a)
    assert Evaluation.objects.get(pk=pledge.pk).version == 2
    event = AuditEvent.objects.get(action="evaluation.assess")
    assert event.organisation == world.branch_a
    assert event.detail == {"result": "partly", "grade": "fair", "released": False}


def test_assessor_above_acts_as_their_organisation(world, pledge):
    assert assess(world, pledge, actor=world.city_secretary).assessor_org == world.root


@pytest.mark.parametrize("result, grade, errors", [
    (Fulfilment.UNFULFILLED, Grade.EXCELLENT, {"grade": ["考核结果为“未兑现”的，等次不能评为优秀或良好。"]}),
    (Fulfilment.UNFULFILLED, Grade.GOOD, {"grade": ["考核结果为“未兑现”的，等次不能评为优秀或良好。"]}),
    (Fulfilment.FULFILLED, Grade.POOR, {"grade": ["考核结果为“已兑现”的，等次不能评为较差。"]}),
    ("done", Grade.GOOD, {"result": ["请选择考核结果。"]}),
    (Fulfilment.PARTLY, "top", {"grade": ["请选择等次。"]}),
])
def test_grade_must_fit_the_result(world, pledge, result, grade, errors):
    with pytest.raises(ValidationError) as exc:
        assess(world, pledge, result=result, grade=grade)
    assert exc.value.message_dict == errors
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("result, grade", [
    (Fulfilment.UNFULFILLED, Grade.FAIR), (Fulfilment.UNFULFILLED, Grade.POOR), (Fulfilment.PARTLY, Grade.POOR),
    (Fulfilment.PARTLY, Grade.EXCELLENT), (Fulfilment.FULFILLED, Grade.FAIR),
])
def test_consistent_grades_are_accepted(world, pledge, result, grade):
    assert assess(world, pledge, result=result, grade=grade).grade == grade


def test_assessment_needs_a_reason(world, pledge):
    with pytest.raises(ValidationError) as exc:
        assess(world, pledge, reason="")
    assert exc.value.message_dict == {"reason": ["请填写考核意见。"]}


@pytest.mark.parametrize("actor", ["staff_a", "secretary_b", "member_user_a", "outsider", "reviewer"])
def test_who_may_not_assess(world, pledge, actor):
    with pytest.raises(PermissionDenied):
        assess(world, pledge, actor=getattr(world, actor))
    assert not Assessment.objects.exists()


def test_branch_secretary_may_not_assess_the_branchs_own_commitment(world):
    c = published_org(world)
    with pytest.raises(PermissionDenied):
        assess(world, c, actor=world.secretary_a)
    assert assess(world, c, actor=world.committee_secretary).assessor_org == world.committee


def test_stale_version_loses(world, pledge):
    version = version_of(pledge)
    assess(world, pledge, version=version)
    with pytest.raises(Conflict) as exc:
        assess(world, pledge, version=version, actor=world.committee_secretary, result=Fulfilment.PARTLY,
               grade=Grade.FAIR)
    assert "已被他人处理" in exc.value.message and exc.value.message == STALE
    assert Assessment.objects.count() == 1


def test_history_is_kept_and_the_latest_counts(world, pledge):
    assess(world, pledge, result=Fulfilment.FULFILLED, grade=Grade.EXCELLENT)
    latest = assess(world, pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR, reason="复核后调整。")
    assert Assessment.objects.filter(commitment=pledge).count() == 2
    s = summary_for(pledge, today=OPEN)
    assert s.assessment == latest and s.verdict.result == Fulfilment.PARTLY and s.version == 3
    assert actions("evaluation.assess") == ["evaluation.assess"] * 2


def test_reassessment_refused_while_an_order_is_open(world, pledge):
    assess(world, pledge, result=Fulfilment.UNFULFILLED, grade=Grade.POOR)
    order = ordered(world, pledge)
    with pytest.raises(Conflict) as exc:
        assess(world, pledge)
    assert exc.value.message == "整改尚未验收，验收后才能重新考核。"
    responded(world, order)
    with pytest.raises(Conflict):
        assess(world, pledge)
    closed(world, order)
    assert assess(world, pledge).result == Fulfilment.FULFILLED


def test_first_assessment_allowed_while_an_order_is_open(world, pledge):
    # Ordered on overdue items (督促检查) before anyone assessed: the first assessment may follow.
    ordered(world, pledge, actor=world.committee_secretary, today=CLOSED)
    assert assess(world, pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR).pk


def test_after_release_reassessment_needs_a_closed_order(world, pledge):
    assess(world, pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR)
    released(world, pledge)
    with pytest.raises(Conflict) as exc:
        assess(world, pledge)
    assert exc.value.message == RELEASED + "整改验收后方可重新考核。"
    order = ordered(world, pledge, today=CLOSED)
    responded(world, order)
    closed(world, order)
    again = assess(world, pledge, result=Fulfilment.FULFILLED, grade=Grade.GOOD, reason="整改到位。")
    s = summary_for(pledge, today=CLOSED)
    assert s.assessment == again and s.is_released and s.verdict.result == Fulfilment.FULFILLED
    assert AuditEvent.objects.filter(action="evaluation.assess").order_by("-id").first().detail["released"] is True
    # One reassessment per closed order.
    with pytest.raises(Conflict):
        assess(world, pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR)


def _rich(world, member):
    """A published pledge with every voice: two comments, ballots, a tally and an assessment."""
    c = published_pledge(world, member=member)
    comment(world.secretary_a, c)
    comment(world.committee_secretary, c, rating=B)
    cast(c, S, 2)
    cast(c, U, 1)
    tally(world, c, satisfied=5, basic=1)
    assessed(world, c, Fulfilment.PARTLY)
    return c


def _summaries_queries(ids):
    commitments = list(Commitment.objects.filter(pk__in=ids).select_related("campaign"))
    with CaptureQueriesContext(connection) as ctx:
        out = summaries_for(commitments, today=CLOSED)
        verdicts = [s.verdict for s in out.values()]
    return len(ctx.captured_queries), out, verdicts


def test_summaries_take_a_fixed_number_of_queries(world):
    first = _rich(world, world.member_a)
    one, _, _ = _summaries_queries([first.pk])
    many = [first] + [_rich(world, make_member(world.branch_a, f"党员{n}")) for n in range(5)]
    ordered(world, many[1], today=OPEN)
    n, out, verdicts = _summaries_queries([c.pk for c in many])
    assert n == one == 6
    assert all(v.result is not None for v in verdicts) and len(out) == 6
    assert out[many[1].pk].open_order is not None and out[many[2].pk].open_order is None
    assert out[first.pk].tally == Tally(7, 1, 1) and sorted(out[first.pk].leader_ratings) == [B, S]


def test_summaries_of_nothing_take_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert summaries_for([]) == {}


# --- releasing results --------------------------------------------------------------------------------

def test_release_refused_while_the_window_is_open(world, pledge):
    assessed(world, pledge)
    with pytest.raises(ValidationError) as exc:
        released(world, pledge, today=DAY(2010, 12, 31))
    assert exc.value.messages == ["群众评议截止（2010年12月31日）后才能公布评议结果。"]
    assert Evaluation.objects.get(pk=pledge.pk).released_at is None


def test_release_refused_without_assessment(world, pledge):
    with pytest.raises(ValidationError) as exc:
        released(world, pledge)
    assert exc.value.messages == ["尚未进行组织考核，不能公布评议结果。"]


def test_release_after_the_window_with_an_assessment(world, pledge):
    comment(world.secretary_a, pledge)
    cast(pledge, S, 3)
    cast(pledge, U, 1)
    assessed(world, pledge)
    evaluation = released(world, pledge, today=DAY(2011, 1, 1))
    assert evaluation.released_at is not None and evaluation.released_by == world.secretary_a
    event = AuditEvent.objects.get(action="evaluation.release")
    # (20 × 100 + 30 × 75 + 50 × 100) / 100 = 92.5
    assert event.detail == {"score": 92.5, "result": "fulfilled", "satisfaction_rate": 75.0,
                            "erased_hashes": {"ballots": 4, "suggestions": 0}}
    assert event.organisation == world.branch_a


def test_second_release_conflicts(world, pledge):
    assessed(world, pledge)
    stale = version_of(pledge)
    released(world, pledge)
    with pytest.raises(Conflict) as exc:
        released(world, pledge)
    assert exc.value.message == "评议结果已经公布。"
    with pytest.raises(Conflict) as exc:
        services.results_release(actor=world.secretary_a, commitment=pledge, version=stale, today=CLOSED)
    assert exc.value.message == STALE
    assert AuditEvent.objects.filter(action="evaluation.release").count() == 1


@pytest.mark.parametrize("actor", ["staff_a", "secretary_b", "outsider"])
def test_who_may_not_release(world, pledge, actor):
    assessed(world, pledge)
    with pytest.raises(PermissionDenied):
        released(world, pledge, actor=getattr(world, actor))


def test_bulk_release_reports_each_failure(world, pledge):
    ok = pledge
    assessed(world, ok)
    unassessed = published_pledge(world, member=world.member_a2)
    stale = published_pledge(world, member=make_member(world.branch_a, "赵敏"))
    assessed(world, stale)
    not_mine = published_org(world)
    assessed(world, not_mine)
    targets = [(ok.pk, version_of(ok)), (unassessed.pk, version_of(unassessed)), (stale.pk, 1),
               (not_mine.pk, version_of(not_mine)), (999_999, 1)]
    done, failed = services.results_release_bulk(actor=world.secretary_a, targets=targets, today=CLOSED)
    assert done == [ok.pk]
    assert failed == {
        unassessed.pk: "尚未进行组织考核，不能公布评议结果。",
        stale.pk: STALE,
        not_mine.pk: "该承诺不存在或您无权处理。",
        999_999: "该承诺不存在或您无权处理。",
    }
    assert list(Evaluation.objects.filter(released_at__isnull=False).values_list("pk", flat=True)) == [ok.pk]
    # A failed row rolled back alone: the committee can still release its own.
    done, failed = services.results_release_bulk(actor=world.committee_secretary,
                                                 targets=[(not_mine.pk, version_of(not_mine))], today=CLOSED)
    assert (done, failed) == ([not_mine.pk], {})


def test_bulk_release_tells_nothing_of_a_commitment_out_of_reach(world):
    """Another organisation's commitment, published or not, answers as an id that does not exist:
    its state (尚未公开) is not told to who may not act on it."""
    unpublished = approved(world, member=world.member_b, reviewer=world.secretary_b, drafter=world.staff_a)
    targets = [(unpublished.pk, 1), (999_999, 1)]
    done, failed = services.results_release_bulk(actor=world.secretary_a, targets=targets, today=CLOSED)
    assert done == []
    assert failed == {unpublished.pk: "该承诺不存在或您无权处理。", 999_999: "该承诺不存在或您无权处理。"}


# --- 责令整改 ---------------------------------------------------------------------------------------

NO_GROUNDS = ("该承诺考核结果不是“基本兑现”或“未兑现”，群众满意率不低于70%，也没有逾期未完成的事项，"
              "不符合责令整改的条件。")


def issue_basis():
    return AuditEvent.objects.filter(action="rectification.issue").order_by("-id").first().detail["basis"]


def test_no_order_without_grounds(world, pledge):
    assessed(world, pledge, Fulfilment.FULFILLED)
    with pytest.raises(ValidationError) as exc:
        ordered(world, pledge, today=OPEN)
    assert exc.value.messages == [NO_GROUNDS]
    assert not RectificationOrder.objects.exists()


def test_no_order_on_a_fulfilled_well_rated_commitment_after_the_window(world, pledge):
    complete_items(world, pledge)
    comment(world.secretary_a, pledge)
    cast(pledge, S, 3)
    cast(pledge, B, 1)
    assessed(world, pledge, Fulfilment.FULFILLED)
    with pytest.raises(ValidationError) as exc:
        ordered(world, pledge, today=CLOSED, deadline=DAY(2011, 2, 28))
    assert exc.value.messages == [NO_GROUNDS]


def test_unfulfilled_assessment_allows_an_order(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    assert (order.status, order.issuer_org, order.issued_by, order.version) == (
        RectificationStatus.OPEN, world.branch_a, world.secretary_a, 1)
    assert issue_basis() == ["组织考核结果为“未兑现”"]


def test_partly_fulfilled_assessment_allows_an_order(world, pledge):
    assessed(world, pledge, Fulfilment.PARTLY)
    assert ordered(world, pledge).pk
    assert issue_basis() == ["组织考核结果为“基本兑现”"]


def test_overdue_items_allow_a_higher_organisation_to_order(world, pledge):
    # 督促检查: the city committee orders a member's pledge whose items passed their deadline.
    order = ordered(world, pledge, actor=world.city_secretary, today=CLOSED)
    assert order.issuer_org == world.root and order.issued_by == world.city_secretary
    assert issue_basis() == ["2项承诺事项逾期未完成"]
    assert AuditEvent.objects.get(action="rectification.issue").organisation == world.root


def test_satisfaction_below_the_threshold_allows_an_order(world, pledge):
    complete_items(world, pledge)
    tally(world, pledge, satisfied=1, unsatisfied=2)
    # (While the window is open the interim rate is a ground too: tests/evaluations/test_interim.py.)
    order = ordered(world, pledge, actor=world.committee_secretary, today=CLOSED)
    assert order.issuer_org == world.committee and not order.interim_basis
    assert issue_basis() == ["群众满意率33.3%，低于70%"]


def test_satisfaction_at_the_threshold_is_no_ground(world, pledge):
    complete_items(world, pledge)
    tally(world, pledge, satisfied=5, basic=2, unsatisfied=3)  # exactly 70 %
    with pytest.raises(ValidationError) as exc:
        ordered(world, pledge, today=CLOSED)
    assert exc.value.messages == [NO_GROUNDS]


def test_threshold_is_the_campaigns(world, pledge):
    Campaign.objects.filter(pk=world.campaign.pk).update(satisfaction_threshold=30)
    complete_items(world, pledge)
    tally(world, pledge, satisfied=1, unsatisfied=2)
    with pytest.raises(ValidationError) as exc:
        ordered(world, pledge, today=CLOSED)
    assert "群众满意率不低于30%" in exc.value.messages[0]


def test_combined_verdict_unfulfilled_is_a_ground(world, pledge):
    complete_items(world, pledge)
    comment(world.secretary_a, pledge, rating=U)
    comment(world.committee_secretary, pledge, rating=U)
    cast(pledge, U, 3)
    cast(pledge, S, 1)  # 25 % satisfied
    assessed(world, pledge, Fulfilment.FULFILLED, Grade.FAIR)
    # (20 × 0 + 30 × 25 + 50 × 100) / 100 = 57.5
    assert summary_for(pledge, today=CLOSED).verdict.score == 57.5
    ordered(world, pledge, today=CLOSED)
    assert issue_basis() == ["综合评定为“未兑现”", "群众满意率25%，低于70%"]


@pytest.mark.parametrize("change, errors", [
    (dict(grounds=" "), {"grounds": ["请填写整改原因。"]}),
    (dict(required_actions=""), {"required_actions": ["请填写整改要求。"]}),
    (dict(deadline=None), {"deadline": ["请填写整改期限。"]}),
    (dict(deadline=OPEN), {"deadline": ["整改期限须晚于2010年11月15日。"]}),
])
def test_order_fields_are_checked(world, pledge, change, errors):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    with pytest.raises(ValidationError) as exc:
        ordered(world, pledge, **change)
    assert exc.value.message_dict == errors
    assert not RectificationOrder.objects.exists()


@pytest.mark.parametrize("actor", ["staff_a", "secretary_b", "member_user_a", "outsider"])
def test_who_may_not_order(world, pledge, actor):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    with pytest.raises(PermissionDenied):
        ordered(world, pledge, actor=getattr(world, actor))


def test_second_open_order_is_refused(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    with pytest.raises(Conflict) as exc:
        ordered(world, pledge, actor=world.committee_secretary)
    assert exc.value.message == "该承诺已有未完成的整改通知。"
    responded(world, order)
    with pytest.raises(Conflict):
        ordered(world, pledge)
    closed(world, order)
    # Once closed, a new order may follow (grounds still hold: the assessment still says 未兑现).
    assert ordered(world, pledge).pk != order.pk
    assert RectificationOrder.objects.count() == 2


def test_the_issuer_does_not_answer_their_own_order_nor_the_responder_verify(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge, actor=world.secretary_a)
    with pytest.raises(PermissionDenied):
        responded(world, order, actor=world.secretary_a)
    # The city secretary is an officer over the branch (may answer) and above the issuer (may
    # verify), but not both on one order: separation of duties.
    responded(world, order, actor=world.city_secretary)
    with pytest.raises(PermissionDenied):
        closed(world, order, actor=world.city_secretary)
    assert closed(world, order, actor=world.secretary_a).status == RectificationStatus.CLOSED


@pytest.mark.parametrize("actor", ["member_user_a", "staff_a", "city_secretary"])
def test_the_owner_responds(world, pledge, actor):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = responded(world, ordered(world, pledge), actor=getattr(world, actor))
    assert order.status == RectificationStatus.RESPONDED and order.version == 2
    step = order.steps.order_by("-id").first()
    assert (step.kind, step.actor, step.text) == ("respond", getattr(world, actor), "已完成全部事项，附走访台账。")


@pytest.mark.parametrize("actor", ["secretary_b", "outsider", "auditor"])
def test_others_may_not_respond(world, pledge, actor):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    with pytest.raises(PermissionDenied):
        responded(world, order, actor=getattr(world, actor))


def test_response_text_is_required_and_responding_twice_conflicts(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    with pytest.raises(ValidationError) as exc:
        responded(world, order, response="  ")
    assert exc.value.message_dict == {"response": ["请填写整改情况。"]}
    responded(world, order)
    with pytest.raises(Conflict) as exc:
        responded(world, order)
    assert exc.value.message == STALE_ORDER


def test_close_requires_a_response(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    with pytest.raises(Conflict) as exc:
        closed(world, order)
    assert exc.value.message == "整改单位尚未反馈整改情况，不能验收。"
    responded(world, order)
    with pytest.raises(ValidationError) as exc:
        closed(world, order, opinion="")
    assert exc.value.message_dict == {"opinion": ["请填写验收意见。"]}
    order = closed(world, order)
    assert order.status == RectificationStatus.CLOSED and order.closed_at is not None


def test_closing_a_closed_order_does_not_say_it_awaits_a_response(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = closed(world, responded(world, ordered(world, pledge)))
    with pytest.raises(Conflict) as exc:
        closed(world, order)
    assert exc.value.message == "该整改已验收完成。"


def test_extend_needs_a_later_deadline_and_reopens(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = responded(world, ordered(world, pledge, deadline=DAY(2011, 2, 28)))

    def extend(deadline, opinion="给予一个月延期。", today=OPEN):
        order.refresh_from_db()
        return services.rectification_extend(actor=world.secretary_a, order=order, version=order.version,
                                              deadline=deadline, opinion=opinion, today=today)

    with pytest.raises(ValidationError) as exc:
        extend(DAY(2011, 2, 28), opinion="")
    assert exc.value.message_dict == {"deadline": ["整改期限须晚于2011年2月28日。"], "opinion": ["请填写延期说明。"]}
    with pytest.raises(ValidationError) as exc:
        extend(DAY(2011, 3, 10), today=DAY(2011, 3, 10))  # past the old deadline: later than today
    assert exc.value.message_dict == {"deadline": ["整改期限须晚于2011年3月10日。"]}
    order = extend(DAY(2011, 3, 31))
    assert (order.status, order.deadline, order.version) == (RectificationStatus.OPEN, DAY(2011, 3, 31), 3)
    step = order.steps.order_by("-id").first()
    assert (step.kind, step.deadline, step.text) == ("extend", DAY(2011, 3, 31), "给予一个月延期。")
    event = AuditEvent.objects.get(action="rectification.extend")
    assert event.detail == {"order": order.pk, "from": "2011-02-28", "to": "2011-03-31"}
    # The owner must respond again before it can be closed.
    with pytest.raises(Conflict):
        closed(world, order)


def test_an_open_order_may_be_extended_too(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    order = services.rectification_extend(actor=world.secretary_a, order=order, version=order.version,
                                          deadline=DAY(2011, 4, 30), opinion="节后延期。", today=OPEN)
    assert order.status == RectificationStatus.OPEN and order.deadline == DAY(2011, 4, 30)


def test_closed_order_cannot_be_extended(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = closed(world, responded(world, ordered(world, pledge)))
    with pytest.raises(Conflict):
        services.rectification_extend(actor=world.secretary_a, order=order, version=order.version,
                                      deadline=DAY(2011, 6, 30), opinion="延期", today=OPEN)


def test_only_the_issuers_secretaries_close_or_extend(world, pledge):
    order = responded(world, ordered(world, pledge, actor=world.committee_secretary, today=CLOSED))
    for actor in (world.secretary_b, world.secretary_a, world.staff_a, world.member_user_a, world.outsider):
        with pytest.raises(PermissionDenied):
            closed(world, order, actor=actor)
        with pytest.raises(PermissionDenied):
            services.rectification_extend(actor=actor, order=order, version=order.version,
                                          deadline=DAY(2011, 6, 30), opinion="延期", today=CLOSED)
    order.refresh_from_db()
    assert order.status == RectificationStatus.RESPONDED
    # A secretary above the issuer may.
    assert closed(world, order, actor=world.city_secretary).status == RectificationStatus.CLOSED


def test_stale_order_version_conflicts(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge)
    stale = order.version
    responded(world, order)
    for call in (
        lambda: services.rectification_respond(actor=world.staff_a, order=order, version=stale, response="又一次"),
        lambda: services.rectification_close(actor=world.secretary_a, order=order, version=stale, opinion="验收"),
        lambda: services.rectification_extend(actor=world.secretary_a, order=order, version=stale,
                                              deadline=DAY(2011, 6, 30), opinion="延期", today=OPEN),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.message == STALE_ORDER
    order.refresh_from_db()
    assert order.status == RectificationStatus.RESPONDED and order.steps.count() == 2


def test_steps_and_audit_rows_record_the_whole_history(world, pledge):
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge, actor=world.committee_secretary, deadline=DAY(2011, 2, 28))
    responded(world, order, actor=world.member_user_a, response="第一次反馈")
    order.refresh_from_db()
    services.rectification_extend(actor=world.committee_secretary, order=order, version=order.version,
                                  deadline=DAY(2011, 3, 31), opinion="部分事项尚未完成", today=OPEN)
    responded(world, order, actor=world.staff_a, response="第二次反馈")
    closed(world, order, opinion="整改到位")
    steps = list(RectificationStep.objects.filter(order=order).order_by("created_at", "id"))
    assert [(s.kind, s.actor, s.text, s.deadline) for s in steps] == [
        ("issue", world.committee_secretary, "一个月内完成剩余事项并报告。", DAY(2011, 2, 28)),
        ("respond", world.member_user_a, "第一次反馈", None),
        ("extend", world.committee_secretary, "部分事项尚未完成", DAY(2011, 3, 31)),
        ("respond", world.staff_a, "第二次反馈", None),
        ("close", world.committee_secretary, "整改到位", None),
    ]
    assert list(order.steps.all()) == steps  # the default ordering is the history's
    events = list(AuditEvent.objects.filter(action__startswith="rectification.").order_by("id"))
    assert [(e.action, e.actor, e.organisation) for e in events] == [
        ("rectification.issue", world.committee_secretary, world.committee),
        ("rectification.respond", world.member_user_a, world.branch_a),
        ("rectification.extend", world.committee_secretary, world.committee),
        ("rectification.respond", world.staff_a, world.branch_a),
        ("rectification.close", world.committee_secretary, world.committee),
    ]
    assert all(e.detail["order"] == order.pk for e in events)
    order.refresh_from_db()
    assert order.status == RectificationStatus.CLOSED and order.version == 5


def test_todo_counts_for_owner_and_issuer(world, pledge):
    zero = {"to_answer": 0, "to_answer_overdue": 0, "to_verify": 0, "overdue_issued": 0}
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    order = ordered(world, pledge, actor=world.committee_secretary, deadline=DAY(2011, 2, 28))
    before, after = DAY(2011, 2, 28), DAY(2011, 3, 1)
    for owner in (world.staff_a, world.member_user_a):
        assert rectification_todo_counts(owner, today=before) == {**zero, "to_answer": 1}
        assert rectification_todo_counts(owner, today=after) == {**zero, "to_answer": 1, "to_answer_overdue": 1}
    issuer = rectification_todo_counts(world.committee_secretary, today=after)
    assert (issuer["to_verify"], issuer["overdue_issued"]) == (0, 1)
    assert rectification_todo_counts(world.secretary_b, today=after) == zero
    assert rectification_todo_counts(world.outsider, today=after) == zero

    responded(world, order)
    assert rectification_todo_counts(world.staff_a, today=after) == zero
    issuer = rectification_todo_counts(world.committee_secretary, today=before)
    assert (issuer["to_verify"], issuer["overdue_issued"]) == (1, 0)
    issuer = rectification_todo_counts(world.city_secretary, today=after)
    assert (issuer["to_verify"], issuer["overdue_issued"]) == (1, 1)

    closed(world, order)
    for user in (world.staff_a, world.member_user_a, world.committee_secretary, world.city_secretary):
        assert rectification_todo_counts(user, today=after) == zero


def test_reassessment_after_closing_updates_the_verdict(world, pledge):
    complete_items(world, pledge)
    comment(world.secretary_a, pledge)
    assessed(world, pledge, Fulfilment.UNFULFILLED)
    assert summary_for(pledge, today=OPEN).verdict.result == Fulfilment.UNFULFILLED
    order = ordered(world, pledge)
    closed(world, responded(world, order))
    assessed(world, pledge, Fulfilment.FULFILLED, reason="整改后已全部兑现。")
    s = summary_for(pledge, today=OPEN)
    assert s.verdict.result == Fulfilment.FULFILLED and s.verdict.score == 100.0
    assert s.open_order is None and s.assessment.reason == "整改后已全部兑现。"
    assert list(Assessment.objects.filter(commitment=pledge).order_by("id").values_list("result", flat=True)) == [
        "unfulfilled", "fulfilled"]


# --- demo data ------------------------------------------------------------------------------------------

def _evaluation_rows():
    return (Ballot.objects.count(), LeaderComment.objects.count(), MeetingTally.objects.count(),
            Assessment.objects.count())


def test_seed_demo_adds_evaluations_once():
    call_command("seed_demo", quiet=True)
    campaign = Campaign.objects.get(is_current=True)
    ballots = 5 if campaign.rating_state(timezone.localdate()) == "open" else 0
    assert _evaluation_rows() == (ballots, 1, 1, 1)
    comment_row = LeaderComment.objects.select_related("author", "commitment__member").get()
    assert comment_row.author.username == "zb_secretary" and comment_row.commitment.member_id is not None
    assert MeetingTally.objects.get().recorded_by.username == "zb_staff"
    a = Assessment.objects.select_related("assessed_by", "commitment__organisation").get()
    assert a.assessed_by.username == "dw_secretary" and a.commitment.organisation is not None
    assert not RectificationOrder.objects.exists() and not Evaluation.objects.filter(released_at__isnull=False).exists()
    call_command("seed_demo", quiet=True)
    assert _evaluation_rows() == (ballots, 1, 1, 1)
    assert seed_evaluations(campaign) == 0
    assert _evaluation_rows() == (ballots, 1, 1, 1)


def test_seed_evaluations_without_demo_users_does_nothing(world, pledge):
    assert seed_evaluations(world.campaign) == 0
    assert _evaluation_rows() == (0, 0, 0, 0)


# --- 四（五）: 领导点评 comes from the level above -------------------------------------------------------

def test_branch_secretary_does_not_comment_on_his_own_branchs_commitment(world):
    c = published_org(world)
    with pytest.raises(PermissionDenied):
        services.leader_comment_save(actor=world.secretary_a, commitment=c, rating=S, comment="很好")
    comment = services.leader_comment_save(actor=world.committee_secretary, commitment=c, rating=B,
                                           comment="继续抓好落实")
    assert comment.author_org == world.committee and not LeaderComment.objects.filter(author=world.secretary_a).exists()


def test_branch_secretary_comments_on_a_members_pledge_but_never_his_own(world):
    pledge = published_pledge(world)
    assert services.leader_comment_save(actor=world.secretary_a, commitment=pledge, rating=S,
                                        comment="学习扎实").author_org == world.branch_a
    own = published_pledge(world, member=make_member(world.branch_a, "一支部书记", user=world.secretary_a),
                           reviewer=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        services.leader_comment_save(actor=world.secretary_a, commitment=own, rating=S, comment="自评")
