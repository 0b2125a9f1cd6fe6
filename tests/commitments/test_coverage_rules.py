"""六（三）确保全面覆盖: coverage counts only what is real, and exemptions are approved above.

Drafts are not pledges (草稿未提交 stays a 空白点) and can be discarded; 补课 needs a submitted
pledge; the kinds of organisation that must commit are a campaign setting; a member's exemption
is proposed by the branch and approved by the 机关党组织 above it, never by the member nor by the
proposer; an organisation is exempted by the level above. Each rule through the services and the
pages."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from commitments import selectors, services
from commitments.models import Commitment, Exemption
from commitments.permissions import can_decide_exemption
from commitments.services.lifecycle import InvalidTransition
from core.errors import Conflict
from orgs.models import AuditEvent, OrgKind, Role
from portal import coverage
from tests.commitments.publishing import published
from tests.commitments.test_consent import sent_to_member
from tests.conftest import make_commitment, make_member, make_org, make_user

pytestmark = pytest.mark.django_db
ITEM = {"content": "带头学习科学发展观", "measures": "每月读一本书", "deadline": datetime.date(2010, 12, 31)}
SOON = datetime.date.today() + datetime.timedelta(days=30)


def _cov(world, org=None):
    org = org or world.committee
    return coverage.coverage_for(world.city_secretary, org, world.campaign)


def _state(world, member):
    return coverage.members_with_state(member.branch, world.campaign, datetime.date.today()).get(pk=member.pk).state


def _submit(world, c, actor):
    c = services.commitment_save_draft(actor=actor, commitment=c, version=c.version, goal="争当先锋", items=[ITEM])
    services.commitment_submit(actor=actor, commitment=c, version=c.version)
    c.refresh_from_db()
    return c


# --- only a submitted pledge counts ------------------------------------------------------------

def test_one_click_on_pledge_start_leaves_the_member_a_blank_spot(world, as_user):
    """代为填写 creates an empty draft: the member is 草稿未提交, still on the 空白点 list."""
    response = as_user(world.staff_a).post(reverse("commitments:pledge_start", args=[world.member_a.pk]))
    assert response.status_code == 302
    assert _state(world, world.member_a) == "draft"
    t = _cov(world, world.branch_a).total
    assert (t.members_pledged, t.members_draft, t.members_blank, t.members_rate) == (0, 1, 2, 0.0)
    page = as_user(world.secretary_a).get(reverse("portal:coverage_members"),
                                          {"org": world.branch_a.pk, "campaign": 2010})
    assert world.member_a in list(page.context["page"])
    assert "空白点（草稿未提交）" in page.content.decode()


def test_submitted_and_returned_pledges_count_a_revision_still_counts(world):
    c = services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    c = _submit(world, c, world.member_user_a)
    assert _state(world, world.member_a) == "submitted"
    Commitment.objects.filter(pk=c.pk).update(status="returned")
    assert _state(world, world.member_a) == "returned"
    assert _cov(world, world.branch_a).total.members_pledged == 1
    p = published(world, member=world.member_a2)
    services.commitment_revise(actor=world.staff_a, commitment=p, version=p.version)
    assert _state(world, world.member_a2) == "revising"
    t = _cov(world, world.branch_a).total
    assert (t.members_pledged, t.members_blank, t.members_rate) == (2, 0, 100.0)


def test_a_pending_deferral_is_not_covered_and_an_overdue_one_is_a_blank_spot(world):
    ex = services.exemption_propose(actor=world.staff_a, member=world.member_a, campaign=world.campaign,
                                    kind="defer", reason="外出学习", makeup_due=SOON)
    t = _cov(world, world.branch_a).total
    assert (t.members_deferred, t.members_blank, t.members_rate) == (1, 1, 0.0)
    Exemption.objects.filter(pk=ex.pk).update(makeup_due=datetime.date.today() - datetime.timedelta(days=1))
    assert _state(world, world.member_a) == "overdue_makeup"
    t = _cov(world, world.branch_a).total
    assert (t.members_deferred, t.members_blank) == (0, 2)


def test_the_dashboard_states_the_definitions(world, as_user):
    html = as_user(world.committee_secretary).get(reverse("portal:coverage")).content.decode()
    assert "统计口径说明" in html and "已提交审核" in html and "草稿未提交" in html
    assert "已提交后被退回修改的仍计为已承诺" in html and "党组不是基层党组织" in html


# --- discarding a draft ----------------------------------------------------------------------

def test_a_draft_is_discarded_kept_audited_and_can_be_started_again(world):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="x", items=[ITEM])
    c = services.commitment_discard(actor=world.staff_a, commitment=c, version=c.version)
    assert (c.status, c.withdrawn_by) == ("withdrawn", world.staff_a) and c.withdrawn_at is not None
    event = AuditEvent.objects.get(action="commitment.discard")
    assert event.detail == {"items": 1, "goal": True}
    assert _state(world, world.member_a) == "blank"
    assert _cov(world, world.branch_a).total.commitments["member"]["drafted"] == 0
    again = services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    assert again.pk != c.pk and again.status == "draft"
    assert Commitment.objects.filter(member=world.member_a).count() == 2  # the discarded one is kept


def test_discard_wrong_actor_wrong_state_and_stale_version(world):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    with pytest.raises(PermissionDenied):
        services.commitment_discard(actor=world.secretary_b, commitment=c, version=c.version)
    with pytest.raises(Conflict):
        services.commitment_discard(actor=world.staff_a, commitment=c, version=c.version + 1)
    submitted = make_commitment(world.campaign, member=world.member_b, status="submitted")
    with pytest.raises(InvalidTransition):
        services.commitment_discard(actor=world.secretary_b, commitment=submitted, version=submitted.version)
    # A revision of a published commitment is no draft to throw away: the public version stands.
    p = published(world, member=world.member_a2)
    p = services.commitment_revise(actor=world.staff_a, commitment=p, version=p.version)
    with pytest.raises(InvalidTransition):
        services.commitment_discard(actor=world.staff_a, commitment=p, version=p.version)
    assert not AuditEvent.objects.filter(action="commitment.discard").exists()


def test_the_discard_button_asks_for_confirmation_and_discards(world, as_user):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    client = as_user(world.staff_a)
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert reverse("commitments:discard", args=[c.pk]) in html and "确定作废这份未提交的草稿吗" in html
    assert "作废此草稿" in client.get(reverse("commitments:edit", args=[c.pk])).content.decode()
    response = client.post(reverse("commitments:discard", args=[c.pk]), {"version": c.version}, follow=True)
    assert "已作废" in response.content.decode()
    c.refresh_from_db()
    assert c.status == "withdrawn"
    assert "此草稿已于" in client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert as_user(world.secretary_b).post(reverse("commitments:discard", args=[c.pk]),
                                           {"version": c.version}).status_code == 404


# --- 补课 --------------------------------------------------------------------------------------

def test_make_up_is_refused_on_the_page_without_a_submitted_pledge(world, as_user):
    ex = services.exemption_propose(actor=world.staff_a, member=world.member_a, campaign=world.campaign,
                                    kind="defer", reason="外出学习", makeup_due=SOON)
    response = as_user(world.staff_a).post(reverse("commitments:exemption_made_up", args=[ex.pk]), follow=True)
    assert "承诺尚未提交，不能登记补课" in response.content.decode()
    ex.refresh_from_db()
    assert ex.made_up_on is None
    c = services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    _submit(world, c, world.member_user_a)
    page = as_user(world.staff_a).get(reverse("portal:coverage_members"),
                                      {"org": world.branch_a.pk, "campaign": 2010, "state": "pledged"})
    (m,) = page.context["page"]
    assert m.can_make_up and reverse("commitments:exemption_made_up", args=[ex.pk]) in page.content.decode()


# --- which organisations must commit -------------------------------------------------------------

def test_a_leading_group_need_not_commit_a_temporary_branch_must(world):
    temp = make_org(world.committee, "临时党支部", OrgKind.TEMP_BRANCH, code="C1-T")
    assert OrgKind.LEADING_GROUP not in world.campaign.committing_kinds
    rows = {r.org: r.figures for r in _cov(world, world.root).rows}
    assert rows[world.committee2].orgs_total == 1  # 第四党支部 only, not the 党组 itself
    assert coverage.org_list(world.committee, world.campaign, state="none").filter(pk=temp.pk).exists()
    world.campaign.committing_kinds = [*world.campaign.committing_kinds, OrgKind.LEADING_GROUP]
    world.campaign.save(update_fields=["committing_kinds"])
    rows = {r.org: r.figures for r in _cov(world, world.root).rows}
    assert rows[world.committee2].orgs_total == 2


def test_the_campaign_form_sets_the_kinds_and_the_approving_level(world, as_user):
    html = as_user(world.admin).get(reverse("commitments:campaign_edit", args=[world.campaign.pk])).content.decode()
    assert "应作出承诺的党组织类型" in html and "免于承诺审核认同层级" in html
    services.campaign_update(actor=world.admin, campaign=world.campaign,
                             data={"committing_kinds": ["branch"], "exemption_approver_depth": 0})
    world.campaign.refresh_from_db()
    assert (world.campaign.committing_kinds, world.campaign.exemption_approver_depth) == (["branch"], 0)


# --- exemptions: proposed by the branch, approved above -----------------------------------------

def _propose(world, member=None, actor=None):
    return services.exemption_propose(actor=actor or world.secretary_a, member=member or world.member_a,
                                      campaign=world.campaign, kind="exempt", reason="长期病休")


def test_a_proposal_is_a_blank_spot_until_the_level_above_approves(world):
    ex = _propose(world)
    assert (ex.status, ex.proposed_by) == ("proposed", world.secretary_a)
    assert _state(world, world.member_a) == "exempt_proposed"
    assert _cov(world, world.branch_a).total.members_blank == 2
    with pytest.raises(PermissionDenied):  # the branch alone cannot approve
        services.exemption_decide(actor=world.secretary_a, exemption=ex, version=ex.version, approve=True)
    ex = services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True,
                                   note="情况属实")
    assert (ex.status, ex.decided_by, ex.decision_note) == ("approved", world.committee_secretary, "情况属实")
    assert _state(world, world.member_a) == "exempt"
    t = _cov(world, world.branch_a).total
    assert (t.members_exempt, t.members_blank, t.members_rate) == (1, 1, 50.0)
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="member.").order_by("id")] == [
        "member.exempt_propose", "member.exempt_approve"]
    with pytest.raises(Conflict):  # decided already
        services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=False,
                                  note="x")


def test_a_rejection_needs_a_reason_and_frees_the_member_for_a_new_proposal(world):
    ex = _propose(world)
    with pytest.raises(ValidationError):
        services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=False)
    ex = services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=False,
                                   note="可以书面承诺")
    assert ex.status == "rejected" and _state(world, world.member_a) == "blank"
    assert _propose(world).status == "proposed"  # the rejected one is kept beside it
    assert Exemption.objects.filter(member=world.member_a).count() == 2


def test_nobody_proposes_or_approves_for_themselves_nor_approves_their_own_proposal(world):
    # The committee's secretary is also a member of branch A.
    own = make_member(world.branch_a, "机关党委书记本人", user=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        _propose(world, member=own, actor=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        services.exemption_propose(actor=world.committee_secretary, member=own, campaign=world.campaign,
                                   kind="defer", reason="外出", makeup_due=SOON)
    ex = _propose(world, member=own, actor=world.secretary_a)
    with pytest.raises(PermissionDenied):
        services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True)
    # Proposed by the committee's secretary (who reaches branch A): someone else above must decide.
    mine = _propose(world, member=world.member_a, actor=world.committee_secretary)
    with pytest.raises(PermissionDenied):
        services.exemption_decide(actor=world.committee_secretary, exemption=mine, version=mine.version, approve=True)
    services.exemption_decide(actor=world.city_secretary, exemption=mine, version=mine.version, approve=True)


def test_the_approving_level_can_be_configured(world):
    world.campaign.exemption_approver_depth = 0  # the 工委 approves for every branch
    world.campaign.save(update_fields=["exemption_approver_depth"])
    ex = _propose(world)
    with pytest.raises(PermissionDenied):
        services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True)
    services.exemption_decide(actor=world.city_secretary, exemption=ex, version=ex.version, approve=True)


def test_revoking_keeps_the_record(world):
    ex = _propose(world)
    ex = services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True)
    with pytest.raises(PermissionDenied):  # the branch proposed it, the level above revokes it
        services.exemption_revoke(actor=world.secretary_a, exemption=ex)
    ex = services.exemption_revoke(actor=world.committee_secretary, exemption=ex)
    assert (ex.status, ex.revoked_by) == ("revoked", world.committee_secretary)
    assert Exemption.objects.filter(pk=ex.pk).exists() and _state(world, world.member_a) == "blank"
    assert AuditEvent.objects.filter(action="member.exemption_revoke").count() == 1


# --- exempting an organisation -------------------------------------------------------------------

def test_an_organisation_is_exempted_by_the_level_above_and_leaves_the_count(world):
    temp = make_org(world.committee, "临时党支部", OrgKind.TEMP_BRANCH, code="C1-T")
    secretary_t = make_user("secretary_t", temp, Role.SECRETARY)
    assert _cov(world).total.orgs_total == 6
    with pytest.raises(PermissionDenied):  # not its own secretary
        services.organisation_exempt(actor=secretary_t, organisation=temp, campaign=world.campaign, reason="撤销")
    with pytest.raises(ValidationError):
        services.organisation_exempt(actor=world.committee_secretary, organisation=temp, campaign=world.campaign,
                                     reason=" ")
    ex = services.organisation_exempt(actor=world.committee_secretary, organisation=temp, campaign=world.campaign,
                                      reason="年中任务结束，临时党支部撤销")
    assert (ex.status, ex.organisation, ex.member) == ("approved", temp, None)
    t = _cov(world).total
    assert (t.orgs_total, t.orgs_exempt) == (5, 1)
    assert list(coverage.org_list(world.committee, world.campaign, state="exempt")) == [temp]
    assert AuditEvent.objects.filter(action="organisation.exempt", detail__exemption=ex.pk).exists()
    with pytest.raises(ValidationError):  # an exempted organisation does not start a commitment
        services.commitment_start(actor=world.committee_secretary, campaign=world.campaign, organisation=temp)
    services.exemption_revoke(actor=world.committee_secretary, exemption=ex)
    assert _cov(world).total.orgs_total == 6


def test_an_organisation_with_a_commitment_is_not_exempted(world):
    make_commitment(world.campaign, organisation=world.branch_b, status="draft")
    with pytest.raises(ValidationError):
        services.organisation_exempt(actor=world.committee_secretary, organisation=world.branch_b,
                                     campaign=world.campaign, reason="撤销")


def test_the_org_exemption_page_and_the_org_list(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("portal:coverage_orgs"), {"org": world.committee.pk, "state": "none"}).content
    assert reverse("commitments:organisation_exemption_create", args=[world.general.pk]) in html.decode()
    url = reverse("commitments:organisation_exemption_create", args=[world.general.pk])
    assert "本年度免于承诺" in client.get(url).content.decode()
    response = client.post(url, {"reason": "正在组建"})
    assert response.status_code == 302
    html = client.get(reverse("portal:coverage_orgs"), {"org": world.committee.pk}).content.decode()
    assert "免于承诺（上级已认同）" in html and "正在组建" in html
    assert as_user(world.secretary_a).get(url).status_code == 404


# --- the exemption pages ----------------------------------------------------------------------

def test_the_exemption_list_offers_the_decision_to_the_level_above_only(world, as_user):
    ex = _propose(world)
    html = as_user(world.secretary_a).get(reverse("commitments:exemption_list")).content.decode()
    assert "李娜" in html and "待审核认同" in html
    assert reverse("commitments:exemption_decide", args=[ex.pk]) not in html
    client = as_user(world.committee_secretary)
    html = client.get(reverse("commitments:exemption_list")).content.decode()
    assert reverse("commitments:exemption_decide", args=[ex.pk]) in html
    response = client.post(reverse("commitments:exemption_decide", args=[ex.pk]),
                           {"version": ex.version, "decision": "approve", "note": ""}, follow=True)
    assert "已认同“李娜”免于承诺的申请" in response.content.decode()
    ex.refresh_from_db()
    assert ex.status == "approved"
    assert as_user(world.secretary_a).post(reverse("commitments:exemption_decide", args=[ex.pk]),
                                           {"version": ex.version, "decision": "reject"}).status_code == 404


def test_the_exemption_list_is_a_fixed_number_of_queries(world, as_user, django_assert_max_num_queries):
    for n in range(30):
        member = make_member(world.branch_a if n % 2 else world.branch_c, f"党员{n}")
        services.exemption_propose(actor=world.staff_a if n % 2 else world.committee_secretary, member=member,
                                   campaign=world.campaign, kind="exempt" if n % 3 else "defer", reason="外出",
                                   makeup_due=SOON)
    client = as_user(world.committee_secretary)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("commitments:exemption_list"))
    assert response.status_code == 200 and len(response.context["page"]) == 30


def test_the_exemption_form_never_offers_an_officer_their_own(world, as_user):
    own = make_member(world.branch_a, "组织委员本人", user=world.staff_a)
    assert as_user(world.staff_a).get(reverse("commitments:exemption_create", args=[own.pk])).status_code == 404


def test_the_member_sees_a_proposal_as_not_yet_in_force(world, as_user):
    ex = _propose(world)
    html = as_user(world.member_user_a).get(reverse("commitments:my_pledge")).content.decode()
    assert "上级党组织审核认同前您仍可作出承诺" in html and "开始填写我的承诺" in html
    services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True)
    html = as_user(world.member_user_a).get(reverse("commitments:my_pledge")).content.decode()
    assert "您本年度已经特殊情况免于承诺" in html and "开始填写我的承诺" not in html


@pytest.mark.parametrize("depth", [None, 0, 1, 2])
def test_the_to_do_count_agrees_with_the_predicate(world, depth):
    """exemptions_to_decide_for is can_decide_exemption as one query, whatever the approving level."""
    world.campaign.exemption_approver_depth = depth
    world.campaign.save(update_fields=["exemption_approver_depth"])
    proposals = [_propose(world, member=m, actor=world.reviewer)
                 for m in (world.member_a, world.member_b, world.member_c, world.member_d)]
    proposals.append(_propose(world, member=make_member(world.branch_a, "书记提出"), actor=world.committee_secretary))
    for user in (world.city_secretary, world.committee_secretary, world.secretary_a, world.secretary_b,
                 world.staff_a, world.reviewer):
        expected = {e.pk for e in proposals if can_decide_exemption(user, e)}
        assert set(selectors.exemptions_to_decide_for(user, world.campaign).values_list("pk", flat=True)) == expected


def test_the_home_page_lists_proposals_to_decide(world, as_user):
    _propose(world)
    html = as_user(world.committee_secretary).get(reverse("home")).content.decode()
    assert "1 条免于承诺待审核认同" in html and reverse("commitments:exemption_list") + "?status=proposed" in html
    assert "免于承诺待审核认同" not in as_user(world.secretary_a).get(reverse("home")).content.decode()


def test_a_pledge_awaiting_its_members_confirmation_is_not_yet_pledged(world):
    sent_to_member(world)
    drafts = coverage.member_list(world.branch_a, world.campaign, state="draft", own=True)
    assert [m.pk for m in drafts] == [world.member_a.pk]
    assert world.member_a.pk in {m.pk for m in coverage.member_list(world.branch_a, world.campaign, state="blank")}
