"""Reads for 审诺: the review queue, one commitment's review page, and the diff between versions.

The queue is what awaits a secretary: submitted commitments whose reviewing organisation they
lead. Each row carries what `can_review` and the template touch, selected up front, so the page
costs the same number of queries at any length.
"""
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from commitments.diff import VersionDiff, parse_date, version_diff
from commitments.models import Campaign, Commitment, CommitmentStatus, CommitmentVersion, Item, ReviewDecision
from commitments.permissions import can_review
from commitments.selectors import commitment_get_for
from orgs.models import Member, MemberCategory, Organisation
from orgs.permissions import SECRETARY_ROLES, scope_for
from orgs.selectors import organisation_list_for, under_any

# What a queue row touches: the owner (name, branch, category for the leader badge), the
# reviewing organisation's path (can_review) and the submitter's name.
QUEUE_RELATED = ("organisation", "member", "member__branch", "reviewer_org", "last_submitted_by")

KIND_ORG = "org"
KIND_MEMBER = "member"
KIND_CHOICES = [(KIND_ORG, "党组织承诺"), (KIND_MEMBER, "党员承诺")]


# --- the queue ------------------------------------------------------------------------------

def direct_paths(user) -> list[str]:
    """Paths of the organisations where the user holds a secretary role themself."""
    return scope_for(user).paths(SECRETARY_ROLES)


def queue_base(user, *, campaign: Campaign | None, include_subtree: bool) -> QuerySet[Commitment]:
    """Submitted commitments awaiting the user, never their own commitment."""
    if campaign is None:
        return Commitment.objects.none()
    if include_subtree:
        where = under_any(scope_for(user).roots(SECRETARY_ROLES), "reviewer_org__path")
    else:
        # 四（二）: the parent organisation reviews its children, the branch its members; by
        # default a secretary sees what their own organisation is asked to review.
        paths = direct_paths(user)
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
    qs = queue_base(user, campaign=campaign, include_subtree=include_subtree)
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
    return queue_base(user, campaign=campaign, include_subtree=include_subtree).count()


def queue_org_choices_for(user) -> QuerySet[Organisation]:
    """Organisations the queue can be narrowed to: the subtrees where the user is a secretary."""
    return organisation_list_for(user, roles=SECRETARY_ROLES)


def is_reviewer(user) -> bool:
    """Whether the user holds a secretary role anywhere, i.e. has a review queue at all."""
    return scope_for(user).has_any(SECRETARY_ROLES)


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
    diff: VersionDiff | None
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
    items = [{**item, "deadline": parse_date(item.get("deadline"))}
             for item in (version.snapshot.get("items", []) if version else [])]
    diff = None
    if previous is not None:
        diff = version_diff(previous.snapshot, version.snapshot, goal_label=commitment.goal_label,
                            measures_label=commitment.measures_label,
                            with_responsible=not commitment.is_member_pledge)
    return ReviewPage(commitment=commitment, version=version, previous=previous, items=items, diff=diff,
                      decisions=decisions)
