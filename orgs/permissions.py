"""Who may do what, in one place.

A role is granted on one organisation and reaches that organisation's whole subtree. The same
predicates draw the buttons on a page and guard the POST behind them; services call them again.
A user's grants are read once per request (one query) and kept on the user object.
"""
from dataclasses import dataclass

from .models import (BRANCH_KINDS, PATH_SEP, PATH_STEP, SEPARATED_ROLES, Member, Organisation, Role, RoleGrant,
                     path_segment)

# 书记, 副书记 and 组织委员/党务工作者 run an organisation's affairs: they read its subtree and
# keep its members' records.
OFFICER_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.STAFF})
# Secretaries approve and sign off (审诺, 评诺); staff draft and print.
SECRETARY_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
# Who reads an organisation's affairs: its member register (personal data), commitments, ledgers,
# coverage lists and appraisal results. Officers only: under 三员分立 (等保 least privilege) a
# system administrator keeps the system, not the members' data, unless also granted an officer role.
READER_ROLES = OFFICER_ROLES
# Who may browse the organisation tree itself (names, kinds, supervision phones, member counts):
# officers, and system administrators, who manage organisations and open accounts.
TREE_ROLES = OFFICER_ROLES | {Role.ADMIN}


@dataclass(frozen=True)
class Grant:
    role: str
    path: str
    organisation_id: int
    kind: str = ""  # the organisation's OrgKind


class Scope:
    """The grants of one user, with prefix tests that need no further query."""

    def __init__(self, grants: list[Grant]):
        self.grants = grants

    def reaches(self, path: str, roles) -> bool:
        """True when one of `roles` is held on the node at `path` or one of its ancestors."""
        return any(g.role in roles and path.startswith(g.path) for g in self.grants)

    def roots(self, roles) -> list[str]:
        """The top-most paths where one of `roles` is held (nested grants collapse into one)."""
        paths = sorted({g.path for g in self.grants if g.role in roles})
        roots: list[str] = []
        for path in paths:
            if not any(path.startswith(r) for r in roots):
                roots.append(path)
        return roots

    def paths(self, roles) -> list[str]:
        """The paths where one of `roles` is held on the node itself (not inherited from above)."""
        return sorted({g.path for g in self.grants if g.role in roles})

    def holds_at_root(self, roles) -> bool:
        """One of `roles` held on a root organisation (the top of a tree)."""
        return any(g.role in roles and len(g.path) == PATH_STEP + len(PATH_SEP) for g in self.grants)

    def has_any(self, roles) -> bool:
        return any(g.role in roles for g in self.grants)

    def has_any_above_branches(self, roles) -> bool:
        """One of `roles` held on an organisation that may have others below it (not a branch)."""
        return any(g.role in roles and g.kind not in BRANCH_KINDS for g in self.grants)


def scope_for(user) -> Scope:
    """The user's grants, loaded once and cached on the user object for this request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope([])
    cached = getattr(user, "_org_scope", None)
    if cached is None:
        rows = (RoleGrant.objects.filter(user=user, organisation__is_active=True)
                .values_list("role", "organisation__path", "organisation_id", "organisation__kind"))
        cached = Scope([Grant(role, path, org_id, kind) for role, path, org_id, kind in rows])
        user._org_scope = cached
    return cached


def forget_scope(user) -> None:
    """Drop the cached grants after they change."""
    if hasattr(user, "_org_scope"):
        del user._org_scope


# --- organisations -------------------------------------------------------------------------

def can_view_org(user, org: Organisation) -> bool:
    """Officers read their organisation's subtree: its members, commitments, ledgers and lists."""
    return scope_for(user).reaches(org.path, READER_ROLES)


def can_browse_org(user, org: Organisation) -> bool:
    """Officers and system administrators see the organisation in the tree (no member data)."""
    return scope_for(user).reaches(org.path, TREE_ROLES)


def can_manage_org(user, org: Organisation) -> bool:
    """System administrators edit organisations and add children within their subtree."""
    return scope_for(user).reaches(org.path, {Role.ADMIN})


def can_move_org(user, org: Organisation, new_parent: Organisation | None = None) -> bool:
    """An administrator who reaches both the current and the new parent may move a subtree."""
    scope = scope_for(user)
    if org.parent_id is None:
        return False
    parent_path = org.path[: -len(path_segment(org.pk))]
    if not scope.reaches(parent_path, {Role.ADMIN}):
        return False
    if new_parent is None:
        return True
    return scope.reaches(new_parent.path, {Role.ADMIN}) and not new_parent.is_descendant_of(org)


# --- members --------------------------------------------------------------------------------

def can_view_members(user, org: Organisation) -> bool:
    """The member register of a subtree is read by its officers (not by system administrators)."""
    return scope_for(user).reaches(org.path, READER_ROLES)


def can_view_member(user, member: Member) -> bool:
    """Officers over the member's branch, and the member themself."""
    if member.user_id is not None and member.user_id == getattr(user, "pk", None):
        return True
    return can_view_members(user, member.branch)


def can_add_member(user, branch: Organisation) -> bool:
    """Officers of the branch or of an ancestor register members in a branch."""
    return branch.is_branch and branch.is_active and scope_for(user).reaches(branch.path, OFFICER_ROLES)


def can_edit_member(user, member: Member) -> bool:
    """Officers of the member's branch or of an ancestor keep the member's record."""
    return scope_for(user).reaches(member.branch.path, OFFICER_ROLES)


def can_transfer_member(user, member: Member, to_branch: Organisation | None = None) -> bool:
    """A transfer needs officer rights over the member now and over the branch they move to."""
    if not can_edit_member(user, member):
        return False
    return to_branch is None or can_add_member(user, to_branch)


# --- accounts and roles ---------------------------------------------------------------------

def can_manage_accounts(user, org: Organisation | None = None) -> bool:
    """System administrators create accounts and grant roles within their subtree."""
    scope = scope_for(user)
    if org is None:
        return scope.has_any({Role.ADMIN})
    return scope.reaches(org.path, {Role.ADMIN})


# 三员分立: the accounts of security and audit administrators are looked after (password, status,
# lock) by security administrators only, never by a system administrator.
SECURITY_MANAGED_ROLES = frozenset({Role.SECURITY, Role.AUDITOR})


def can_manage_security(user, org: Organisation | None = None) -> bool:
    """Security administrators see locked accounts, unlock them, reset passwords and disable or
    re-enable accounts within their subtree."""
    scope = scope_for(user)
    if org is None:
        return scope.has_any({Role.SECURITY})
    return scope.reaches(org.path, {Role.SECURITY})


def can_secure_user(user, target, target_paths: list[str]) -> bool:
    """A security administrator looks after an account (not their own) whose every grant and
    member record lies in their subtree; an account tied to no organisation at all (every grant
    revoked, no member record) is looked after by the security administrators of a root, so
    that no account is ever out of every reach."""
    if target.pk == user.pk:
        return False
    scope = scope_for(user)
    if not target_paths:
        return scope.holds_at_root({Role.SECURITY})
    return all(scope.reaches(path, {Role.SECURITY}) for path in target_paths)


def can_manage_user(user, target, target_paths: list[str], target_roles=None) -> bool:
    """A system administrator manages (enables, disables) an account whose every grant and member
    record lies in reach, unless it is a security or audit administrator's; a security
    administrator manages any account in reach (status; passwords are theirs alone, see
    can_secure_user). Never one's own.

    `target_paths` are the organisation paths of the target's grants and member record;
    `target_roles` the roles it holds (read from the database when not given).
    """
    if target.pk == user.pk:
        return False
    if can_secure_user(user, target, target_paths):
        return True
    if not target_paths:
        return False
    scope = scope_for(user)
    if not all(scope.reaches(path, {Role.ADMIN}) for path in target_paths):
        return False
    if target_roles is None:
        target_roles = RoleGrant.objects.filter(user=target).values_list("role", flat=True)
    return not set(target_roles) & SECURITY_MANAGED_ROLES


# --- administrator role requests (三员分立 with two people) ------------------------------------

def administrator_role_of(user) -> str:
    """The one of the three administrator roles the user holds ("" for none)."""
    held = {g.role for g in scope_for(user).grants if g.role in SEPARATED_ROLES}
    return next(iter(held)) if len(held) == 1 else ""


def can_view_admin_requests(user) -> bool:
    """System, security and audit administrators all see the pending administrator changes."""
    return scope_for(user).has_any(SEPARATED_ROLES)


def can_decide_admin_request(user, request) -> bool:
    """An administrator of another of the three kinds than the proposer, reaching the
    organisation concerned, approves or rejects a pending request; never the proposer, never
    the account it is about."""
    if not request.is_pending or user.pk in (request.proposed_by_id, request.target_id):
        return False
    return scope_for(user).reaches(request.organisation.path, SEPARATED_ROLES - {request.proposer_role})


def can_cancel_admin_request(user, request) -> bool:
    """The proposer withdraws their own pending request."""
    return request.is_pending and user.pk == request.proposed_by_id
