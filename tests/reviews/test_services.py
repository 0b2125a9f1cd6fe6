"""review_decide and review_bulk_approve: who may, when, what is written, what is sent."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from commitments.models import CRITERIA, CommitmentStatus, Decision, ReviewDecision
from commitments.services.lifecycle import InvalidTransition
from core.errors import Conflict
from orgs.models import AuditEvent
from reviews.services import review_bulk_approve, review_decide
from tests.conftest import make_commitment, make_member

from .builders import ALL_MET, approve, resubmit, submitted

S = CommitmentStatus


def _decide(commitment, actor, decision=Decision.APPROVE, criteria=None, opinion="同意。", **kw):
    return review_decide(actor=actor, commitment=commitment, version=kw.pop("version", commitment.version),
                         decision=decision, criteria=ALL_MET if criteria is None else criteria,
                         opinion=opinion, **kw)


def _unchanged(commitment, version):
    commitment.refresh_from_db()
    assert commitment.status == S.SUBMITTED and commitment.version == version
    assert not ReviewDecision.objects.filter(commitment=commitment).exists()
    assert not AuditEvent.objects.filter(action__in=["commitment.approve", "commitment.return"]).exists()


# --- happy paths -----------------------------------------------------------------------------

def test_branch_secretary_approves_a_members_pledge(world, django_capture_on_commit_callbacks, mailoutbox):
    world.admin.email = "drafter@example.org"
    world.admin.save()
    c = submitted(world)
    version = c.version
    with django_capture_on_commit_callbacks(execute=True):
        decision = _decide(c, world.secretary_a, opinion="承诺具体，同意。")
    c.refresh_from_db()
    assert c.status == S.APPROVED and c.version == version + 1 and c.decided_at is not None
    assert decision.decision == Decision.APPROVE and decision.all_criteria_met
    assert decision.reviewer == world.secretary_a and decision.reviewer_org == world.branch_a
    assert decision.version.number == 1 and decision.opinion == "承诺具体，同意。" and not decision.is_bulk
    event = AuditEvent.objects.get(action="commitment.approve")
    assert event.actor == world.secretary_a and event.object_id == str(c.pk)
    assert event.organisation == world.branch_a and event.detail["version"] == 1
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["drafter@example.org"]
    assert "已审定" in mailoutbox[0].subject


def test_committee_reviews_a_branchs_commitment(world):
    c = submitted(world, organisation=world.branch_a)
    _decide(c, world.committee_secretary)
    c.refresh_from_db()
    assert c.status == S.APPROVED
    assert ReviewDecision.objects.get().reviewer_org == world.committee


def test_return_needs_guidance_and_notifies_after_commit(world, django_capture_on_commit_callbacks, mailoutbox):
    world.member_user_a.email = "lina@example.org"
    world.member_user_a.save()
    c = submitted(world, member=world.member_a)
    with pytest.raises(ValidationError) as exc:
        _decide(c, world.secretary_a, decision=Decision.RETURN, criteria={}, opinion="  ")
    assert exc.value.message_dict["opinion"] == ["退回时请写明修改意见。"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _decide(c, world.secretary_a, decision=Decision.RETURN, criteria={}, opinion="第2条措施请写具体。")
        assert mailoutbox == []  # nothing is sent before the transaction commits
    assert len(callbacks) == 1
    c.refresh_from_db()
    assert c.status == S.RETURNED
    assert ReviewDecision.objects.get().decision == Decision.RETURN
    assert AuditEvent.objects.filter(action="commitment.return").count() == 1
    assert len(mailoutbox) == 1 and "lina@example.org" in mailoutbox[0].to and "已退回" in mailoutbox[0].subject


def test_approval_needs_all_five_criteria(world):
    # 四（二）: what falls short is returned with guidance, never approved with a note.
    c = submitted(world)
    four = {**ALL_MET, CRITERIA[4][0]: False}
    with pytest.raises(ValidationError) as exc:
        _decide(c, world.secretary_a, criteria=four)
    assert list(exc.value.message_dict) == [CRITERIA[4][0]]
    assert "五项要求全部符合才能审定通过" in exc.value.message_dict[CRITERIA[4][0]][0]
    _unchanged(c, c.version)
    _decide(c, world.secretary_a, criteria=four, decision=Decision.RETURN, opinion="完成时限偏紧，请结合实际调整。")
    decision = ReviewDecision.objects.get()
    assert decision.decision == Decision.RETURN and not decision.feasible


def test_approval_needs_an_opinion(world):
    c = submitted(world)
    with pytest.raises(ValidationError) as exc:
        _decide(c, world.secretary_a, opinion="")
    assert exc.value.message_dict["opinion"] == ["请填写审定意见。"]
    _unchanged(c, c.version)


def test_an_unknown_decision_is_refused(world):
    c = submitted(world)
    with pytest.raises(ValidationError):
        _decide(c, world.secretary_a, decision="publish")
    _unchanged(c, c.version)


# --- wrong actor -----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["secretary_b", "staff_a", "member_user_a", "reviewer", "auditor", "admin",
                                 "outsider"])
def test_only_secretaries_over_the_reviewing_org_may_decide(world, who):
    c = submitted(world)
    with pytest.raises(PermissionDenied):
        _decide(c, getattr(world, who))
    _unchanged(c, c.version)


def test_sibling_branch_secretary_cannot_review_a_branchs_commitment(world):
    c = submitted(world, organisation=world.branch_a)  # reviewed by the committee
    for user in (world.secretary_a, world.secretary_b):
        with pytest.raises(PermissionDenied):
            _decide(c, user)
    _unchanged(c, c.version)


def test_a_secretary_cannot_review_their_own_pledge(world):
    own = make_member(world.branch_a, "一支部书记")
    own.user = world.secretary_a
    own.save()
    c = submitted(world, member=own)
    with pytest.raises(PermissionDenied):
        _decide(c, world.secretary_a)
    _unchanged(c, c.version)
    _decide(c, world.committee_secretary)  # the level above reviews it


def test_a_secretary_cannot_review_what_they_submitted(world):
    c = submitted(world, actor=world.secretary_a)
    with pytest.raises(PermissionDenied):
        _decide(c, world.secretary_a)
    _unchanged(c, c.version)


# --- wrong state -----------------------------------------------------------------------------

def test_a_draft_cannot_be_decided(world):
    c = make_commitment(world.campaign, member=world.member_a, status="draft")
    with pytest.raises(InvalidTransition) as exc:
        _decide(c, world.secretary_a)
    assert "草稿" in exc.value.message
    assert not ReviewDecision.objects.exists()


def test_an_approved_commitment_cannot_be_decided_again(world):
    c = submitted(world)
    approve(c, world.secretary_a)
    c.refresh_from_db()
    with pytest.raises(InvalidTransition):
        _decide(c, world.committee_secretary, decision=Decision.RETURN, opinion="再改改")
    assert ReviewDecision.objects.count() == 1


def test_a_stale_version_conflicts_before_its_field_errors(world):
    c = submitted(world)
    with pytest.raises(Conflict) as exc:
        _decide(c, world.secretary_a, version=c.version - 1, opinion="")
    assert "该承诺已被他人处理" in exc.value.message
    _unchanged(c, c.version)


def test_second_reviewer_with_the_same_version_loses(world):
    """Sequential form of the race (SQLite and PostgreSQL): both loaded the same version."""
    c = submitted(world)
    seen = c.version
    first = type(c).objects.get(pk=c.pk)
    second = type(c).objects.get(pk=c.pk)
    review_decide(actor=world.secretary_a, commitment=first, version=seen, decision=Decision.APPROVE,
                  criteria=ALL_MET, opinion="同意")
    for decision in (Decision.APPROVE, Decision.RETURN):
        with pytest.raises(Conflict) as exc:
            review_decide(actor=world.committee_secretary, commitment=second, version=seen, decision=decision,
                          criteria=ALL_MET, opinion="退回")
        assert "该承诺已被他人处理" in exc.value.message
    c.refresh_from_db()
    assert c.status == S.APPROVED and c.version == seen + 1
    assert list(ReviewDecision.objects.values_list("reviewer", flat=True)) == [world.secretary_a.pk]
    assert AuditEvent.objects.filter(action__in=["commitment.approve", "commitment.return"]).count() == 1


def test_the_decision_points_at_the_latest_version(world):
    c = submitted(world, organisation=world.branch_a)
    c = resubmit(c, reviewer=world.committee_secretary, editor=world.staff_a, goal="新的创建目标")
    assert c.submitted_count == 2
    decision = approve(c, world.committee_secretary)
    assert decision.version.number == 2 and decision.version.snapshot["goal"] == "新的创建目标"
    assert [d.version.number for d in ReviewDecision.objects.order_by("id")] == [1, 2]


# --- bulk ------------------------------------------------------------------------------------

def test_bulk_approval_reports_stale_and_forbidden_rows_and_approves_the_rest(world):
    fine = [submitted(world, member=make_member(world.branch_a, f"党员{n}")) for n in range(2)]
    stale = submitted(world, member=make_member(world.branch_a, "过期"))
    forbidden = submitted(world, member=world.member_b)  # branch B: not secretary A's to review
    targets = [(c.pk, c.version) for c in fine] + [(stale.pk, stale.version - 1), (forbidden.pk, forbidden.version),
                                                   (999999, 1)]
    approved, failed = review_bulk_approve(actor=world.secretary_a, targets=targets,
                                               shown=set(targets), opinion="同意。")
    assert approved == [c.pk for c in fine]
    assert "该承诺已被他人处理" in failed[stale.pk]
    # Missing and forbidden answer alike: ids cannot be probed.
    assert failed[forbidden.pk] == failed[999999] == "该承诺不存在或您无权处理。"
    for c in fine:
        c.refresh_from_db()
        assert c.status == S.APPROVED
    for c in (stale, forbidden):
        c.refresh_from_db()
        assert c.status == S.SUBMITTED
    decisions = ReviewDecision.objects.all()
    assert {d.commitment_id for d in decisions} == {c.pk for c in fine}
    assert all(d.is_bulk and d.all_criteria_met and d.opinion == "同意。" for d in decisions)
    assert AuditEvent.objects.filter(action="commitment.approve").count() == 2


def test_bulk_approval_needs_an_opinion(world):
    c = submitted(world)
    with pytest.raises(ValidationError):
        review_bulk_approve(actor=world.secretary_a, targets=[(c.pk, c.version)], shown={(c.pk, c.version)},
                            opinion=" ")
    _unchanged(c, c.version)
