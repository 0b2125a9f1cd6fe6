"""Permission-matrix entries for the account-security pages of the security administrator
(安全管理员): locked accounts, unlocking, password reset links; the reset link page itself; the
administrator-change requests (三员分立 with two people). (De)activation is orgs:user_set_active."""
from orgs.models import AdminRequestKind, AdminRoleRequest, Role
from tests.matrix_common import NO_ARGS, Spec, allow, attr

# Accounts in the security administrator's reach (the root): ordinary ones and the other two
# administrators; never their own.
ACCOUNT_TARGETS = {"own": attr("staff_a"), "sibling": attr("secretary_b"), "admin": attr("admin"),
                   "auditor": attr("auditor"), "self": attr("security")}
SECURED = {"security": {"own", "sibling", "admin", "auditor"}}

MATRIX = {
    "orgs:account_list": Spec(NO_ARGS, allow(["security"]), methods=("GET",)),
    "orgs:account_detail": Spec(ACCOUNT_TARGETS, SECURED, methods=("GET",)),
    "orgs:account_unlock": Spec(ACCOUNT_TARGETS, SECURED, methods=("POST",)),
    "orgs:account_reset": Spec(ACCOUNT_TARGETS, SECURED, methods=("POST",)),
    # A link that is no token of any reset: 404 for everyone, signed in or not.
    "password_reset_confirm": Spec({"invalid": lambda world: {"token": "x" * 43}}, {}, public=True),
    "orgs:admin_request_list": Spec(NO_ARGS, allow(["admin", "security", "auditor"]), methods=("GET",)),
    # A grant of 审计管理员 to the reviewer proposed by the system administrator: the security
    # administrator and the auditor may decide it, the proposer only cancel it.
    "orgs:admin_request_decide": Spec({"pending": attr("admin_request")}, {"security": {"pending"},
                                      "auditor": {"pending"}}, methods=("POST",)),
    "orgs:admin_request_cancel": Spec({"pending": attr("admin_request")}, {"admin": {"pending"}},
                                      methods=("POST",)),
}


def prepare(world):
    world.admin_request = AdminRoleRequest.objects.create(
        kind=AdminRequestKind.GRANT, target=world.reviewer, username="reviewer", full_name="市直审核员",
        organisation=world.root, role=Role.AUDITOR, proposed_by=world.admin, proposer_role=Role.ADMIN)
