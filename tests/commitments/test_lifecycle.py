"""定诺 services: start, draft, submit; the allowed moves; audit rows; e-mail after commit."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commitments import services
from commitments.models import Commitment, CommitmentStatus, CommitmentVersion, Item
from commitments.services.lifecycle import ALLOWED, InvalidTransition, transition
from core.errors import Conflict
from orgs.models import AuditEvent, MemberCategory, Role, RoleGrant
from tests.conftest import make_commitment, make_member

S = CommitmentStatus
ITEM = {"content": "带头学习科学发展观", "measures": "每月读一本书", "deadline": datetime.date(2010, 12, 31),
        "responsible": ""}


def events(action):
    return AuditEvent.objects.filter(action=action)


def test_member_starts_own_pledge(world):
    c = services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    assert c.status == S.DRAFT and c.reviewer_org == world.branch_a and not c.is_oral
    assert events("commitment.create").get().actor == world.member_user_a
    # Starting again opens the same one: one pledge per member per campaign.
    again = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    assert again.pk == c.pk and Commitment.objects.count() == 1


def test_org_commitment_is_reviewed_by_parent(world):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, organisation=world.branch_a)
    assert c.reviewer_org == world.committee


def test_root_cannot_commit_it_has_no_reviewer(world):
    with pytest.raises(PermissionDenied):
        services.commitment_start(actor=world.city_secretary, campaign=world.campaign, organisation=world.root)


def test_sibling_staff_cannot_start(world):
    with pytest.raises(PermissionDenied):
        services.commitment_start(actor=world.secretary_b, campaign=world.campaign, member=world.member_a)
    with pytest.raises(PermissionDenied):
        services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a2)


def test_oral_pledge_only_for_elderly_or_retired_and_recorded_by_staff(world):
    with pytest.raises(ValidationError) as exc:
        services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a, is_oral=True)
    assert "口头承诺" in str(exc.value)
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a2, is_oral=True)
    assert c.is_oral and c.recorder == world.staff_a


def test_exempted_member_cannot_start(world):
    ex = services.exemption_propose(actor=world.secretary_a, member=world.member_a, campaign=world.campaign,
                                    kind="exempt", reason="长期病休")
    # A proposal alone changes nothing: the member may still pledge until the level above approves.
    assert services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    Commitment.objects.filter(member=world.member_a).update(status="withdrawn")
    services.exemption_decide(actor=world.committee_secretary, exemption=ex, version=ex.version, approve=True)
    with pytest.raises(ValidationError):
        services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)


def _draft(world, **kw):
    return services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a, **kw)


def test_save_draft_keeps_item_identity_and_marks_removed(world):
    c = _draft(world)
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal=" 争当先锋 ",
                                       items=[ITEM, {**ITEM, "content": "第二条"}])
    first, second = Item.objects.filter(commitment=c).order_by("position")
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="争当先锋",
                                       items=[{**ITEM, "id": second.pk, "content": "第二条（改）"}])
    second.refresh_from_db()
    first.refresh_from_db()
    assert c.goal == "争当先锋"
    assert second.content == "第二条（改）" and second.position == 1
    assert first.removed_at is not None
    assert events("commitment.edit").count() == 2


def test_save_draft_with_stale_version_is_a_conflict(world):
    c = _draft(world)
    services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="甲", items=[ITEM])
    with pytest.raises(Conflict):
        services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="乙", items=[])
    c.refresh_from_db()
    assert c.goal == "甲"


def test_member_cannot_edit_oral_pledge_recorded_for_them(world):
    user = world.member_user_a
    world.member_a.category = MemberCategory.RETIRED
    world.member_a.save()
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a, is_oral=True)
    with pytest.raises(PermissionDenied):
        services.commitment_save_draft(actor=user, commitment=c, version=c.version, goal="x", items=[])


def test_submit_freezes_a_version_and_moves_to_submitted(world):
    c = _draft(world)
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="争当先锋",
                                       items=[ITEM])
    frozen = services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    assert c.status == S.SUBMITTED and c.submitted_count == 1 and c.last_submitted_by == world.member_user_a
    assert frozen.number == 1
    assert frozen.snapshot["goal"] == "争当先锋"
    assert frozen.snapshot["items"][0]["content"] == ITEM["content"]
    assert frozen.snapshot["items"][0]["deadline"] == "2010-12-31"
    assert events("commitment.submit").get().detail == {"version": 1, "items": 1, "consent": "self"}
    assert frozen.consent == "self" and frozen.consent_by == world.member_user_a
    with pytest.raises(PermissionError):
        frozen.snapshot["goal"] = "改"
        frozen.save()


def test_cannot_edit_or_resubmit_while_submitted(world):
    c = make_commitment(world.campaign, member=world.member_a, status="submitted")
    with pytest.raises(InvalidTransition):
        services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="x", items=[])
    with pytest.raises(InvalidTransition) as exc:
        services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    assert "不能提交" in exc.value.message


def test_submit_validates_in_chinese(world):
    c = _draft(world)
    with pytest.raises(ValidationError) as exc:
        services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    text = " ".join(exc.value.messages)
    assert "请填写争当目标" in text and "至少需要一条承诺事项" in text
    assert c.versions.count() == 0


def test_org_item_needs_responsible_person(world):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, organisation=world.branch_a)
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="五个好", items=[ITEM])
    with pytest.raises(ValidationError) as exc:
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    assert "第1条承诺事项缺少履行责任人" in " ".join(exc.value.messages)


def test_leader_needs_campaign_minimum_items(world):
    leader = make_member(world.branch_a, "赵局长", category=MemberCategory.LEADER)
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=leader)
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="争当表率",
                                       items=[ITEM, ITEM])
    with pytest.raises(ValidationError) as exc:
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    assert "至少应承诺3条事项，目前只有2条" in " ".join(exc.value.messages)
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="争当表率",
                                       items=[ITEM, ITEM, ITEM])
    services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="in_person")


def test_submit_notifies_reviewers_after_commit(world, mailoutbox, django_capture_on_commit_callbacks):
    world.secretary_a.email = "sec_a@example.gov.cn"
    world.secretary_a.save()
    c = make_commitment(world.campaign, member=world.member_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["sec_a@example.gov.cn"]
    assert "待审核" in mailoutbox[0].subject and "李娜" in mailoutbox[0].subject


def test_allowed_moves_table_has_no_shortcuts():
    assert ALLOWED[S.DRAFT] == {S.SUBMITTED, S.CONFIRMING, S.WITHDRAWN}
    assert ALLOWED[S.CONFIRMING] == {S.SUBMITTED, S.DRAFT}
    assert ALLOWED[S.WITHDRAWN] == set()
    assert S.APPROVED not in ALLOWED[S.DRAFT] and S.APPROVED not in ALLOWED[S.RETURNED]


def test_transition_refuses_move_not_in_table(world):
    c = make_commitment(world.campaign, member=world.member_a)
    with pytest.raises(InvalidTransition):
        transition(commitment=c, expected_version=c.version, to=S.APPROVED)


def test_campaign_services(world):
    campaign = services.campaign_create(actor=world.admin, data={
        "name": "2011年公开承诺", "year": 2011, "pledge_deadline": datetime.date(2011, 9, 30),
        "publish_deadline": datetime.date(2011, 10, 31), "evaluation_deadline": datetime.date(2011, 12, 31),
        "leader_min_items": 4, "is_current": True})
    world.campaign.refresh_from_db()
    assert campaign.is_current and not world.campaign.is_current
    with pytest.raises(ValidationError):
        services.campaign_update(actor=world.admin, campaign=campaign,
                                 data={"publish_deadline": datetime.date(2011, 8, 1)})
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=world.city_secretary, data={})
    # An administrator of a subtree only is not a campaign manager.
    RoleGrant.objects.create(user=world.outsider, organisation=world.committee, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.campaign_update(actor=world.outsider, campaign=campaign, data={"name": "x"})
    assert events("campaign.create").count() == 1


def test_deferral_and_make_up(world):
    ex = services.exemption_propose(actor=world.staff_a, member=world.member_a, campaign=world.campaign, kind="defer",
                                    reason="外出学习", makeup_due=datetime.date.today() + datetime.timedelta(days=30))
    assert ex.status == "approved"  # a deferral is recorded by the branch, not approved above
    with pytest.raises(ValidationError):
        services.exemption_propose(actor=world.staff_a, member=world.member_a, campaign=world.campaign, kind="defer",
                                   reason="再次", makeup_due=datetime.date.today())
    # 补课 is the pledge: it can be recorded only once the pledge has been submitted.
    c = services.commitment_start(actor=world.member_user_a, campaign=world.campaign, member=world.member_a)
    with pytest.raises(ValidationError, match="尚未提交"):
        services.exemption_make_up(actor=world.staff_a, exemption=ex)
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="争当先锋",
                                       items=[ITEM])
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    services.exemption_make_up(actor=world.staff_a, exemption=ex)
    ex.refresh_from_db()
    assert ex.made_up_on == datetime.date.today()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="member.").order_by("id")] == [
        "member.defer", "member.make_up"]


def test_exemption_needs_the_branch_and_no_pledge(world):
    with pytest.raises(PermissionDenied):  # another branch's officer
        services.exemption_propose(actor=world.secretary_b, member=world.member_a, campaign=world.campaign,
                                   kind="exempt", reason="病休")
    make_commitment(world.campaign, member=world.member_a)
    with pytest.raises(ValidationError):
        services.exemption_propose(actor=world.secretary_a, member=world.member_a, campaign=world.campaign,
                                   kind="exempt", reason="病休")


def test_deferral_needs_makeup_date(world):
    with pytest.raises(ValidationError):
        services.exemption_propose(actor=world.staff_a, member=world.member_a, campaign=world.campaign, kind="defer",
                                   reason="外出")


def test_versions_survive_and_stay_distinct(world):
    c = make_commitment(world.campaign, member=world.member_a, status="returned")
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version, goal="新目标",
                                       items=[{**ITEM, "id": c.items.first().pk}])
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    v1, v2 = CommitmentVersion.objects.filter(commitment=c).order_by("number")
    assert (v1.number, v2.number) == (1, 2)
    assert v1.snapshot["goal"] == "争当优秀共产党员" and v2.snapshot["goal"] == "新目标"
    assert v1.snapshot["items"][0]["id"] == v2.snapshot["items"][0]["id"]
