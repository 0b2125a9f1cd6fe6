"""Permission-matrix entries for opinions, the public suggestion box and reference items."""
from commitments.models import ReferenceItem, Suggestion
from orgs.models import Organisation
from tests.conftest import make_org
from tests.matrix_common import PERSONAS, Spec, allow, attr
from tests.orgs.matrix import ORG_TARGETS


def prepare(world):
    """A pending suggestion in five places of the tree, reference items published at four levels,
    and a revoked branch whose suggestion box must be closed."""
    for relation, org in (("own", world.branch_a), ("sibling", world.branch_b), ("parent", world.committee),
                          ("cousin", world.branch_c), ("other", world.branch_d)):
        setattr(world, f"op_suggestion_{relation}", Suggestion.objects.create(
            organisation=org, campaign=world.campaign, channel=Suggestion.Channel.BOX_ONLINE,
            content=f"建议{org.name}多为群众办实事"))
    for relation, org in (("parent", world.committee), ("child", world.general), ("root", world.root),
                          ("other", world.committee2)):
        setattr(world, f"op_reference_{relation}", ReferenceItem.objects.create(
            organisation=org, audience=ReferenceItem.Audience.MEMBER, category=ReferenceItem.Category.GOOD_DEEDS,
            content=f"{org.name}参考：每年为群众办一件实事", created_by=world.admin))
    world.op_revoked_branch = make_org(world.committee, "已撤销党支部", code="C1-X")
    Organisation.objects.filter(pk=world.op_revoked_branch.pk).update(is_active=False)


# Officers over the organisation handle its opinions (can_handle_opinions).
OPINION_ORGS = {
    "reviewer": set(ORG_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
SUGGESTION_TARGETS = {r: attr(f"op_suggestion_{r}") for r in ("own", "sibling", "parent", "cousin", "other")}
SUGGESTION_HANDLERS = {
    "reviewer": set(SUGGESTION_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
# Officers of a non-branch organisation publish references (can_publish_references).
REFERENCE_ORGS = {"reviewer": {"parent", "child", "root"}, "committee_secretary": {"parent", "child"}}
REFERENCE_TARGETS = {r: attr(f"op_reference_{r}") for r in ("parent", "child", "root", "other")}
REFERENCE_MANAGERS = {"reviewer": set(REFERENCE_TARGETS), "committee_secretary": {"parent", "child"}}
# Anyone, logged in or not, may use an active organisation's box; a revoked one is a 404.
BOX_TARGETS = {"own": attr("branch_a"), "root": attr("root"), "revoked": attr("op_revoked_branch")}

MATRIX = {
    "commitments:suggest": Spec(BOX_TARGETS, allow(PERSONAS, ("own", "root")), public=True),
    "commitments:opinion_list": Spec(ORG_TARGETS, OPINION_ORGS, methods=("GET",)),
    "commitments:opinion_create": Spec(ORG_TARGETS, OPINION_ORGS),
    "commitments:opinion_detail": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("GET",)),
    "commitments:opinion_adopt": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:opinion_decline": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:opinion_start_commitment": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:reference_list": Spec(ORG_TARGETS, REFERENCE_ORGS),
    "commitments:reference_import": Spec(ORG_TARGETS, REFERENCE_ORGS, methods=("POST",)),
    "commitments:reference_edit": Spec(REFERENCE_TARGETS, REFERENCE_MANAGERS),
    "commitments:reference_set_active": Spec(REFERENCE_TARGETS, REFERENCE_MANAGERS, methods=("POST",)),
}
