"""Permission-matrix entries for the pages of the security and audit administrators (三员分立).

The security administrator (安全管理员) handles locked accounts, unlocking and password reset links
for every account but their own; administrator-change requests are proposed by one administrator
and decided by another. The audit administrator (审计管理员) alone reads the audit trail, by GET
only. Everyone else gets a 404. (De)activation is orgs:user_set_active in tests/orgs/matrix.py.
"""
from orgs import audit
from orgs.models import AdminRequestKind, AdminRoleRequest, AuditEvent, Role
from tests.matrix_common import NO_ARGS, Spec, allow, attr


def prepare(world):
    """A pending grant of 审计管理员 to the reviewer, proposed by the system administrator; an audit
    row with no organisation (a failed login), readable by an auditor on the root only."""
    world.admin_request = AdminRoleRequest.objects.create(
        kind=AdminRequestKind.GRANT, target=world.reviewer, username="reviewer", full_name="市直审核员",
        organisation=world.root, role=Role.AUDITOR, proposed_by=world.admin, proposer_role=Role.ADMIN)
    world.audit_login_failed = audit.record(actor=None, action="auth.login_failed", result="failure",
                                            detail={"username": "nobody"})


# Accounts in the security administrator's reach (the root): ordinary ones and the other two
# administrators; never their own.
ACCOUNT_TARGETS = {"own": attr("staff_a"), "sibling": attr("secretary_b"), "admin": attr("admin"),
                   "auditor": attr("auditor"), "self": attr("security")}
SECURED = {"security": {"own", "sibling", "admin", "auditor"}}


def _org_row(name):
    return lambda world: AuditEvent.objects.filter(action="org.create", organisation=getattr(world, name)).get().pk


AUDIT_TARGETS = {"own": _org_row("branch_a"), "other": _org_row("branch_d"),
                 "no_org": lambda world: world.audit_login_failed.pk}

MATRIX = {
    # Account security (安全管理员), and the reset link page itself.
    "orgs:account_list": Spec(NO_ARGS, allow(["security"]), methods=("GET",)),
    "orgs:account_detail": Spec(ACCOUNT_TARGETS, SECURED, methods=("GET",)),
    "orgs:account_unlock": Spec(ACCOUNT_TARGETS, SECURED, methods=("POST",)),
    "orgs:account_reset": Spec(ACCOUNT_TARGETS, SECURED, methods=("POST",)),
    # A link that is no token of any reset: 404 for everyone, signed in or not.
    "password_reset_confirm": Spec({"invalid": lambda world: {"token": "x" * 43}}, {}, public=True),

    # Administrator-change requests.
    "orgs:admin_request_list": Spec(NO_ARGS, allow(["admin", "security", "auditor"]), methods=("GET",)),
    # A grant of 审计管理员 to the reviewer proposed by the system administrator: the security
    # administrator and the auditor may decide it, the proposer only cancel it.
    "orgs:admin_request_decide": Spec({"pending": attr("admin_request")}, {"security": {"pending"},
                                      "auditor": {"pending"}}, methods=("POST",)),
    "orgs:admin_request_cancel": Spec({"pending": attr("admin_request")}, {"admin": {"pending"}},
                                      methods=("POST",)),

    # The audit trail (审计管理员 only, GET only).
    "orgs:audit_list": Spec(NO_ARGS, {"auditor": {None}}, methods=("GET",)),
    "orgs:audit_detail": Spec(AUDIT_TARGETS, {"auditor": set(AUDIT_TARGETS)}, methods=("GET",)),
    "orgs:audit_export": Spec(NO_ARGS, {"auditor": {None}}, methods=("GET",)),
}
