"""Permission-matrix entries for the orgs app: sign-in, the organisation tree, members, accounts and
role grants, and the roster and organisation imports.

Officers read and edit what lies in their subtree; the system administrator browses the tree and
manages organisations and accounts but reads no member data (三员分立). A stored import plan
belongs to whoever uploaded it: even an officer over the same branch gets a 404 for someone
else's token.
"""
import functools
import io

import openpyxl

from orgs import org_import, roster_import
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
ROSTER_PLAN = {"own": lambda world: {"token": world.import_token}}
ORG_PLAN = {"own": lambda world: {"token": world.org_import_token}}


@functools.cache
def _roster():
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "性别", "出生年月", "所在党支部"])
    wb.active.append(["矩阵测试", "男", "1980-01", "第一党支部"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), roster_import.read_roster(buf.getvalue())


@functools.cache
def _sheet():
    wb = openpyxl.Workbook()
    wb.active.append(["党组织名称", "上级党组织"])
    wb.active.append(["矩阵测试党支部", "C1"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), org_import.read_org_sheet(buf.getvalue())


def prepare(world):
    """A previewed, not yet applied roster of staff A's (one new member for branch A), and a
    previewed, not yet applied organisation sheet of the administrator's (one new branch under C1).
    The files are built and read once per test session, then planned for each world."""
    data, roster = _roster()
    world.import_token = roster_import.store_plan(actor=world.staff_a, roster=roster, data=data,
                                                  filename="名册.xlsx")
    data, sheet = _sheet()
    world.org_import_token = org_import.store_org_plan(actor=world.admin, roster=sheet, data=data,
                                                       filename="组织.xlsx")


MATRIX = {
    # Sign-in and the home page.
    "home": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "login": Spec(NO_ARGS, allow(["anonymous"])),
    "logout": Spec(NO_ARGS, allow(PERSONAS), methods=("POST",)),
    "password_change": Spec(NO_ARGS, allow(LOGGED_IN)),

    # The organisation tree.
    "orgs:tree": Spec(NO_ARGS, allow(TREE_READERS), methods=("GET",)),
    "orgs:detail": Spec(ORG_TARGETS, ORG_BROWSE, methods=("GET",)),
    "orgs:tree_children": Spec(ORG_TARGETS, ORG_BROWSE, methods=("GET",)),
    "orgs:org_suggest": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:edit": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS)}),
    # Branches take no children; the root has no parent to move from.
    "orgs:create_child": Spec(ORG_TARGETS, {"admin": {"parent", "child", "root"}}),
    "orgs:move": Spec(ORG_TARGETS, {"admin": set(ORG_TARGETS) - {"root"}}),

    # Members.
    "orgs:member_list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "orgs:member_create": Spec(NO_ARGS, allow(OFFICERS)),
    "orgs:member_detail": Spec(MEMBER_TARGETS, MEMBER_READ, methods=("GET",)),
    "orgs:member_edit": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "orgs:member_transfer": Spec(MEMBER_TARGETS, MEMBER_EDIT),

    # Accounts and role grants (the system administrator's).
    "orgs:user_list": Spec(NO_ARGS, allow(["admin"]), methods=("GET",)),
    "orgs:user_create": Spec(NO_ARGS, allow(["admin"])),
    "orgs:user_detail": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("GET",)),
    "orgs:user_grant": Spec(USER_TARGETS, {"admin": set(USER_TARGETS)}, methods=("POST",)),
    # The security administrator (安全管理员) also disables accounts (passwords are theirs alone:
    # orgs:account_reset in tests/security/matrix.py).
    "orgs:user_set_active": Spec(USER_TARGETS, {"admin": set(USER_TARGETS), "security": set(USER_TARGETS)},
                                 methods=("POST",)),
    "orgs:grant_revoke": Spec(GRANT_TARGETS, {"admin": set(GRANT_TARGETS)}, methods=("POST",)),

    # The roster import: any officer uploads; the plan is its uploader's.
    "orgs:member_import": Spec(NO_ARGS, allow(OFFICERS)),
    "orgs:member_import_template": Spec(NO_ARGS, allow(OFFICERS), methods=("GET",)),
    "orgs:member_import_preview": Spec(ROSTER_PLAN, {"staff_a": {"own"}}, methods=("GET",)),
    "orgs:member_import_confirm": Spec(ROSTER_PLAN, {"staff_a": {"own"}}, methods=("POST",)),

    # The organisation import: system administrators only; the plan is its uploader's.
    "orgs:org_import": Spec(NO_ARGS, allow({"admin"})),
    "orgs:org_import_template": Spec(NO_ARGS, allow({"admin"}), methods=("GET",)),
    "orgs:org_import_preview": Spec(ORG_PLAN, {"admin": {"own"}}, methods=("GET",)),
    "orgs:org_import_confirm": Spec(ORG_PLAN, {"admin": {"own"}}, methods=("POST",)),
}
