"""Permission-matrix entries for the evaluations app (评诺): the internal list, the evaluation page
and its POSTs, the rectification lists, the results download, 群众评议 on the noticeboard and the
awards basis.

Readers of a commitment read its evaluation. Secretaries over the reviewing organisation comment
as leaders and its officers record meeting tallies, never on their own organisation's commitment;
officers over the owner answer rectification orders (not the ones they issued); secretaries over
the reviewing organisation assess, release and order rectification; secretaries over the issuing
organisation extend and close an order. Anyone rates a published commitment. Everything
unpublished is a 404 for everyone.
"""
import datetime

from django.utils import timezone

from evaluations import services
from evaluations.selectors import summary_for
from orgs.models import Member
from tests.commitments.publishing import approved, published
from tests.evaluations.builders import pledge
from tests.matrix_common import LOGGED_IN, NO_ARGS, PERSONAS, READERS, Spec, allow, attr
from tests.orgs.matrix import MEMBER_EDIT, ORG_READ, ORG_TARGETS

RELATIONS = (("own", "a"), ("sibling", "b"), ("cousin", "c"), ("other", "d"))


def prepare(world):
    """In branches A, B, C, D: a published pledge of a new member with a meeting tally, assessed
    "partly" and ordered to rectify by a secretary over it; branch A's own commitment (reviewed by
    the committee); an approved, unpublished pledge in branch A. Then, to rate: a published and an
    approved (unpublished) pledge in branch A."""
    deadline = timezone.localdate() + datetime.timedelta(days=30)
    for key, branch in (("a", world.branch_a), ("b", world.branch_b), ("c", world.branch_c), ("d", world.branch_d)):
        reviewer = {"a": world.secretary_a, "b": world.secretary_b}.get(key, world.city_secretary)
        # The secretary who assesses and issues the order, so that it is the issuing organisation.
        issuer = {"a": world.secretary_a, "b": world.secretary_b, "c": world.committee_secretary}.get(
            key, world.city_secretary)
        member = Member.objects.create(branch=branch, name=f"评诺{key}", gender="M")
        c = published(world, member=member, reviewer=reviewer, drafter=world.reviewer, publisher=world.reviewer)
        tally = services.tally_record(actor=world.reviewer, commitment=c, held_on=datetime.date(2010, 11, 20),
                                      place="党员大会", satisfied=5, basic=2, unsatisfied=1,
                                      attendees=8, expected=8, mass_representatives=8)
        services.assess(actor=issuer, commitment=c, version=summary_for(c).version, result="partly", grade="fair",
                        reason="部分事项未完成。")
        order = services.rectification_order(actor=issuer, commitment=c, grounds="考核为基本兑现",
                                             required_actions="补齐台账", deadline=deadline)
        setattr(world, f"ev_{key}", c)
        setattr(world, f"ev_tally_{key}", tally)
        setattr(world, f"ev_order_{key}", order)
    world.ev_org_a = published(world, organisation=world.branch_a, drafter=world.reviewer, publisher=world.reviewer)
    member = Member.objects.create(branch=world.branch_a, name="评诺未公开", gender="F")
    world.ev_unpublished = approved(world, member=member, reviewer=world.secretary_a, drafter=world.reviewer)

    world.rate_published = pledge(world, world.branch_a, "评议甲")
    member = Member.objects.create(branch=world.branch_a, name="评议乙", gender="F")
    world.rate_unpublished = approved(world, member=member, reviewer=world.secretary_a, drafter=world.reviewer)


# The internal pages.
COMMITMENTS = {**{rel: attr(f"ev_{k}") for rel, k in RELATIONS}, "org_a": attr("ev_org_a"),
               "unpublished": attr("ev_unpublished")}
TALLIES = {rel: attr(f"ev_tally_{k}") for rel, k in RELATIONS}
ORDERS = {rel: attr(f"ev_order_{k}") for rel, k in RELATIONS}

# Officers over the owner (the pledges' members have no login); branch A's commitment is its own.
OFFICERS_OVER = {p: rels | ({"org_a"} if "own" in rels else set()) for p, rels in MEMBER_EDIT.items()}
# Readers: the officers over the owner (not the admin: 三员分立).
READ = OFFICERS_OVER
# Secretaries over the reviewing organisation comment as leaders (四（五）: from the level above);
# branch A's own commitment is the committee's, never branch A's own officers'.
LEADERS = {"committee_secretary": {"own", "sibling", "cousin", "org_a"}, "secretary_a": {"own"},
           "secretary_b": {"sibling"}}
# Meeting tallies: officers of the reviewing organisation or above, never the owner's.
TALLY_RECORDERS = {p: rels - ({"org_a"} if p in ("secretary_a", "staff_a") else set())
                   for p, rels in OFFICERS_OVER.items()}
# Secretaries over the reviewing organisation: branch A's own commitment is the committee's to assess.
ASSESSORS = {"committee_secretary": {"own", "sibling", "cousin", "org_a"}, "secretary_a": {"own"},
             "secretary_b": {"sibling"}}
# Secretaries over the issuing organisation (A by branch A, B by branch B, C by the committee,
# D by the city committee).
VERIFIERS = {"committee_secretary": {"own", "sibling", "cousin"}, "secretary_a": {"own"},
             "secretary_b": {"sibling"}}
# The drafters answer an order (officers over the owner), never the secretary who issued it.
RESPONDERS = {"reviewer": {"own", "sibling", "cousin", "other"}, "committee_secretary": {"own", "sibling"},
              "staff_a": {"own"}}
SECRETARIES = ["committee_secretary", "secretary_a", "secretary_b"]

# 群众评议 on the noticeboard.
RATE_TARGETS = {"published": attr("rate_published"), "unpublished": attr("rate_unpublished")}
RATERS = {p: {"published"} for p in PERSONAS}

MATRIX = {
    # The internal pages.
    "evaluations:list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "evaluations:release_bulk": Spec(NO_ARGS, allow(SECRETARIES), methods=("POST",)),
    # Everyone logged in has the page; it lists only the orders that are theirs to answer or verify.
    "evaluations:rectifications": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "evaluations:detail": Spec(COMMITMENTS, READ, methods=("GET",)),
    "evaluations:comment": Spec(COMMITMENTS, LEADERS, methods=("POST",)),
    "evaluations:tally": Spec(COMMITMENTS, TALLY_RECORDERS, methods=("POST",)),
    "evaluations:tally_void": Spec(TALLIES, MEMBER_EDIT, methods=("POST",)),
    "evaluations:assess": Spec(COMMITMENTS, ASSESSORS, methods=("POST",)),
    "evaluations:release": Spec(COMMITMENTS, ASSESSORS, methods=("POST",)),
    "evaluations:rectify": Spec(COMMITMENTS, ASSESSORS, methods=("POST",)),
    "evaluations:order_respond": Spec(ORDERS, RESPONDERS, methods=("POST",)),
    "evaluations:order_extend": Spec(ORDERS, VERIFIERS, methods=("POST",)),
    "evaluations:order_close": Spec(ORDERS, VERIFIERS, methods=("POST",)),

    # The 评诺结果 download: readers get the results of their scope; members and the auditor a 404.
    # (An org outside the scope is a 404: tests/evaluations/test_results_export.py.)
    "evaluations:results_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),

    # 群众评议 and the awards basis.
    # Anyone rates a published commitment (an empty POST re-shows the form); nothing unpublished.
    "evaluations:rate": Spec(RATE_TARGETS, RATERS, methods=("POST",), public=True),
    # The awards basis: readers of the organisation's subtree (officers, not the admin).
    "evaluations:awards": Spec(ORG_TARGETS, ORG_READ, methods=("GET",)),
    "evaluations:awards_xlsx": Spec(ORG_TARGETS, ORG_READ, methods=("GET",)),
}
