"""Permission-matrix entries for the orgs app (URLs, targets, who may do what)."""
from orgs.models import RoleGrant
from tests.matrix_common import LOGGED_IN, NO_ARGS, OFFICERS, PERSONAS, READERS, TREE_READERS, Spec, allow, attr

# Targets, by the relation they have to branch A (own), and where they sit in the tree.
ORG_TARGETS = {"own": attr("branch_a"), "sibling": attr("branch_b"), "parent": attr("committee"),
               "child": attr("general"), "cousin": attr("branch_c"), "other": attr("branch_d"),
               "root": attr("root")}
# Officers read an organisation's affairs; the admin only browses the tree (ORG_BROWSE).
ORG_READ = {
    "reviewer": set(ORG_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
ORG_BROWSE = {**ORG_READ, "admin": set(ORG_TARGETS)}
MEMBER_TARGETS = {"own": attr("member_a"), "sibling": attr("member_b"), "cousin": attr("member_c"),
                  "other": attr("member_d")}
MEMBER_EDIT = {
    "reviewer": set(MEMBER_TARGETS), "committee_secretary": {"own", "sibling", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
MEMBER_READ = {**MEMBER_EDIT, "member_a": {"own"}}
USER_TARGETS = {"own": attr("staff_a"), "sibling": attr("secretary_b")}


def _grant_of(name):
    return lambda world: RoleGrant.objects.filter(user=getattr(world, name)).first().pk


GRANT_TARGETS = {"own": _grant_of("staff_a"), "sibling": _grant_of("secretary_b")}

MATRIX = {
    "home": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "login": Spec(NO_ARGS, allow(["anonymous"])),
    "logout": Spec(NO_ARGS, allow(PERSONAS), methods=("POST",)),
    "password_change": Spec(NO_ARGS, allow(LOGGED_IN)),
    "orgs:tree": Spec(NO_ARGS, allow(TREE_READERS), methods=("GET",)),
    "orgs:detail": Spec(ORG_TARGETS, ORG_BROWSE, methods=("GET",)),
    "orgs:tree_children": Spec(ORG_TARGETS, ORG_BROWSE, methods=("GET",)),
    "orgs:org_suggest": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:edit": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS)}),
    # Branches take no children; the root has no parent to move from.
    "orgs:create_child": Spec(ORG_TARGETS, {"admin": {"parent", "child", "root"}}),
    "orgs:move": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS) - {"root"}}),
    "orgs:member_list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:member_create": Spec(NO_ARGS, allow(OFFICERS)),
    "orgs:member_detail": Spec(MEMBER_TARGETS, MEMBER_READ, methods=("GET",)),
    "orgs:member_edit": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "orgs:member_transfer": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "orgs:user_list": Spec(NO_ARGS, allow(["admin"]), methods=("GET",)),
    "orgs:user_create": Spec(NO_ARGS, allow(["admin"])),
    "orgs:user_detail": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("GET",)),
    "orgs:user_grant": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("POST",)),
    # The security administrator (安全管理员) also disables accounts (passwords are theirs alone:
    # orgs:account_reset in tests/security/matrix_accounts.py).
    "orgs:user_set_active": Spec(USER_TARGETS, {"admin": set(USER_TARGETS), "security": set(USER_TARGETS)},
                                 methods=("POST",)),
    "orgs:grant_revoke": Spec(GRANT_TARGETS, {"admin": set(GRANT_TARGETS)}, methods=("POST",)),
}
