"""Permission-matrix entries for the account-security pages of the security administrator
(安全管理员): locked accounts, unlocking. Password reset and (de)activation are orgs:user_*."""
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
}
