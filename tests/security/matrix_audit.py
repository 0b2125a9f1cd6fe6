"""Permission-matrix entries for the audit viewer (orgs/views_audit.py): only the audit
administrator reads it, and only by GET; everyone else gets 404."""
from orgs import audit
from orgs.models import AuditEvent
from tests.matrix_common import NO_ARGS, Spec


def prepare(world):
    # A row with no organisation (a failed login), readable by an auditor on the root only.
    world.audit_login_failed = audit.record(actor=None, action="auth.login_failed", result="failure",
                                            detail={"username": "nobody"})


def _org_row(name):
    return lambda world: AuditEvent.objects.filter(action="org.create", organisation=getattr(world, name)).get().pk


AUDIT_TARGETS = {"own": _org_row("branch_a"), "other": _org_row("branch_d"),
                 "no_org": lambda world: world.audit_login_failed.pk}

MATRIX = {
    "orgs:audit_list": Spec(NO_ARGS, {"auditor": {None}}, methods=("GET",)),
    "orgs:audit_detail": Spec(AUDIT_TARGETS, {"auditor": set(AUDIT_TARGETS)}, methods=("GET",)),
    "orgs:audit_export": Spec(NO_ARGS, {"auditor": {None}}, methods=("GET",)),
}
