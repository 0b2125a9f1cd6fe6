"""Permission-matrix entries for the reviews app (审诺).

A commitment is reviewed by the secretaries (书记/副书记) of its reviewing organisation or above:
a member's pledge by the branch, an organisation's commitment by its parent (四（二）); never by
the person who submitted it. prepare() uses its own members and organisation so that it cannot
collide with the one-commitment-per-owner rule when other apps prepare commitments too.
"""
import datetime

from django.utils import timezone

from commitments.models import Decision, ReviewDecision
from orgs.models import MemberCategory
from tests.conftest import make_commitment, make_member, make_org
from tests.matrix_common import NO_ARGS, Spec, allow, attr

SECRETARIES = ["committee_secretary", "secretary_a", "secretary_b"]


def prepare(world):
    campaign = world.campaign
    when = timezone.now() - datetime.timedelta(days=1)

    def pledge(branch, name, status="submitted", **kw):
        member = make_member(branch, name, **kw.pop("member_kw", {}))
        return make_commitment(campaign, member=member, status=status, items=2, submitted_at=when, **kw)

    world.rv_pledge_a = pledge(world.branch_a, "审诺甲", member_kw={"category": MemberCategory.LEADER})
    world.rv_pledge_a_self = pledge(world.branch_a, "审诺乙", actor=world.secretary_a)
    world.rv_pledge_b = pledge(world.branch_b, "审诺丙")
    world.rv_pledge_d = pledge(world.branch_d, "审诺丁")
    world.rv_pledge_draft = pledge(world.branch_a, "审诺戊", status="draft")
    world.rv_pledge_approved = pledge(world.branch_a, "审诺己", status="approved")
    ReviewDecision.objects.create(
        commitment=world.rv_pledge_approved, version=world.rv_pledge_approved.versions.get(),
        reviewer=world.secretary_a, reviewer_org=world.branch_a, decision=Decision.APPROVE, opinion="同意",
        advanced=True, central_work=True, post_duties=True, public_wishes=True, feasible=True)
    world.rv_org = make_org(world.committee, "审诺测试党支部", code="C1-RV")
    world.rv_org_commitment = make_commitment(campaign, organisation=world.rv_org, status="submitted",
                                              items=2, submitted_at=when)


REVIEW_TARGETS = {
    "own": attr("rv_pledge_a"),                   # a pledge in branch A
    "own_submission": attr("rv_pledge_a_self"),   # a pledge in branch A submitted by secretary A
    "child_org": attr("rv_org_commitment"),       # a branch's commitment, reviewed by the committee
    "sibling": attr("rv_pledge_b"),
    "other": attr("rv_pledge_d"),
    "approved": attr("rv_pledge_approved"),       # already decided: read-only page
    "draft": attr("rv_pledge_draft"),             # never submitted: sent to the commitment's page
}
REVIEW = {
    "committee_secretary": {"own", "own_submission", "child_org", "sibling", "approved", "draft"},
    "secretary_a": {"own", "approved", "draft"},
    "secretary_b": {"sibling"},
}

MATRIX = {
    "reviews:queue": Spec(NO_ARGS, allow(SECRETARIES), methods=("GET",)),
    "reviews:review": Spec(REVIEW_TARGETS, REVIEW),
    "reviews:bulk_approve": Spec(NO_ARGS, allow(SECRETARIES)),
}
