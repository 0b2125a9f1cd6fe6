"""Every read a page needs, scoped to what the user may see.

Missing and forbidden are the same 404. Subtree reads are prefix queries on the materialised
path, so their cost does not depend on the depth of the tree.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from core.pages import capped_count, count_label

from . import accounts
from .models import (BRANCH_KINDS, PATH_SEP, SEPARATED_ROLES, AdminRequestStatus, AdminRoleRequest, Member,
                     MemberStatus, MemberTransfer, Organisation, PasswordResetToken, Role, RoleGrant)
from .permissions import (OFFICER_ROLES, READER_ROLES, TREE_ROLES, can_browse_org, can_decide_admin_request,
                          can_view_member, can_view_org, scope_for)

User = get_user_model()


def under_any(paths: list[str], lookup: str = "path") -> Q:
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{lookup}__startswith": p}) for p in paths))


def get_visible_or_404(queryset: QuerySet, pk, allowed) -> object:
    """The row `pk` of `queryset` if `allowed(row)`; a 404 for missing, malformed and forbidden alike."""
    try:
        obj = queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not allowed(obj):
        raise Http404
    return obj


# --- organisations -------------------------------------------------------------------------

def organisation_list_for(user, *, roles=READER_ROLES, q: str = "", kinds=None,
                          include_inactive: bool = False,
                          missing_phone: bool = False) -> QuerySet[Organisation]:
    """Organisations in the subtrees where the user holds one of `roles`, in tree order."""
    qs = Organisation.objects.filter(under_any(scope_for(user).roots(roles)))
    if missing_phone:
        qs = qs.filter(supervision_phone="")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__iexact=q))
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("path")


def organisation_get_for(user, pk, *, predicate=can_view_org) -> Organisation:
    """One organisation the user may see (or act on, per `predicate`); otherwise 404."""
    return get_visible_or_404(Organisation.objects.select_related("parent"), pk, lambda o: predicate(user, o))


def branch_choices_for(user) -> QuerySet[Organisation]:
    """Active branches the user may register members in."""
    return organisation_list_for(user, roles=OFFICER_ROLES, kinds=BRANCH_KINDS)


def ancestors_of(org: Organisation) -> list[Organisation]:
    """The chain from the root down to org's parent, in one query."""
    ids = org.ancestor_ids
    if not ids:
        return []
    by_id = {o.pk: o for o in Organisation.objects.filter(pk__in=ids).only("id", "name", "path")}
    return [by_id[i] for i in ids if i in by_id]


def common_ancestor(org_ids) -> Organisation | None:
    """The nearest organisation above all of `org_ids` (an import's audit organisation): the
    longest path prefix they share, ending at a parent's segment; None if they share none."""
    paths = list(Organisation.objects.filter(pk__in=list(org_ids)).values_list("path", flat=True))
    if not paths:
        return None
    common = []
    for segment in zip(*(p.split(PATH_SEP)[:-1] for p in paths)):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    return Organisation.objects.filter(pk=int(common[-1])).first() if common else None


def member_counts_by_org(paths: list[str]) -> dict[int, int]:
    """Active members per organisation id, counted over each organisation's whole subtree.

    One aggregate query over the given subtrees; the per-branch counts are then added up to
    every ancestor read off the branch's path.
    """
    totals: dict[int, int] = defaultdict(int)
    if not paths:
        return totals
    rows = (Member.objects.filter(under_any(paths, "branch__path"), status=MemberStatus.ACTIVE)
            .values_list("branch__path").annotate(n=Count("id")).order_by())
    for path, n in rows:
        for part in path.split(PATH_SEP):
            if part:
                totals[int(part)] += n
    return totals


@dataclass
class TreeNode:
    org: Organisation
    member_count: int = 0
    children: list["TreeNode"] = field(default_factory=list)
    has_hidden_children: bool = False


def organisation_tree_for(user, *, root: Organisation | None = None, levels: int = 3) -> list[TreeNode]:
    """The user's organisations as a tree, `levels` deep below each top node, with subtree counts.

    Three queries whatever the size: the nodes, their member counts, and which of the deepest
    shown nodes have children of their own.
    """
    if root is not None:
        tops = [root.path]
        base_depth = root.depth
    else:
        tops = scope_for(user).roots(TREE_ROLES)
        base_depth = None
    if not tops:
        return []
    qs = Organisation.objects.filter(under_any(tops), is_active=True)
    top_depths = {}
    if base_depth is None:
        top_depths = dict(Organisation.objects.filter(path__in=tops).values_list("path", "depth"))
        max_depth = max(top_depths.values(), default=0) + levels
    else:
        max_depth = base_depth + levels
    nodes = list(qs.filter(depth__lte=max_depth).order_by("path"))
    counts = member_counts_by_org(tops)
    edge = [n.pk for n in nodes if n.depth == max_depth]
    with_children = set(Organisation.objects.filter(parent_id__in=edge, is_active=True)
                        .values_list("parent_id", flat=True).distinct()) if edge else set()
    by_id: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    for org in nodes:
        node = TreeNode(org=org, member_count=counts.get(org.pk, 0),
                        has_hidden_children=org.pk in with_children)
        by_id[org.pk] = node
        parent = by_id.get(org.parent_id)
        if parent is None or org.path in tops:
            roots.append(node)
        else:
            parent.children.append(node)
    for node in by_id.values():
        node.children.sort(key=lambda n: (n.org.sort_order, n.org.name))
    return roots


@dataclass
class OrgDetail:
    org: Organisation
    ancestors: list[Organisation]
    children: list[TreeNode]
    member_count: int
    grants: list[RoleGrant]


def organisation_detail_for(user, pk) -> OrgDetail:
    """An organisation page: breadcrumbs, children with counts, role holders (no member data)."""
    org = organisation_get_for(user, pk, predicate=can_browse_org)
    children = list(Organisation.objects.filter(parent=org).order_by("sort_order", "name"))
    counts = member_counts_by_org([org.path])
    grants = list(RoleGrant.objects.filter(organisation=org).select_related("user")
                  .order_by("role", "user__username"))
    return OrgDetail(
        org=org,
        ancestors=ancestors_of(org),
        children=[TreeNode(org=c, member_count=counts.get(c.pk, 0)) for c in children],
        member_count=counts.get(org.pk, 0),
        grants=grants,
    )


# --- members --------------------------------------------------------------------------------

# Orderings the member register offers (whitelisted: the key comes from the query string).
MEMBER_SORTS = {
    "": ("branch__path", "name", "id"),
    "name": ("name", "id"),
    "birth": ("birth_month", "id"),
    "-birth": ("-birth_month", "id"),
    "joined": ("joined_party_on", "id"),
    "-joined": ("-joined_party_on", "id"),
}
# A member's 附件2 form needs these; a record without them is a to-do for the branch staff.
INCOMPLETE_MEMBER = Q(birth_month__isnull=True) | Q(joined_party_on__isnull=True) | Q(post="")


def member_list_for(user, *, org: Organisation | None = None, q: str = "", category: str = "",
                    membership: str = "", status: str = MemberStatus.ACTIVE, gender: str = "",
                    has_account: str = "", incomplete: bool = False, sort: str = "") -> QuerySet[Member]:
    """Members the user may read, filtered; `org` narrows to one subtree the user may see."""
    if org is not None:
        paths = [org.path]
    else:
        paths = scope_for(user).roots(READER_ROLES)
    qs = Member.objects.filter(under_any(paths, "branch__path")).select_related("branch")
    if q:
        q = q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(phone__contains=q) | Q(post__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if membership:
        qs = qs.filter(membership=membership)
    if status:
        qs = qs.filter(status=status)
    if gender:
        qs = qs.filter(gender=gender)
    if has_account == "yes":
        qs = qs.filter(user__isnull=False)
    elif has_account == "no":
        qs = qs.filter(user__isnull=True)
    if incomplete:
        qs = qs.filter(INCOMPLETE_MEMBER)
    return qs.order_by(*MEMBER_SORTS.get(sort, MEMBER_SORTS[""]))


def member_get_for(user, pk, *, predicate=can_view_member) -> Member:
    """One member the user may see (or act on, per `predicate`); otherwise 404."""
    return get_visible_or_404(Member.objects.select_related("branch", "branch__parent", "user"), pk,
                              lambda m: predicate(user, m))


def member_transfers_of(member: Member) -> list[MemberTransfer]:
    """A member's branch history, newest first."""
    return list(member.transfers.select_related("from_branch", "to_branch", "actor"))


def members_of_user(user) -> list[Member]:
    """The member record(s) linked to a login, for the home page."""
    return list(Member.objects.filter(user=user).select_related("branch"))


# --- accounts -------------------------------------------------------------------------------

def user_list_for(user, *, q: str = "", role: str = "") -> QuerySet:
    """Accounts tied (by a grant or a member record) to the administrator's subtrees."""
    paths = scope_for(user).roots({Role.ADMIN})
    if not paths:
        return User.objects.none()
    # EXISTS per account (indexed on the user) rather than IN (SELECT DISTINCT ... joins): the
    # list reads accounts in username order and stops at its page (docs/PERFORMANCE.md).
    in_scope = (Exists(RoleGrant.objects.filter(under_any(paths, "organisation__path"), user=OuterRef("pk")))
                | Exists(Member.objects.filter(under_any(paths, "branch__path"), user=OuterRef("pk"))))
    if scope_for(user).holds_at_root({Role.ADMIN}):
        # Accounts tied to no organisation (every grant revoked): a root's system administrator
        # still finds them, to propose their roles back (orgs.services_admin).
        in_scope |= (~Exists(RoleGrant.objects.filter(user=OuterRef("pk")))
                     & ~Exists(Member.objects.filter(user=OuterRef("pk"))))
    qs = User.objects.filter(in_scope)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(last_name__icontains=q) | Q(first_name__icontains=q))
    if role:
        qs = qs.filter(Exists(RoleGrant.objects.filter(user=OuterRef("pk"), role=role)))
    return (qs.select_related("member", "member__branch")
            .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.select_related("organisation")))
            .order_by("username"))


def user_get_for(user, pk):
    """One account the administrator may see; otherwise 404."""
    try:
        return user_list_for(user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def account_list_for(user, *, q: str = "", only_locked: bool = False) -> QuerySet:
    """Accounts a security administrator looks after: those tied to their subtrees and, for a
    root's security administrator, those tied to no organisation at all; never their own."""
    scope = scope_for(user)
    reach = accounts.in_reach(scope.roots({Role.SECURITY}))
    if scope.holds_at_root({Role.SECURITY}):
        reach |= accounts.unattached()
    qs = User.objects.filter(reach)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(last_name__icontains=q))
    ids = qs.exclude(pk=user.pk).values("pk").distinct()
    users = User.objects.filter(pk__in=ids)
    if only_locked:
        users = users.filter(pk__in=accounts.locked_usernames(users.values_list("pk", "username")))
    return (users.select_related("security")
            .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.select_related("organisation")))
            .order_by("username"))


# How many decided requests the approval page shows below the pending ones.
RECENT_ADMIN_REQUESTS = 50


def admin_request_list_for(user, *, recent: bool = True) -> dict:
    """The administrator-change requests about the subtrees where the user holds one of the three
    administrator roles: every pending one, and the latest decided ones; each pending one
    carries may_decide / may_cancel for its buttons."""
    paths = scope_for(user).roots(SEPARATED_ROLES)
    qs = (AdminRoleRequest.objects.filter(under_any(paths, "organisation__path"))
          .select_related("organisation", "target", "proposed_by", "decided_by"))
    pending = list(qs.filter(status=AdminRequestStatus.PENDING).order_by("-created_at", "-id"))
    for request in pending:
        request.may_decide = can_decide_admin_request(user, request)
        request.may_cancel = request.proposed_by_id == user.pk
    done = (list(qs.exclude(status=AdminRequestStatus.PENDING).order_by("-decided_at", "-id")[:RECENT_ADMIN_REQUESTS])
            if recent else [])
    return {"pending": pending, "recent": done}


def admin_request_get_for(user, pk) -> AdminRoleRequest:
    """One request about the user's administrator subtrees; otherwise 404."""
    paths = scope_for(user).roots(SEPARATED_ROLES)
    qs = AdminRoleRequest.objects.filter(under_any(paths, "organisation__path")).select_related("organisation")
    return get_visible_or_404(qs, pk, lambda r: True)


def password_reset_token_for(token: str) -> PasswordResetToken:
    """The usable reset link of that token; 404 for an unknown, spent, voided, expired or
    not yet approved one alike."""
    if not token or len(token) > 100:
        raise Http404
    row = (PasswordResetToken.objects.filter(token_hash=accounts.reset_token_hash(token))
           .select_related("user").first())
    if row is None or not row.usable():
        raise Http404
    return row


def member_choices_without_account_for(user) -> QuerySet[Member]:
    """Active members in the administrator's subtrees who have no login yet, for the account
    form's picker: the name and the branch's name only. A system administrator does not read the
    member register (三员分立), so nothing else of the record (phone, birth month, ...) is loaded."""
    paths = scope_for(user).roots({Role.ADMIN})
    return (Member.objects.filter(under_any(paths, "branch__path"), user__isnull=True,
                                  status=MemberStatus.ACTIVE)
            .select_related("branch").only("id", "name", "branch__id", "branch__name", "branch__path")
            .order_by("branch__path", "name"))


def home_for(user) -> dict:
    """What the home page shows: the user's organisations and roles, their member record."""
    grants = list(RoleGrant.objects.filter(user=user, organisation__is_active=True)
                  .select_related("organisation").order_by("organisation__path", "role"))
    return {"grants": grants, "members": members_of_user(user)}


@dataclass
class Todo:
    label: str
    count: int
    url: str
    hint: str = ""

    @property
    def shown(self) -> str:
        return count_label(self.count)


def todo_for(user) -> list[Todo]:
    """Open tasks for the home page; later steps add theirs. One count query per kind of task."""
    scope = scope_for(user)
    todos: list[Todo] = []
    if scope.has_any(OFFICER_ROLES):
        n = capped_count(member_list_for(user, incomplete=True))
        if n:
            todos.append(Todo("党员信息待补全", n, reverse("orgs:member_list") + "?incomplete=on",
                              "出生年月、入党时间或职务未填写，填写《党员公开承诺书》时需要"))
    if scope.has_any(TREE_ROLES):
        n = capped_count(organisation_list_for(user, roles=TREE_ROLES, missing_phone=True))
        if n:
            todos.append(Todo("党组织未设监督电话", n, reverse("orgs:tree") + "?missing_phone=on",
                              "《基层党组织公开承诺书》须公布监督电话"))
    if scope.has_any(SEPARATED_ROLES):
        n = sum(1 for r in admin_request_list_for(user, recent=False)["pending"] if r.may_decide)
        if n:
            todos.append(Todo("管理员变更待审批", n, reverse("orgs:admin_request_list"),
                              "三员分立：管理员角色和管理员密码的变更须由另一类管理员审批"))
    return todos
