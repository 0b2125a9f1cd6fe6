"""Reads of the lazily loaded organisation tree and of organisation search.

The tree page shows the user's top organisations and their children; every other level is
loaded on demand, one node's children at a time. Each read is a fixed number of queries
whatever the size of the tree: the nodes, how many children each has (one aggregate) and the
members under each (one aggregate grouped by path prefix, so a province-wide count returns one
row per shown node, not one per branch).
"""
import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from core.cache import counted

from .models import PATH_SEP, PATH_STEP, Member, MemberStatus, Organisation
from .permissions import TREE_ROLES, scope_for
from .selectors import under_any

SEGMENT = PATH_STEP + len(PATH_SEP)
# Children drawn per organisation and per page: a province's root has ~900 (template time is
# ~0.2 ms a node); the rest come with "显示更多", a page at a time.
CHILDREN_SHOWN = 50


@dataclass
class LazyNode:
    org: Organisation
    member_count: int = 0
    child_count: int = 0
    children: list["LazyNode"] | None = None  # None: not loaded, shown collapsed
    more: int = 0  # children not drawn (past CHILDREN_SHOWN): loaded page by page

    @property
    def expanded(self) -> bool:
        return self.children is not None


def _id_of(path: str) -> int:
    return int(path.rstrip(PATH_SEP).rsplit(PATH_SEP, 1)[-1])


def _member_counts(scope: list[str], expanded: list[str]) -> dict[str, int]:
    """Active members keyed by the path of the node they are shown under.

    A member under an expanded node P is keyed by the path of P's child that holds it (its
    branch path cut to that length), or by P's own path if it sits in P itself; the deepest
    expanded node wins. A shown node's total is the sum of the keys under its path.

    The members are first counted per branch (an integer GROUP BY, from the (branch, status)
    index), and only those per-branch counts are joined to the organisations and grouped by
    key: at a province (1,000,000 members, 48,000 branches) that is a quarter of the work of
    grouping the joined member rows themselves.
    """
    if not scope or not expanded:
        return {}
    per_branch = (Member.objects.filter(status=MemberStatus.ACTIVE,
                                        branch_id__in=Organisation.objects.filter(under_any(scope)).values("pk"))
                  .order_by().values("branch_id").annotate(n=Count("id")).values("branch_id", "n"))
    inner_sql, inner_params = per_branch.query.sql_with_params()
    cases, case_params = [], []
    for path in sorted(expanded, key=len, reverse=True):
        cases.append("WHEN o.path LIKE %s THEN SUBSTR(o.path, 1, %s)")
        case_params += [path + "%", len(path) + SEGMENT]
    org_table = connection.ops.quote_name(Organisation._meta.db_table)
    sql = (f"SELECT CASE {' '.join(cases)} ELSE '' END AS k, SUM(c.n) "
           f"FROM ({inner_sql}) c INNER JOIN {org_table} o ON o.id = c.branch_id GROUP BY 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*case_params, *inner_params])
        return {key: int(n) for key, n in cursor.fetchall()}


def _totals(counts: dict[str, int], paths) -> dict[str, int]:
    """Each path's total: the sum of the keys at or under it (each key adds to its ancestors)."""
    wanted = set(paths)
    totals = dict.fromkeys(wanted, 0)
    for key, n in counts.items():
        for end in range(SEGMENT, len(key) + 1, SEGMENT):
            if key[:end] in wanted:
                totals[key[:end]] += n
    return totals


def _child_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(Organisation.objects.filter(parent_id__in=ids, is_active=True)
                .values_list("parent_id").annotate(n=Count("id")).order_by())


def _sort_key(node: LazyNode):
    return (node.org.sort_order, node.org.name, node.org.pk)


@dataclass
class Tree:
    roots: list[LazyNode]
    counted_at: datetime.datetime | None = None  # member counts read from the cache, counted then


def tree_for(user, *, open_org: Organisation | None = None, fresh: bool = False) -> Tree:
    """The user's top organisations with their children, plus the chain down to `open_org`
    (each organisation on it shown with its children), with child and member counts. At most
    CHILDREN_SHOWN children are drawn per organisation (and the next one on the chain).

    The member counts read every member in scope (a province's million: ~0.4 s); as on the
    coverage dashboard (core.cache.counted), a count that slow is kept in the cache
    for COVERAGE_CACHE_SECONDS and the page says when it was counted (`fresh` counts again).
    `open_org` must be one the user may see (the view checks). Four queries.
    """
    tops = scope_for(user).roots(TREE_ROLES)
    if not tops:
        return Tree(roots=[])
    expanded = list(tops)
    if open_org is not None:
        top = next((t for t in tops if open_org.path.startswith(t)), None)
        if top is not None:
            # The organisations from just below the top down to open_org itself.
            expanded += [open_org.path[:n] for n in range(len(top) + SEGMENT, len(open_org.path) + 1, SEGMENT)]
    expanded_ids = [_id_of(p) for p in expanded]
    expanded_set = set(expanded)
    # The first CHILDREN_SHOWN children of each open organisation (and the chain's), ranked in
    # the database: a province's root has ~900, of which 50 are drawn.
    rank = Window(RowNumber(), partition_by=[F("parent_id")],
                  order_by=[F("sort_order").asc(), F("name").asc(), F("id").asc()])
    orgs = list(Organisation.objects.filter(Q(path__in=tops) | Q(parent_id__in=expanded_ids), is_active=True)
                .annotate(rank=rank).filter(Q(rank__lte=CHILDREN_SHOWN) | Q(path__in=expanded))
                .order_by("path"))
    by_id: dict[int, LazyNode] = {}
    roots: list[LazyNode] = []
    for org in orgs:
        node = LazyNode(org=org, children=[] if org.path in expanded_set else None)
        by_id[org.pk] = node
        parent = by_id.get(org.parent_id)
        if org.path in tops:
            roots.append(node)
        elif parent is not None and parent.children is not None:
            parent.children.append(node)
    shown = list(by_id.values())
    for node in shown:
        if node.children:
            node.children.sort(key=_sort_key)
    child_counts = _child_counts([n.org.pk for n in shown])
    counts, counted_at = counted(f"orgtree:{','.join(tops)}:{','.join(sorted(expanded))}",
                                 lambda: _member_counts(tops, expanded), fresh=fresh)
    totals = _totals(counts, [n.org.path for n in shown])
    for node in shown:
        node.child_count = child_counts.get(node.org.pk, 0)
        node.member_count = totals[node.org.path]
        if node.children is not None:
            node.more = max(0, node.child_count - len(node.children))
    return Tree(roots=roots, counted_at=counted_at)


@dataclass
class ChildrenPage:
    nodes: list[LazyNode]
    total: int
    page: int
    has_next: bool
    more: int  # children after this page


def children_for(org: Organisation, *, page: int = 1) -> ChildrenPage:
    """One page of the active children of `org` (which the caller has checked the user may
    see), CHILDREN_SHOWN a page, with their child and member counts. Four queries; the member
    count reads only the subtrees of the children shown."""
    active = Organisation.objects.filter(parent=org, is_active=True)
    total = active.count()
    pages = max(1, -(-total // CHILDREN_SHOWN))
    page = min(max(1, page), pages)
    start = (page - 1) * CHILDREN_SHOWN
    children = list(active.order_by("sort_order", "name", "id")[start:start + CHILDREN_SHOWN])
    paths = [c.path for c in children]
    child_counts = _child_counts([c.pk for c in children])
    totals = _totals(_member_counts(paths, [org.path]), paths) if children else {}
    nodes = [LazyNode(org=c, member_count=totals.get(c.path, 0), child_count=child_counts.get(c.pk, 0))
             for c in children]
    return ChildrenPage(nodes=nodes, total=total, page=page, has_next=page < pages,
                        more=max(0, total - start - len(children)))


def path_names(orgs) -> dict[int, list[str]]:
    """For each organisation, the names of its ancestors, root first: one query for a page."""
    orgs = list(orgs)
    ids = {i for o in orgs for i in o.ancestor_ids}
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}
    return {o.pk: [names[i] for i in o.ancestor_ids if i in names] for o in orgs}
