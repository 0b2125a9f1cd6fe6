"""Reads for 审诺: the review queue, one commitment's review page, and the diff between versions.

The queue is what awaits a secretary: submitted commitments whose reviewing organisation they
lead. Each row carries what `can_review` and the template touch, selected up front, so the page
costs the same number of queries at any length.
"""
import datetime
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from commitments.models import Campaign, Commitment, CommitmentStatus, CommitmentVersion, Item
from commitments.permissions import can_review, can_view_commitment
from commitments.selectors import commitment_get_for
from orgs.models import Member, MemberCategory, Organisation
from orgs.permissions import SECRETARY_ROLES, scope_for
from orgs.selectors import under_any, organisation_list_for

from commitments.models import ReviewDecision

# What a queue row touches: the owner (name, branch, category for the leader badge), the
# reviewing organisation's path (can_review) and the submitter's name.
QUEUE_RELATED = ("organisation", "member", "member__branch", "reviewer_org", "last_submitted_by")

KIND_ORG = "org"
KIND_MEMBER = "member"
KIND_CHOICES = [(KIND_ORG, "党组织承诺"), (KIND_MEMBER, "党员承诺")]


# --- the queue ------------------------------------------------------------------------------

def _direct_paths(user) -> list[str]:
    """Paths of the organisations where the user holds a secretary role themself."""
    return scope_for(user).paths(SECRETARY_ROLES)


def _queue_base(user, *, campaign: Campaign | None, include_subtree: bool) -> QuerySet[Commitment]:
    """Submitted commitments awaiting the user, never their own commitment."""
    if campaign is None:
        return Commitment.objects.none()
    if include_subtree:
        where = under_any(scope_for(user).roots(SECRETARY_ROLES), "reviewer_org__path")
    else:
        # 四（二）: the parent organisation reviews its children, the branch its members; by
        # default a secretary sees what their own organisation is asked to review.
        paths = _direct_paths(user)
        where = Q(reviewer_org__path__in=paths) if paths else Q(pk__in=[])
    # Never their own commitment (commitments.permissions.is_own_commitment): their own pledges by
    # id (Member.user is indexed), not a join to every member; what they submitted; the commitments
    # of the organisations they are secretary of.
    own_orgs = sorted({g.organisation_id for g in scope_for(user).grants if g.role in SECRETARY_ROLES})
    return (Commitment.objects.filter(where, campaign=campaign, status=CommitmentStatus.SUBMITTED)
            .exclude(member_id__in=Member.objects.filter(user=user).values("id")).exclude(last_submitted_by=user)
            .exclude(organisation_id__in=own_orgs))


def review_queue_for(user, *, campaign: Campaign | None, include_subtree: bool = False,
                     org: Organisation | None = None, kind: str = "") -> QuerySet[Commitment]:
    """What awaits the user's review, oldest submission first.

    `org` narrows to commitments whose owner (the organisation, or the member's branch) lies in
    that organisation's subtree; `kind` is "org" or "member".
    """
    qs = _queue_base(user, campaign=campaign, include_subtree=include_subtree)
    if org is not None:
        qs = qs.filter(owner_path__startswith=org.path)
    if kind == KIND_ORG:
        qs = qs.filter(organisation__isnull=False)
    elif kind == KIND_MEMBER:
        qs = qs.filter(member__isnull=False)
    # While submitted the text cannot be edited, so the live items are the submitted ones.
    live_items = (Item.objects.filter(commitment=OuterRef("pk"), removed_at__isnull=True)
                  .order_by().values("commitment").annotate(n=Count("pk")).values("n"))
    return (qs.select_related(*QUEUE_RELATED)
            .annotate(item_count=Coalesce(Subquery(live_items, output_field=IntegerField()), Value(0)))
            .order_by(F("submitted_at").asc(nulls_last=True), "id"))


def queue_count_for(user, campaign: Campaign | None, *, include_subtree: bool = False) -> int:
    """How many commitments await the user's review (the home page's “N 条待审核”)."""
    return _queue_base(user, campaign=campaign, include_subtree=include_subtree).count()


def queue_org_choices_for(user) -> QuerySet[Organisation]:
    """Organisations the queue can be narrowed to: the subtrees where the user is a secretary."""
    return organisation_list_for(user, roles=SECRETARY_ROLES)


def is_reviewer(user) -> bool:
    """Whether the user holds a secretary role anywhere, i.e. has a review queue at all."""
    return scope_for(user).has_any(SECRETARY_ROLES)


def owner_labels_for(user, ids) -> dict[int, str]:
    """“Owner's kind” labels of commitments the user may see, for reporting bulk results."""
    rows = Commitment.objects.filter(pk__in=list(ids)).select_related(
        "organisation", "member", "member__branch", "reviewer_org")
    return {c.pk: f"{c.owner_name}的{c.kind_label}" for c in rows if can_view_commitment(user, c)}


# --- bulk approval --------------------------------------------------------------------------

def bulk_approval_blockers(commitment: Commitment) -> list[str]:
    """Why `commitment` must be reviewed on its own page rather than approved in bulk; empty when
    it is a routine pledge that may be (四（二）). Needs `member` selected with the row.

    Bulk approval is for routine members' pledges only: never an organisation's commitment, a
    leader's pledge (五（四）: a higher standard), or an oral pledge (五（四）: recorded by staff).
    This is the one place that decides; the bulk page lists and the service rechecks through it.
    The drafting checks (a later step) add their flags here: a pledge they flag is refused too.
    """
    if not commitment.is_member_pledge:
        return ["党组织的承诺须逐条审核"]
    reasons = []
    if commitment.member.category == MemberCategory.LEADER:
        reasons.append("领导干部的承诺标准应高于其他党员，须逐条审核")
    if commitment.is_oral:
        reasons.append("口头承诺须逐条审核")
    return reasons


@dataclass
class BulkRow:
    commitment: Commitment
    items: list[Item]
    blockers: list[str]

    @property
    def eligible(self) -> bool:
        return not self.blockers

    @property
    def target(self) -> str:
        return f"{self.commitment.pk}:{self.commitment.version}"


def bulk_rows_for(page_of_commitments) -> list[BulkRow]:
    """The bulk page's rows: each queue row with its live items and why it may not be bulk-approved."""
    return [BulkRow(commitment=c, items=c.live_items, blockers=bulk_approval_blockers(c))
            for c in page_of_commitments]


def bulk_queue_for(user, **filters) -> QuerySet[Commitment]:
    """The review queue (same filters) with each commitment's live items, for the bulk page."""
    return review_queue_for(user, **filters).prefetch_related(
        Prefetch("items", queryset=Item.objects.filter(removed_at__isnull=True).order_by("position", "id"),
                 to_attr="live_items"))


# --- the review page ------------------------------------------------------------------------

@dataclass
class ReviewPage:
    commitment: Commitment
    version: CommitmentVersion | None          # the latest submitted version
    previous: CommitmentVersion | None         # the one before it, if any
    items: list[dict]                          # the latest version's items, deadlines as dates
    diff: "VersionDiff | None"
    decisions: list[ReviewDecision]            # newest first

    @property
    def is_pending(self) -> bool:
        return self.commitment.status == CommitmentStatus.SUBMITTED


def review_get_for(user, pk) -> Commitment:
    """A commitment the user may review (whatever its state); otherwise 404."""
    return commitment_get_for(user, pk, predicate=can_review)


def review_page_for(commitment: Commitment) -> ReviewPage:
    """The latest submitted version, the one before it with the diff, and the decisions so far."""
    versions = list(commitment.versions.select_related("submitted_by", "consent_by").order_by("-number")[:2])
    version = versions[0] if versions else None
    previous = versions[1] if len(versions) > 1 else None
    decisions = list(commitment.decisions.select_related("reviewer", "reviewer_org", "version")
                     .order_by("-decided_at", "-id"))
    items = [{**item, "deadline": _parse_date(item.get("deadline"))}
             for item in (version.snapshot.get("items", []) if version else [])]
    diff = None
    if previous is not None:
        diff = version_diff(previous.snapshot, version.snapshot, goal_label=commitment.goal_label,
                            measures_label=commitment.measures_label,
                            with_responsible=not commitment.is_member_pledge)
    return ReviewPage(commitment=commitment, version=version, previous=previous, items=items, diff=diff,
                      decisions=decisions)


def _parse_date(value) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# --- the diff between two versions -----------------------------------------------------------
#
# Contract (templates/reviews/partials/diff.html renders it; the version-history page reuses both):
#
#   VersionDiff
#     has_previous: bool            False when there is nothing to compare with (first version)
#     changed: bool                 anything at all differs
#     goal: FieldDiff               the goal text
#     items: list[ItemDiff]         current items in order, each removed item placed where it stood
#     added / removed / changed_items / unchanged: int   counts for a summary line
#
#   ItemDiff
#     id                            the stable item id (snapshot["items"][i]["id"])
#     status: "added" | "removed" | "changed" | "unchanged"
#     number: int | None            1-based position in the current version (None when removed)
#     old_number: int | None        1-based position in the previous version (None when added)
#     moved: bool                   its place in the order changed
#     fields: list[FieldDiff]       every compared field, in form order
#
#   FieldDiff
#     key, label                    e.g. "content", "承诺内容"
#     old, new: str                 display values (deadlines as 2010年12月31日)
#     changed: bool
#     segments: list[Segment]       old and new interleaved: op is "equal", "insert" or "delete";
#                                   joining equal+delete gives old, equal+insert gives new
#
# Everything is plain data: rendering it runs no query.

EQUAL, INSERT, DELETE = "equal", "insert", "delete"
# Below this similarity a character diff is noise: show the old text struck and the new inserted.
WHOLE_REPLACE_RATIO = 0.3
# Equal runs this short between two edits are folded into them (a shared "的" or "和" is chance).
FOLD_EQUAL_RUN = 2


@dataclass(frozen=True)
class Segment:
    op: str
    text: str


@dataclass
class FieldDiff:
    key: str
    label: str
    old: str
    new: str
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class ItemDiff:
    id: object
    status: str
    number: int | None
    old_number: int | None
    fields: list[FieldDiff] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.status in ("changed", "unchanged") and self.number != self.old_number

    @property
    def changed_fields(self) -> list[FieldDiff]:
        return [f for f in self.fields if f.changed]

    def value(self, key: str) -> str:
        """The current value of a field (the previous one for a removed item)."""
        for f in self.fields:
            if f.key == key:
                return f.old if self.status == "removed" else f.new
        return ""


@dataclass
class VersionDiff:
    has_previous: bool
    goal: FieldDiff
    items: list[ItemDiff]

    def _count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def added(self) -> int:
        return self._count("added")

    @property
    def removed(self) -> int:
        return self._count("removed")

    @property
    def changed_items(self) -> int:
        return self._count("changed")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def moved(self) -> int:
        return sum(1 for i in self.items if i.moved)

    @property
    def changed(self) -> bool:
        return self.goal.changed or any(i.status != "unchanged" or i.moved for i in self.items)


def text_segments(old: str, new: str) -> list[Segment]:
    """Character-level insertions and deletions turning `old` into `new`.

    Characters, not words: Chinese has no spaces to split on, and SequenceMatcher on characters
    finds the edited phrase. Very different texts come back as one deletion and one insertion.
    """
    if old == new:
        return [Segment(EQUAL, old)] if old else []
    if not old:
        return [Segment(INSERT, new)]
    if not new:
        return [Segment(DELETE, old)]
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < WHOLE_REPLACE_RATIO:
        return [Segment(DELETE, old), Segment(INSERT, new)]
    ops = [(tag, old[i1:i2], new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    merged: list[list] = []
    for n, (tag, a, b) in enumerate(ops):
        if tag == "equal" and len(a) <= FOLD_EQUAL_RUN and 0 < n < len(ops) - 1:
            tag = "replace"
        if tag != "equal" and merged and merged[-1][0] != "equal":
            merged[-1][1] += a
            merged[-1][2] += b
        else:
            merged.append([tag, a, b])
    segments = []
    for tag, a, b in merged:
        if tag == "equal":
            segments.append(Segment(EQUAL, a))
            continue
        if a:
            segments.append(Segment(DELETE, a))
        if b:
            segments.append(Segment(INSERT, b))
    return segments


def _whole_segments(old: str, new: str) -> list[Segment]:
    """Short values (a date, a name) read best replaced whole."""
    if old == new:
        return [Segment(EQUAL, old)] if old else []
    return [s for s in (Segment(DELETE, old), Segment(INSERT, new)) if s.text]


def _cn_date(value) -> str:
    parsed = _parse_date(value)
    if parsed is None:
        return value or ""
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


def _item_fields(measures_label: str, with_responsible: bool):
    """(key, label, display function, whole-value?) of the compared item fields, in form order."""
    fields = [("content", "承诺内容", str, False), ("measures", measures_label, str, False),
              ("deadline", "完成时限", _cn_date, True)]
    if with_responsible:
        fields.append(("responsible", "履行责任人", str, True))
    return fields


def _field_diff(key, label, old_value, new_value, display=str, whole=False) -> FieldDiff:
    old = display(old_value or "") if old_value else ""
    new = display(new_value or "") if new_value else ""
    return FieldDiff(key=key, label=label, old=old, new=new,
                     segments=(_whole_segments if whole else text_segments)(old, new))


def version_diff(previous: dict | None, current: dict, *, goal_label: str = "目标",
                 measures_label: str = "措施", with_responsible: bool = True) -> VersionDiff:
    """What changed from one frozen snapshot to the next: the goal and each item, matched by id.

    `previous` None (a first version) gives has_previous False and every item "added".
    The labels default to neutral words; pass the commitment's goal_label and measures_label
    (创建目标/具体措施, 争当目标/完成措施). Member pledges have no 履行责任人: with_responsible=False.
    """
    spec = _item_fields(measures_label, with_responsible)
    cur_items = list(current.get("items", []))
    prev_items = list((previous or {}).get("items", []))
    prev_by_id = {i.get("id"): (n, i) for n, i in enumerate(prev_items, start=1)}
    cur_ids = {i.get("id") for i in cur_items}

    def diff_of(old: dict | None, new: dict | None) -> list[FieldDiff]:
        return [_field_diff(key, label, (old or {}).get(key), (new or {}).get(key), display, whole)
                for key, label, display, whole in spec]

    # A removed item is shown after the nearest earlier item that survived (or first of all).
    removed_after: dict[object, list[ItemDiff]] = {}
    anchor = None
    for n, item in enumerate(prev_items, start=1):
        if item.get("id") in cur_ids:
            anchor = item.get("id")
            continue
        removed_after.setdefault(anchor, []).append(
            ItemDiff(id=item.get("id"), status="removed", number=None, old_number=n, fields=diff_of(item, None)))

    items: list[ItemDiff] = list(removed_after.get(None, [])) if previous is not None else []
    for n, item in enumerate(cur_items, start=1):
        match = prev_by_id.get(item.get("id")) if previous is not None else None
        if match is None:
            items.append(ItemDiff(id=item.get("id"), status="added", number=n, old_number=None,
                                  fields=diff_of(None, item)))
        else:
            old_number, old = match
            fields = diff_of(old, item)
            status = "changed" if any(f.changed for f in fields) else "unchanged"
            items.append(ItemDiff(id=item.get("id"), status=status, number=n, old_number=old_number,
                                  fields=fields))
            items.extend(removed_after.get(item.get("id"), []))
    goal = _field_diff("goal", goal_label, (previous or {}).get("goal", "") if previous is not None
                       else current.get("goal", ""), current.get("goal", ""))
    return VersionDiff(has_previous=previous is not None, goal=goal, items=items)
