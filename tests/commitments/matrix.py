"""Permission-matrix entries for campaigns, drafting and exemptions."""
import datetime

from commitments.models import Exemption
from tests.conftest import make_commitment, make_member
from tests.matrix_common import LOGGED_IN, NO_ARGS, READERS, Spec, allow, attr
from tests.orgs.matrix import MEMBER_EDIT, MEMBER_TARGETS, ORG_TARGETS


def prepare(world):
    """Returned pledges (editable, with a frozen version 1) in branches A, B, C, D; deferrals too."""
    for key, member in (("a", world.member_a), ("b", world.member_b), ("c", world.member_c), ("d", world.member_d)):
        setattr(world, f"pledge_{key}", make_commitment(world.campaign, member=member, status="returned",
                                                        actor=world.staff_a))
    for key, member in (("a", world.member_a2), ("b", world.member_b), ("c", world.member_c), ("d", world.member_d)):
        setattr(world, f"deferral_{key}", Exemption.objects.create(
            member=member, campaign=world.campaign, kind="defer", reason="外出",
            makeup_due=datetime.date.today() + datetime.timedelta(days=30), decided_by=world.staff_a))
    # Exemptions proposed by each branch, waiting for the 机关党组织 above to decide.
    for key, branch in (("a", world.branch_a), ("b", world.branch_b), ("c", world.branch_c), ("d", world.branch_d)):
        setattr(world, f"proposal_{key}", Exemption.objects.create(
            member=make_member(branch, f"病休{key}"), campaign=world.campaign, kind="exempt", status="proposed",
            reason="长期病休", proposed_by=world.staff_a))


PLEDGES = {"own": attr("pledge_a"), "sibling": attr("pledge_b"), "cousin": attr("pledge_c"), "other": attr("pledge_d")}
VERSIONS = {rel: (lambda f: lambda world: {"pk": f(world), "number": 1})(f) for rel, f in PLEDGES.items()}
PROPOSALS = {"own": attr("proposal_a"), "sibling": attr("proposal_b"), "cousin": attr("proposal_c"),
             "other": attr("proposal_d")}
# 审核认同 by the secretaries of the branch's parent (or above): the committee's for A, B and, through
# the general branch, C; nobody here for D (another committee).
DECIDE = {"committee_secretary": {"own", "sibling", "cousin"}}
# An organisation is exempted by the secretaries over its parent.
ORG_EXEMPT = {"committee_secretary": {"own", "sibling", "child", "cousin"}}
DEFERRALS = {"own": attr("deferral_a"), "sibling": attr("deferral_b"), "cousin": attr("deferral_c"),
             "other": attr("deferral_d")}
# Officers over the owner edit; the member edits their own written pledge.
PLEDGE_EDIT = {**MEMBER_EDIT, "member_a": {"own"}}
PLEDGE_READ = PLEDGE_EDIT
# Organisations whose commitment may be started: officers over them, never the root (no reviewer).
ORG_START = {
    "reviewer": set(ORG_TARGETS) - {"root"}, "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
BRANCH_PAGES = {
    "reviewer": {"own", "sibling", "cousin", "other"}, "committee_secretary": {"own", "sibling", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}

MATRIX = {
    "commitments:campaign_list": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "commitments:campaign_create": Spec(NO_ARGS, allow(["admin"])),
    "commitments:campaign_edit": Spec({"own": attr("campaign")}, {"admin": {"own"}}),
    "commitments:list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "commitments:detail": Spec(PLEDGES, PLEDGE_READ, methods=("GET",)),
    "commitments:edit": Spec(PLEDGES, PLEDGE_EDIT),
    "commitments:submit": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),
    # 四（一）自愿: only the member confirms or sends back a pledge drafted for them.
    "commitments:confirm": Spec(PLEDGES, {"member_a": {"own"}}),
    "commitments:send_back": Spec(PLEDGES, {"member_a": {"own"}}, methods=("POST",)),
    "commitments:version": Spec(VERSIONS, PLEDGE_READ, methods=("GET",)),
    "commitments:add_reference": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),
    "commitments:org_start": Spec(ORG_TARGETS, ORG_START, methods=("POST",)),
    "commitments:branch_pledges": Spec(ORG_TARGETS, BRANCH_PAGES, methods=("GET",)),
    "commitments:pledge_start": Spec(MEMBER_TARGETS, {**MEMBER_EDIT, "member_a": {"own"}}, methods=("POST",)),
    "commitments:my_pledge": Spec(NO_ARGS, allow(["member_a"]), methods=("GET",)),
    "commitments:exemption_create": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "commitments:exemption_made_up": Spec(DEFERRALS, MEMBER_EDIT, methods=("POST",)),
    "commitments:exemption_revoke": Spec(DEFERRALS, MEMBER_EDIT, methods=("POST",)),
    "commitments:exemption_list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "commitments:exemption_decide": Spec(PROPOSALS, DECIDE, methods=("POST",)),
    "commitments:organisation_exemption_create": Spec(ORG_TARGETS, ORG_EXEMPT),
    "commitments:discard": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),
}
