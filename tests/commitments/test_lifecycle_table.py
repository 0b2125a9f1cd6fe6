"""The lifecycle in one place: the five steps (stage_of, stage_q) and the buttons (available_actions)."""
import datetime

import pytest

from commitments.lifecycle import ALLOWED, IN_FORCE, Stage, available_actions, is_in_force, stage_of, stage_q
from commitments.models import Commitment, CommitmentStatus
from tests.conftest import make_commitment, make_member

S = CommitmentStatus
BEFORE_RATING = datetime.date(2010, 10, 15)   # the 2010 campaign's 群众评议 opens on 1 November
RATING = datetime.date(2010, 11, 1)


def published(campaign, **owner):
    c = make_commitment(campaign, status=S.PUBLISHED, **owner)
    c.public_version = c.versions.get()
    c.online_since = datetime.date(2010, 10, 20)
    c.save(update_fields=["public_version", "online_since"])
    return Commitment.objects.select_related("campaign", "member__branch", "member__user", "organisation",
                                             "reviewer_org").get(pk=c.pk)


def loaded(c):
    return Commitment.objects.select_related("campaign", "member__branch", "member__user", "organisation",
                                             "reviewer_org").get(pk=c.pk)


@pytest.mark.parametrize("status, stage", [
    (S.DRAFT, Stage.SET), (S.CONFIRMING, Stage.SET), (S.RETURNED, Stage.SET),
    (S.SUBMITTED, Stage.REVIEW), (S.APPROVED, Stage.PUBLISH)])
def test_stage_before_publication_follows_the_status(world, status, stage):
    c = make_commitment(world.campaign, member=world.member_a, status=status)
    assert stage_of(c, today=RATING) == stage
    assert not is_in_force(c)


def test_discarded_draft_is_at_no_stage(world):
    c = make_commitment(world.campaign, member=world.member_a, status=S.WITHDRAWN)
    assert stage_of(c) is None


def test_published_is_fulfilment_until_rating_opens_then_evaluation(world):
    c = published(world.campaign, member=world.member_a)
    assert stage_of(c, today=BEFORE_RATING) == Stage.FULFIL
    assert stage_of(c, today=RATING) == Stage.EVALUATE
    assert stage_of(c, today=datetime.date(2011, 1, 5)) == Stage.EVALUATE  # after the deadline too
    assert is_in_force(c) and stage_of(c, today=RATING) in IN_FORCE


def test_set_evaluation_opening_date_decides(world):
    world.campaign.evaluation_opens = datetime.date(2010, 12, 1)
    world.campaign.save()
    c = published(world.campaign, member=world.member_a)
    assert stage_of(c, today=datetime.date(2010, 11, 15)) == Stage.FULFIL
    assert stage_of(c, today=datetime.date(2010, 12, 1)) == Stage.EVALUATE


def test_revision_of_a_published_commitment_stays_in_force(world):
    c = published(world.campaign, member=world.member_a)
    Commitment.objects.filter(pk=c.pk).update(status=S.DRAFT)
    c = loaded(c)
    assert stage_of(c, today=BEFORE_RATING) == Stage.FULFIL
    assert stage_of(c, today=RATING) == Stage.EVALUATE


def test_stage_q_agrees_with_stage_of(world):
    rows = [make_commitment(world.campaign, member=world.member_a, status=S.DRAFT),
            make_commitment(world.campaign, member=world.member_b, status=S.SUBMITTED),
            make_commitment(world.campaign, member=world.member_c, status=S.APPROVED),
            make_commitment(world.campaign, member=world.member_d, status=S.WITHDRAWN),
            published(world.campaign, organisation=world.branch_a),
            published(world.campaign, member=make_member(world.branch_b, "赵敏"))]
    for today in (BEFORE_RATING, RATING):
        for stage in Stage.values:
            expected = {c.pk for c in rows if stage_of(loaded(c), today=today) == stage}
            assert set(Commitment.objects.filter(stage_q(stage, today)).values_list("pk", flat=True)) == expected


def keys(user, c, **kw):
    actions = available_actions(user, loaded(c), **kw)
    for a in actions:
        # No button whose move the table does not allow.
        assert a.to is None or a.to in ALLOWED[c.status], (a.key, c.status)
    return [a.key for a in actions]


def test_owner_drafting_own_pledge(world):
    c = make_commitment(world.campaign, member=world.member_a)
    assert keys(world.member_user_a, c) == ["edit", "submit", "discard"]
    submit = available_actions(world.member_user_a, loaded(c))[1]
    assert submit.label == "提交审核" and submit.method == "post" and submit.to == S.SUBMITTED
    staff = available_actions(world.staff_a, loaded(c), submit_to_member=True)
    assert staff[1].label == "提交本人确认" and staff[1].to == S.CONFIRMING


def test_outsider_gets_no_button_in_any_state(world):
    for member, status in ((world.member_a, S.DRAFT), (world.member_b, S.SUBMITTED), (world.member_c, S.APPROVED)):
        assert keys(world.outsider, make_commitment(world.campaign, member=member, status=status)) == []
    assert keys(world.outsider, published(world.campaign, member=world.member_d)) == []


def test_reviewer_of_a_submitted_pledge_may_review_it(world):
    c = make_commitment(world.campaign, member=world.member_a, status=S.SUBMITTED)
    assert keys(world.secretary_a, c) == ["review"]
    review = available_actions(world.secretary_a, loaded(c))[0]
    assert review.url_name == "reviews:review" and S.APPROVED in ALLOWED[S.SUBMITTED]
    # The owner waits: nothing to do while it is reviewed, and never judges their own.
    assert keys(world.member_user_a, c) == []
    # A sibling branch's secretary is not its reviewer.
    assert keys(world.secretary_b, c) == []


def test_approved_is_published_by_officers_not_the_member(world):
    c = make_commitment(world.campaign, member=world.member_a, status=S.APPROVED)
    assert keys(world.staff_a, c) == ["print", "publish"]
    assert keys(world.member_user_a, c) == ["print"]
    assert keys(world.secretary_a, c) == ["print", "publish"]  # no review: not submitted any more


def test_published_is_revised_by_drafters(world):
    c = published(world.campaign, member=world.member_a)
    assert keys(world.member_user_a, c) == ["print", "public_page", "revise"]
    assert keys(world.staff_a, c) == ["print", "public_page", "revise"]


def test_confirming_pledge_is_confirmed_by_the_member_only(world):
    c = make_commitment(world.campaign, member=world.member_a, status=S.CONFIRMING)
    assert keys(world.member_user_a, c) == ["confirm"]
    assert keys(world.staff_a, c) == []
