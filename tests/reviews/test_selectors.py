"""The review queue: whose, in what order, with what filters; and the home page's count."""
from commitments.models import CommitmentStatus
from commitments.selectors import owner_labels_for
from orgs.models import Role, RoleGrant
from orgs.permissions import forget_scope
from reviews.selectors import queue_count_for, review_queue_for
from tests.conftest import make_campaign, make_commitment, make_member

from .builders import approve, submitted


def _ids(qs):
    return [c.pk for c in qs]


def test_branch_secretary_sees_their_branchs_pledges_oldest_first(world):
    newer = submitted(world, member=world.member_a, minutes_ago=5)
    older = submitted(world, member=world.member_a2, minutes_ago=500)
    submitted(world, member=world.member_b)                        # branch B's
    submitted(world, organisation=world.branch_a)                  # the committee reviews it
    make_commitment(world.campaign, member=make_member(world.branch_a, "草稿"), status="draft")
    assert _ids(review_queue_for(world.secretary_a, campaign=world.campaign)) == [older.pk, newer.pk]
    assert queue_count_for(world.secretary_a, world.campaign) == 2


def test_default_is_the_users_own_organisations_and_the_checkbox_widens_to_the_subtree(world):
    org_a = submitted(world, organisation=world.branch_a)
    pledge_a = submitted(world, member=world.member_a)
    pledge_c = submitted(world, member=world.member_c)             # reviewed by branch C, under the committee
    other = submitted(world, member=world.member_d)                # another committee's
    user = world.committee_secretary
    assert _ids(review_queue_for(user, campaign=world.campaign)) == [org_a.pk]
    wide = _ids(review_queue_for(user, campaign=world.campaign, include_subtree=True))
    assert set(wide) == {org_a.pk, pledge_a.pk, pledge_c.pk} and other.pk not in wide
    assert queue_count_for(user, world.campaign) == 1
    assert queue_count_for(user, world.campaign, include_subtree=True) == 3


def test_own_pledge_and_own_submission_never_wait_for_the_user(world):
    own = make_member(world.branch_a, "一支部书记")
    own.user = world.secretary_a
    own.save()
    submitted(world, member=own)
    submitted(world, actor=world.secretary_a)
    fine = submitted(world)
    assert _ids(review_queue_for(world.secretary_a, campaign=world.campaign)) == [fine.pk]


def test_decided_and_other_campaigns_leave_the_queue(world):
    c = submitted(world)
    approve(c, world.secretary_a)
    old_campaign = make_campaign(2009, is_current=False)
    make_commitment(old_campaign, member=world.member_a, status="submitted")
    assert _ids(review_queue_for(world.secretary_a, campaign=world.campaign)) == []
    assert len(_ids(review_queue_for(world.secretary_a, campaign=old_campaign))) == 1
    assert queue_count_for(world.secretary_a, None) == 0


def test_filters_by_owner_organisation_and_kind(world):
    org_a = submitted(world, organisation=world.branch_a)
    org_b = submitted(world, organisation=world.branch_b)
    pledge_a = submitted(world, member=world.member_a)
    user = world.committee_secretary
    qs = review_queue_for(user, campaign=world.campaign, include_subtree=True, org=world.branch_a)
    assert set(_ids(qs)) == {org_a.pk, pledge_a.pk}
    assert _ids(review_queue_for(user, campaign=world.campaign, include_subtree=True, kind="member")) == [pledge_a.pk]
    assert set(_ids(review_queue_for(user, campaign=world.campaign, include_subtree=True, kind="org"))) == {
        org_a.pk, org_b.pk}


def test_deputy_secretary_reviews_too_and_staff_have_no_queue(world):
    RoleGrant.objects.create(user=world.staff_a, organisation=world.branch_b, role=Role.DEPUTY_SECRETARY)
    forget_scope(world.staff_a)
    pledge_b = submitted(world, member=world.member_b)
    submitted(world, member=world.member_a)
    assert _ids(review_queue_for(world.staff_a, campaign=world.campaign)) == [pledge_b.pk]
    assert queue_count_for(world.reviewer, world.campaign, include_subtree=True) == 0


def test_rows_carry_the_item_count_and_what_can_review_needs(world, django_assert_num_queries):
    from commitments.permissions import can_review
    submitted(world, items=3)
    submitted(world, member=make_member(world.branch_a, "两条"), items=2)
    user = world.secretary_a
    rows = list(review_queue_for(user, campaign=world.campaign))
    with django_assert_num_queries(0):
        assert sorted(c.item_count for c in rows) == [2, 3]
        assert all(can_review(user, c) for c in rows)
        assert all(c.owner_name and c.member.branch.name and c.last_submitted_by.username for c in rows)


def test_owner_labels_are_given_only_for_commitments_the_user_may_see(world):
    mine = submitted(world, member=world.member_a)
    theirs = submitted(world, member=world.member_d)
    labels = owner_labels_for(world.secretary_a, [mine.pk, theirs.pk])
    assert labels == {mine.pk: "李娜的党员公开承诺"}
    assert mine.status == CommitmentStatus.SUBMITTED
