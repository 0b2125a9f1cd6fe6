"""Permission-matrix entries for the printable forms (commitments/views/forms_pdf.py).

A commitment's form is printed by whoever may read the commitment (officers over the owner, the reviewing secretaries, the member for their own pledge) once it is approved;
an organisation's batch by officers reaching the organisation; blank forms by anyone signed in.
All are GET only, but for the POST that queues a large batch as a job. prepare() makes its own members and organisation, so the one-commitment-per-owner
rule cannot clash with other modules' prepare().
"""
from tests.conftest import make_commitment, make_member, make_org
from tests.matrix_common import LOGGED_IN, Spec, allow, attr
from tests.orgs.matrix import ORG_TARGETS


def prepare(world):
    from reviews.models import Decision, ReviewDecision

    def approved(reviewer, reviewer_org, **owner):
        c = make_commitment(world.campaign, status="approved", items=2, actor=world.staff_a, **owner)
        ReviewDecision.objects.create(
            commitment=c, version=c.versions.get(), reviewer=reviewer, reviewer_org=reviewer_org,
            decision=Decision.APPROVE, opinion="同意", advanced=True, central_work=True, post_duties=True,
            public_wishes=True, feasible=True)
        return c

    world.pdf_pledge_a = approved(world.secretary_a, world.branch_a, member=make_member(world.branch_a, "打印甲"))
    world.pdf_pledge_b = approved(world.secretary_b, world.branch_b, member=make_member(world.branch_b, "打印乙"))
    world.pdf_pledge_c = approved(world.committee_secretary, world.branch_c,
                                  member=make_member(world.branch_c, "打印丙"))
    world.pdf_pledge_d = approved(world.city_secretary, world.branch_d, member=make_member(world.branch_d, "打印丁"))
    world.pdf_org = make_org(world.committee, "打印测试党支部", code="C1-PDF", supervision_phone="0756-2128888")
    world.pdf_org_commitment = approved(world.committee_secretary, world.committee, organisation=world.pdf_org)
    # Never approved: nothing to print, for anyone.
    world.pdf_draft = make_commitment(world.campaign, member=make_member(world.branch_a, "打印戊"), status="draft")


FORM_TARGETS = {
    "own": attr("pdf_pledge_a"), "sibling": attr("pdf_pledge_b"), "cousin": attr("pdf_pledge_c"),
    "other": attr("pdf_pledge_d"), "child_org": attr("pdf_org_commitment"), "draft": attr("pdf_draft"),
}
FORM_READ = {
    "reviewer": {"own", "sibling", "cousin", "other", "child_org"},
    "committee_secretary": {"own", "sibling", "cousin", "child_org"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
# Officers reaching the organisation (administrators and auditors are not officers).
BATCH = {
    "reviewer": set(ORG_TARGETS), "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
BLANK_TARGETS = {"annex1": lambda world: {"kind": "annex1"}, "annex2": lambda world: {"kind": "annex2"}}

MATRIX = {
    "commitments:form_pdf": Spec(FORM_TARGETS, FORM_READ, methods=("GET",)),
    "commitments:batch_pdf": Spec(ORG_TARGETS, BATCH, methods=("GET",)),
    # A batch over BACKGROUND_PDF_THRESHOLD becomes a job on this POST (smaller ones: back to batch_pdf).
    "commitments:batch_pdf_job": Spec(ORG_TARGETS, {}, BATCH, methods=("POST",)),
    "commitments:blank_pdf": Spec(BLANK_TARGETS, allow(LOGGED_IN, BLANK_TARGETS), methods=("GET",)),
}
