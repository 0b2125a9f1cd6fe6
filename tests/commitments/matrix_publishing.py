"""Permission-matrix entries for publishing (亮诺) and the public noticeboard."""
from orgs.models import Member
from tests.commitments.publishing import approved, published
from tests.matrix_common import NO_ARGS, PERSONAS, Spec, allow, attr
from tests.orgs.matrix import MEMBER_EDIT


def prepare(world):
    """Approved pledges of fresh members in branches A, B, C, D (to publish), and published ones."""
    for key, branch in (("a", world.branch_a), ("b", world.branch_b), ("c", world.branch_c), ("d", world.branch_d)):
        reviewer = {"a": world.secretary_a, "b": world.secretary_b}.get(key, world.reviewer)
        if key in ("c", "d"):
            # Branches C and D have no secretary persona; the city reviewer (staff) cannot review,
            # so the city secretary does.
            reviewer = world.city_secretary
        m1 = Member.objects.create(branch=branch, name=f"待公开{key}", gender="M")
        m2 = Member.objects.create(branch=branch, name=f"已公开{key}", gender="F")
        setattr(world, f"pub_approved_{key}", approved(world, member=m1, reviewer=reviewer, drafter=world.reviewer))
        setattr(world, f"pub_published_{key}", published(world, member=m2, reviewer=reviewer, drafter=world.reviewer,
                                                         publisher=world.reviewer))


APPROVED = {rel: attr(f"pub_approved_{k}") for rel, k in (("own", "a"), ("sibling", "b"), ("cousin", "c"),
                                                         ("other", "d"))}
PUBLISHED = {rel: attr(f"pub_published_{k}") for rel, k in (("own", "a"), ("sibling", "b"), ("cousin", "c"),
                                                           ("other", "d"))}
ORGS = {"own": attr("branch_a"), "parent": attr("committee"), "root": attr("root")}
EVERYONE = {p: {"own", "sibling", "cousin", "other", "parent", "root", None} for p in PERSONAS}

MATRIX = {
    # Officers over the owner publish; the member does not (the branch runs the noticeboard).
    "commitments:publish": Spec(APPROVED, MEMBER_EDIT, methods=("POST",)),
    # The drafters reopen a published commitment: officers, and the member for a written pledge of
    # their own (none of these belongs to a persona).
    "commitments:revise": Spec(PUBLISHED, MEMBER_EDIT, methods=("POST",)),
    # Whoever may publish adds a channel (网络) to the current publication (四（三）).
    "commitments:add_channels": Spec(PUBLISHED, MEMBER_EDIT, methods=("POST",)),
    "portal:noticeboard": Spec(NO_ARGS, allow(PERSONAS), methods=("GET",), public=True),
    "portal:public_org": Spec(ORGS, EVERYONE, methods=("GET",), public=True),
    "portal:public_commitment": Spec(PUBLISHED, EVERYONE, methods=("GET",), public=True),
}
