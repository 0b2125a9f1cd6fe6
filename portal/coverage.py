"""全面覆盖，不留空白点 (六（三）) and 加强领导和指导 (六（一）): the figures of the coverage dashboard
and the lists behind them.

Every figure is an aggregate over one organisation's subtree for one campaign. Each kind of row
(organisations, members, commitments, overdue items, ballots, meeting tallies) is read by one
GROUP BY query whose key is the owner's path cut to one level below the organisation,
`Substr(path, 1, len(org.path) + 11)`: the organisation's own rows keep its path, every other row
takes its direct child's. The same query therefore gives the figures of each child and, added up,
of the whole subtree, and the number of queries does not grow with the number of organisations.

Definitions (the dashboard's 口径说明 repeats them in Chinese; the Excel report uses the same):

* 已承诺 means a commitment submitted at least once (models.submitted_q): submitted, returned for
  revision (it was submitted and is in the review loop: the owner has pledged, the text is being
  improved), approved, published, or a published one being revised. A draft never submitted is
  草稿未提交: not covered, on the 空白点 list. A discarded draft (withdrawn) counts nowhere.
* Organisations that must commit: active organisations with a parent (the root has nobody to
  review its commitment, see can_start_org_commitment) whose kind the campaign lists in
  committing_kinds (by default every kind but 党组), in the subtree, the organisation itself
  included when it has a parent. Each in one state: its commitment's (submitted states; "revising"
  for a published one being revised), else exempt (免于承诺, approved by the level above; these
  leave the count of those that must commit), else "draft" (草稿未提交), else "none".
* Members: active members (在册) of branches in the subtree, each in exactly one state, in this
  order of precedence: pledged (a submitted pledge, by its status, or "revising"), exempt
  (特殊情况免于承诺, approved by the 机关党组织), deferred and made up without a submitted pledge
  (made_up: only from before 补课 required one), deferred with the make-up date passed
  (overdue_makeup: makeup_due < today, not made up), deferred and waiting (pending_makeup),
  exemption proposed and not yet approved (exempt_proposed), a draft never submitted (draft), and
  no pledge at all (blank).
* Covered (覆盖率) = pledged + exempt. 空白点 = blank, draft, exempt_proposed, overdue_makeup and
  made_up: everyone not covered except a deferral still within its make-up date, which is on
  record (要做好记录) and shown on its own (延期待补课), still not covered.
* Commitments are those of the organisations and members above. The funnel counts how far each
  got: drafted (exists), submitted (submitted, approved or published — or has a public version),
  approved (approved or published, or public), published (has a public version: a published
  commitment under revision still counts), with progress (published with a progress entry),
  assessed (published with an assessment). The steps nest.
* Stamped (已公开 · 已归档盖章件): published commitments (as above) whose public version has a
  scan of its signed and stamped paper form on file (any of the three copies, not withdrawn). A
  commitment published again after a revision needs a scan of the new version to count.
* Overdue items (approximation): live items (not removed) of commitments with a public version
  whose deadline has passed and that no progress entry completes. The noticeboard judges the
  items of the public version's frozen snapshot; while a published commitment is being revised
  its live items may differ from that snapshot, and this count follows the live ones.
* Fulfilment: the result of the latest assessment (组织考核) of each commitment.
* Satisfaction: online ballots plus meeting tallies that were not voided, counted only once the
  campaign's public window has closed (running tallies are secret while it is open).
"""
import datetime
import logging
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import (Case, CharField, Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum,
                              Value, When)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from commitments.lifecycle import in_force_q
from commitments.models import (LIVE_STATUSES, SUBMITTED_STATUSES, Campaign, Commitment, CommitmentStatus, Exemption,
                                ExemptionStatus, Item, ProgressEntry, StampedScan, submitted_q)
from core.cache import counted
from evaluations.models import Ballot, Fulfilment, MeetingTally, Rating
from evaluations.scoring import Tally
from orgs.models import PATH_STEP, Member, MemberStatus, Organisation
from orgs.permissions import can_view_org

log = logging.getLogger(__name__)

NONE = "none"
DRAFT = "draft"
REVISING = "revising"
# The states of a submitted commitment (已承诺): its status, or "revising" for a published one
# reopened for revision (status draft again, the public version still up).
PLEDGED_STATES = (*SUBMITTED_STATUSES, REVISING)
ORG_STATES = (NONE, DRAFT, *PLEDGED_STATES, "exempt")
DEFERRED_STATES = ("made_up", "pending_makeup", "overdue_makeup")
MEMBER_STATES = (*PLEDGED_STATES, "exempt", *DEFERRED_STATES, "exempt_proposed", DRAFT, "blank")
# 空白点: not covered, and not a deferral still within its make-up date (see the module docstring).
BLANK_STATES = ("blank", DRAFT, "exempt_proposed", "overdue_makeup", "made_up")
ORG_BLANK_STATES = (NONE, DRAFT)
STATE_LABELS = {REVISING: "已公开，修订中", DRAFT: "草稿未提交"}
# Filters of the member list: a single state, or a group of them.
MEMBER_STATE_GROUPS = {
    "pledged": ("已承诺（已提交）", PLEDGED_STATES),
    "exempt": ("免于承诺（已认同）", ("exempt",)),
    "blank": ("空白点（未承诺、草稿未提交、补课逾期等）", BLANK_STATES),
    "none": ("未填写承诺", ("blank",)),
    "draft": ("草稿未提交", (DRAFT,)),
    "exempt_proposed": ("免于承诺待认同", ("exempt_proposed",)),
    "defer": ("延期承诺（未承诺）", DEFERRED_STATES),
    "pending_makeup": ("延期待补课", ("pending_makeup",)),
    "overdue_makeup": ("补课逾期", ("overdue_makeup",)),
    "made_up": ("已补课未提交承诺", ("made_up",)),
    **{s: (f"承诺{STATE_LABELS.get(s) or CommitmentStatus(s).label}", (s,)) for s in PLEDGED_STATES},
}
# Steps of the funnel, in order: (key, label, step of 四、方法步骤).
FUNNEL = (
    ("drafted", "已起草", "定诺"),
    ("submitted", "已送审", "审诺"),
    ("approved", "已审定", "审诺"),
    ("published", "已公开", "亮诺"),
    ("progressed", "有践诺记录", "践诺"),
    ("assessed", "已考核", "评诺"),
)
FULFILMENT = tuple(Fulfilment.values)
KINDS = ("org", "member")
KIND_LABELS = {"org": "党组织承诺", "member": "党员承诺"}


def percent(part: int, whole: int) -> float | None:
    """part / whole in per cent, one decimal, rounded half up; None when whole is 0."""
    if not whole:
        return None
    return float(Fraction(int(Fraction(1000 * part, whole) + Fraction(1, 2)), 10))


@dataclass
class Figures:
    """The coverage figures of one subtree (the organisation's, or one child's)."""

    orgs: Counter = field(default_factory=Counter)  # ORG_STATES -> organisations
    members: Counter = field(default_factory=Counter)  # MEMBER_STATES -> members
    # kind ("org"/"member") -> funnel step or fulfilment result -> commitments
    commitments: dict = field(default_factory=lambda: {k: Counter() for k in KINDS})
    items_overdue: int = 0
    commitments_overdue: int = 0
    tally: Tally = Tally()

    def add(self, other: "Figures") -> None:
        self.orgs.update(other.orgs)
        self.members.update(other.members)
        for k in KINDS:
            self.commitments[k].update(other.commitments[k])
        self.items_overdue += other.items_overdue
        self.commitments_overdue += other.commitments_overdue
        self.tally = self.tally + other.tally

    # organisations
    @property
    def orgs_total(self) -> int:
        """Organisations that must commit: exempted ones leave the count."""
        return sum(self.orgs.values()) - self.orgs_exempt

    @property
    def orgs_exempt(self) -> int:
        return self.orgs["exempt"]

    @property
    def orgs_draft(self) -> int:
        return self.orgs[DRAFT]

    @property
    def orgs_blank(self) -> int:
        """No commitment, or a draft never submitted."""
        return sum(self.orgs[s] for s in ORG_BLANK_STATES)

    @property
    def orgs_committed(self) -> int:
        """Organisations with a submitted commitment (已承诺)."""
        return sum(self.orgs[s] for s in PLEDGED_STATES)

    @property
    def orgs_published(self) -> int:
        return self.orgs[CommitmentStatus.PUBLISHED] + self.orgs[REVISING]

    @property
    def orgs_rate(self) -> float | None:
        """Share of the organisations that must commit whose commitment has been submitted."""
        return percent(self.orgs_committed, self.orgs_total)

    # members
    @property
    def members_total(self) -> int:
        return sum(self.members.values())

    @property
    def members_pledged(self) -> int:
        return sum(self.members[s] for s in PLEDGED_STATES)

    @property
    def members_exempt(self) -> int:
        return self.members["exempt"]

    @property
    def members_deferred(self) -> int:
        """Deferred and still within the make-up date: on record, not covered, not a blank spot."""
        return self.members["pending_makeup"]

    @property
    def members_draft(self) -> int:
        return self.members[DRAFT]

    @property
    def members_exempt_proposed(self) -> int:
        return self.members["exempt_proposed"]

    @property
    def members_blank(self) -> int:
        """空白点: BLANK_STATES (drafts, proposals not yet approved and overdue make-ups included)."""
        return sum(self.members[s] for s in BLANK_STATES)

    @property
    def members_covered(self) -> int:
        return self.members_pledged + self.members_exempt

    @property
    def members_rate(self) -> float | None:
        """覆盖率: members with a submitted pledge or an approved exemption, over the register."""
        return percent(self.members_covered, self.members_total)

    # funnel, fulfilment, satisfaction
    def count(self, key: str) -> int:
        return sum(self.commitments[k][key] for k in KINDS)

    @property
    def published(self) -> int:
        """Published commitments, organisations' and members' (a revision in progress still counts)."""
        return self.count("published")

    @property
    def stamped(self) -> int:
        """Published commitments whose public version's stamped paper form is on file."""
        return self.count("stamped")

    @property
    def unstamped(self) -> int:
        return self.published - self.stamped

    @property
    def assessed(self) -> int:
        return self.count("assessed")

    @property
    def fulfilled(self) -> int:
        return self.count(Fulfilment.FULFILLED)

    @property
    def satisfaction_rate(self) -> float | None:
        return self.tally.satisfaction_rate


@dataclass
class Row:
    """One line of the per-child table: a direct child (or the organisation itself, `is_self`)."""

    org: Organisation
    figures: Figures
    is_self: bool = False


@dataclass
class Deadline:
    """A date of the campaign and the days left to it (negative once passed)."""

    label: str
    date: datetime.date
    days_left: int

    @property
    def passed(self) -> bool:
        return self.days_left < 0

    @property
    def days_ago(self) -> int:
        return -self.days_left


@dataclass
class Coverage:
    """The dashboard of one organisation for one campaign: totals, one row per direct child (and
    one for the organisation's own commitment and members, if any), the dates and the window."""

    org: Organisation
    campaign: Campaign
    today: datetime.date
    total: Figures
    rows: list[Row]
    rating_state: str  # "before", "open" or "closed"
    deadlines: list[Deadline]
    # When the figures come from the cache (a big subtree, see figures_of): the time they were
    # counted; None when counted for this request.
    counted_at: datetime.datetime | None = None

    @property
    def public_counted(self) -> bool:
        return self.rating_state == "closed"

    @property
    def child_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.is_self]

    @property
    def funnel(self) -> list[dict]:
        return [{"key": key, "label": label, "step": step,
                 "org": self.total.commitments["org"][key], "member": self.total.commitments["member"][key],
                 "total": self.total.count(key)} for key, label, step in FUNNEL]

    @property
    def stamped(self) -> dict:
        """已公开 · 已归档盖章件, as a funnel row (it nests in 已公开 but not in the steps after it)."""
        return {"key": "stamped", "org": self.total.commitments["org"]["stamped"],
                "member": self.total.commitments["member"]["stamped"], "total": self.total.stamped}

    @property
    def org_statuses(self) -> list[tuple[str, str, int]]:
        """(state, label, organisations whose commitment is in it), drafts first."""
        return [(s, state_label(s), self.total.orgs[s]) for s in (DRAFT, *PLEDGED_STATES)]

    @property
    def member_statuses(self) -> list[tuple[str, str, int]]:
        """(state, label, members whose pledge is in it), drafts first."""
        return [(s, state_label(s), self.total.members[s]) for s in (DRAFT, *PLEDGED_STATES)]

    @property
    def fulfilment(self) -> list[dict]:
        return [{"key": r, "label": Fulfilment(r).label, "org": self.total.commitments["org"][r],
                 "member": self.total.commitments["member"][r], "total": self.total.count(r)} for r in FULFILMENT]

    @property
    def below_threshold(self) -> list[Row]:
        """Children whose satisfaction rate is under the campaign's threshold (六（二）督促检查)."""
        if not self.public_counted:
            return []
        limit = self.campaign.satisfaction_threshold
        return [r for r in self.rows if r.figures.satisfaction_rate is not None
                and r.figures.satisfaction_rate < limit]

    def chart_data(self, rows: list[Row] | None = None) -> dict:
        """The figures the charts draw (the tables on the page show the same numbers): of `rows`
        (the page of children shown), by default of every child."""
        rows = self.child_rows if rows is None else rows
        t = self.total
        return {
            "children": {
                "names": [r.org.short_name or r.org.name for r in rows],
                "members": {
                    "pledged": [r.figures.members_pledged for r in rows],
                    "exempt": [r.figures.members_exempt for r in rows],
                    "deferred": [r.figures.members_deferred for r in rows],
                    "blank": [r.figures.members_blank for r in rows],
                },
                "orgs": {
                    "published": [r.figures.orgs_published for r in rows],
                    "approved": [r.figures.orgs[CommitmentStatus.APPROVED] for r in rows],
                    "submitted": [r.figures.orgs[CommitmentStatus.SUBMITTED] + r.figures.orgs[CommitmentStatus.RETURNED]
                                  for r in rows],
                    "drafting": [r.figures.orgs[DRAFT] for r in rows],
                    "none": [r.figures.orgs[NONE] for r in rows],
                },
            },
            "funnel": [{"name": f"{f['step']}·{f['label']}", "value": f["total"]} for f in self.funnel],
            "satisfaction": ([{"name": Rating.SATISFIED.label, "value": t.tally.satisfied},
                              {"name": Rating.BASIC.label, "value": t.tally.basic},
                              {"name": Rating.UNSATISFIED.label, "value": t.tally.unsatisfied}]
                             if self.public_counted and t.tally.total else None),
        }


# --- building blocks ------------------------------------------------------------------------

def _key(expression, org: Organisation):
    """The path of the direct child of `org` that a row's path lies under (or org's own path)."""
    return Substr(expression, 1, len(org.path) + PATH_STEP + 1)


def _owner_path(prefix: str = ""):
    """The path of a commitment's owner: the organisation's, or the member's branch's."""
    return F(f"{prefix}owner_path")


def must_commit_orgs(org: Organisation, campaign: Campaign) -> QuerySet[Organisation]:
    """Organisations in org's subtree that make a commitment in the campaign: active, with a parent
    to review it, of a kind the campaign lists (exempted ones included: see orgs_with_commitment)."""
    return Organisation.objects.filter(path__startswith=org.path, is_active=True, parent__isnull=False,
                                       kind__in=campaign.committing_kinds)


def register(org: Organisation) -> QuerySet[Member]:
    """Active members of the branches in org's subtree."""
    return Member.objects.filter(branch__path__startswith=org.path, status=MemberStatus.ACTIVE)


def owners_under(org: Organisation, campaign: Campaign, prefix: str = "") -> Q:
    """Commitments (reached through `prefix`) of the organisations and members above: the owner's
    path (denormalised on the commitment, indexed) under org's, the owner still counted, and not
    a discarded draft."""
    return (Q(**{f"{prefix}owner_path__startswith": org.path})
            & ~Q(**{f"{prefix}status": CommitmentStatus.WITHDRAWN})) & (
        Q(**{f"{prefix}member__isnull": True, f"{prefix}organisation__is_active": True,
             f"{prefix}organisation__parent__isnull": False,
             f"{prefix}organisation__kind__in": campaign.committing_kinds})
        | Q(**{f"{prefix}member__status": MemberStatus.ACTIVE}))


def _live(relation: str, campaign: Campaign) -> FilteredRelation:
    """The campaign's commitment of an organisation or a member, discarded drafts left out (at most
    one: one_live_*_per_campaign)."""
    return FilteredRelation(relation, condition=Q(**{f"{relation}__campaign": campaign})
                            & ~Q(**{f"{relation}__status": CommitmentStatus.WITHDRAWN}))


def _excuse(campaign: Campaign) -> FilteredRelation:
    """The campaign's standing or proposed exemption or deferral (at most one: one_live_exemption_*)."""
    return FilteredRelation("exemptions", condition=Q(exemptions__campaign=campaign,
                                                      exemptions__status__in=[ExemptionStatus.PROPOSED,
                                                                              ExemptionStatus.APPROVED]))


def _submitted(alias: str) -> list[When]:
    """The states of a submitted commitment joined as `alias` (PLEDGED_STATES)."""
    return [When(Q(**{f"{alias}__status": CommitmentStatus.DRAFT, f"{alias}__public_version__isnull": False}),
                 then=Value(REVISING)),
            When(**{f"{alias}__status__in": SUBMITTED_STATUSES}, then=F(f"{alias}__status"))]


def orgs_with_commitment(org: Organisation, campaign: Campaign) -> QuerySet[Organisation]:
    """must_commit_orgs with `commitment` and `excuse` (this campaign's, LEFT JOINed) and
    `commitment_state` (ORG_STATES)."""
    return must_commit_orgs(org, campaign).annotate(
        commitment=_live("commitments", campaign), excuse=_excuse(campaign),
    ).annotate(commitment_state=Case(
        *_submitted("commitment"),
        When(excuse__status=ExemptionStatus.APPROVED, then=Value("exempt")),
        When(commitment__id__isnull=False, then=Value(DRAFT)),
        default=Value(NONE), output_field=CharField()))


def members_with_state(org: Organisation, campaign: Campaign, today: datetime.date) -> QuerySet[Member]:
    """The register with `pledge` and `excuse` (this campaign's, LEFT JOINed) and `state`
    (MEMBER_STATES, in the order of precedence of the module docstring)."""
    return register(org).annotate(pledge=_live("commitments", campaign), excuse=_excuse(campaign)).annotate(
        state=Case(
            *_submitted("pledge"),
            When(excuse__kind=Exemption.Kind.EXEMPT, excuse__status=ExemptionStatus.APPROVED, then=Value("exempt")),
            When(excuse__kind=Exemption.Kind.DEFER, excuse__made_up_on__isnull=False, then=Value("made_up")),
            When(excuse__kind=Exemption.Kind.DEFER, excuse__makeup_due__lt=today, then=Value("overdue_makeup")),
            When(excuse__kind=Exemption.Kind.DEFER, then=Value("pending_makeup")),
            When(excuse__kind=Exemption.Kind.EXEMPT, then=Value("exempt_proposed")),
            When(pledge__id__isnull=False, then=Value(DRAFT)),
            default=Value("blank"), output_field=CharField()))


_PUBLIC = in_force_q()
_HAS_PROGRESS = Exists(ProgressEntry.objects.filter(commitment=OuterRef("pk")))
# A scan of the signed and stamped form of the version now public, not withdrawn (one index probe:
# stamped_commitment_version).
_HAS_STAMPED = Exists(StampedScan.objects.filter(commitment=OuterRef("pk"), version=OuterRef("public_version"),
                                                 withdrawn_at__isnull=True))
# Conditions of the funnel steps and fulfilment results on annotated commitments (see the module
# docstring); also the filters of the commitment list behind each figure.
COMMITMENT_STATES = {
    "drafted": Q(),
    # Submitted at least once (a returned one included): the 已承诺 of the member and org figures.
    "submitted": submitted_q(),
    "approved": Q(status__in=[CommitmentStatus.APPROVED, CommitmentStatus.PUBLISHED]) | _PUBLIC,
    "published": _PUBLIC,
    "stamped": _PUBLIC & Q(has_stamped=True),
    "progressed": _PUBLIC & Q(has_progress=True),
    "assessed": _PUBLIC & Q(latest_result__isnull=False),
    **{r: Q(latest_result=r) for r in FULFILMENT},
}
# Filters of the commitment list that are not counted by a query of their own (the dashboard
# takes them as differences).
LIST_STATES = {"unstamped": _PUBLIC & Q(has_stamped=False)}


def commitments_under(org: Organisation, campaign: Campaign) -> QuerySet[Commitment]:
    """The campaign's commitments of must-commit organisations and registered members under org,
    annotated with `has_progress` and `has_stamped` (`latest_result` is a column, kept by
    evaluations.services.assess())."""
    return (Commitment.objects.filter(owners_under(org, campaign), campaign=campaign)
            .annotate(has_progress=_HAS_PROGRESS, has_stamped=_HAS_STAMPED))


def overdue_items(org: Organisation, campaign: Campaign, today: datetime.date) -> QuerySet[Item]:
    """Live items of published commitments under org, past their deadline and not completed."""
    return (Item.objects.filter(owners_under(org, campaign, "commitment__"), commitment__campaign=campaign,
                                removed_at__isnull=True, deadline__lt=today)
            .filter(in_force_q("commitment__"))
            .exclude(Exists(ProgressEntry.objects.filter(item=OuterRef("pk"), completes_item=True))))


# --- the dashboard --------------------------------------------------------------------------

def _by_key(org: Organisation, campaign: Campaign, today: datetime.date, public_counted: bool) -> dict:
    """Figures per key (org's own path or a direct child's): six GROUP BY queries at most."""
    figures: dict[str, Figures] = {}

    def at(key) -> Figures:
        return figures.setdefault(key, Figures())

    for key, state, n in (orgs_with_commitment(org, campaign).annotate(key=_key("path", org))
                          .values_list("key", "commitment_state").annotate(n=Count("id")).order_by()):
        at(key).orgs[state] += n
    for key, state, n in (members_with_state(org, campaign, today).annotate(key=_key("branch__path", org))
                          .values_list("key", "state").annotate(n=Count("id")).order_by()):
        at(key).members[state] += n
    counts = {name: Count("id", filter=condition) for name, condition in COMMITMENT_STATES.items()}
    kind = Case(When(member__isnull=True, then=Value("org")), default=Value("member"), output_field=CharField())
    for row in (commitments_under(org, campaign).annotate(key=_key(_owner_path(), org), kind=kind)
                .values("key", "kind").annotate(**counts).order_by()):
        at(row["key"]).commitments[row["kind"]].update({name: row[name] for name in COMMITMENT_STATES})
    for row in (overdue_items(org, campaign, today).annotate(key=_key(_owner_path("commitment__"), org))
                .values("key").annotate(n=Count("id"), c=Count("commitment_id", distinct=True)).order_by()):
        at(row["key"]).items_overdue += row["n"]
        at(row["key"]).commitments_overdue += row["c"]
    if public_counted:
        votes: dict[str, Counter] = {}
        for key, rating, n in (Ballot.objects.filter(owners_under(org, campaign, "commitment__"),
                                                     commitment__campaign=campaign)
                               .annotate(key=_key(_owner_path("commitment__"), org))
                               .values_list("key", "rating").annotate(n=Count("id")).order_by()):
            votes.setdefault(key, Counter())[rating] += n
        for key, counts_ in votes.items():
            at(key).tally = at(key).tally + Tally.from_counts(counts_)
        for row in (MeetingTally.objects.filter(owners_under(org, campaign, "commitment__"),
                                                commitment__campaign=campaign, voided_at__isnull=True)
                    .annotate(key=_key(_owner_path("commitment__"), org)).values("key")
                    .annotate(s=Sum("satisfied"), b=Sum("basic"), u=Sum("unsatisfied")).order_by()):
            at(row["key"]).tally = at(row["key"]).tally + Tally(row["s"] or 0, row["b"] or 0, row["u"] or 0)
    return figures


def figures_of(org: Organisation, campaign: Campaign, today: datetime.date, public_counted: bool, *,
               fresh: bool = False) -> tuple[dict, datetime.datetime | None]:
    """_by_key through `counted`: (figures, when counted if from the cache)."""
    return counted(f"coverage:{campaign.pk}:{org.path}:{today.isoformat()}:{int(public_counted)}",
                   lambda: _by_key(org, campaign, today, public_counted), fresh=fresh)


def deadlines_of(campaign: Campaign, today: datetime.date) -> list[Deadline]:
    """The campaign's deadlines and the public window, with the days left to each."""
    dates = [(f"{step}截止", date) for step, date in campaign.deadlines[:2]]
    dates += [("群众评议开始", campaign.rating_opens), ("评诺截止（群众评议结束）", campaign.evaluation_deadline)]
    return [Deadline(label, date, (date - today).days) for label, date in dates if date]


def coverage_for(user, org: Organisation, campaign: Campaign, *, today: datetime.date | None = None,
                 fresh: bool = False) -> Coverage:
    """The coverage dashboard of org's subtree for one campaign; 404 unless the user reads org.

    Seven queries at most whatever the size of the tree (besides the user's grants, read once per
    request): the children, then one aggregate each for organisations, members, commitments,
    overdue items and, once the public window has closed, ballots and meeting tallies.
    """
    if not can_view_org(user, org):
        raise Http404
    today = today or timezone.localdate()
    rating_state = campaign.rating_state(today)
    children = list(Organisation.objects.filter(parent=org, is_active=True).order_by("sort_order", "name"))
    by_key, counted_at = figures_of(org, campaign, today, rating_state == "closed", fresh=fresh)
    total = Figures()
    for figures in by_key.values():
        total.add(figures)
    rows = [Row(child, by_key.get(child.path, Figures())) for child in children]
    own = by_key.get(org.path)
    if own is not None:
        rows.insert(0, Row(org, own, is_self=True))
    return Coverage(org=org, campaign=campaign, today=today, total=total, rows=rows, rating_state=rating_state,
                    deadlines=deadlines_of(campaign, today), counted_at=counted_at)


def organisations_at(paths: list[str]) -> list[Organisation]:
    """The organisations at the given paths, in tree order (a user's separate reading roots)."""
    return list(Organisation.objects.filter(path__in=paths).order_by("path"))


def state_label(state: str) -> str:
    """A commitment's coverage state (a status, "revising" or "draft") in Chinese."""
    return STATE_LABELS.get(state) or CommitmentStatus(state).label


def member_state_label(state: str) -> str:
    """A member's coverage state in Chinese."""
    if state in PLEDGED_STATES:
        return f"已承诺（{state_label(state)}）"
    return {"exempt": "免于承诺（已认同）", "made_up": "已补课，承诺未提交", "pending_makeup": "延期承诺，待补课",
            "overdue_makeup": "空白点（补课逾期）", "exempt_proposed": "空白点（免于承诺待认同）",
            DRAFT: "空白点（草稿未提交）", "blank": "空白点（未填写承诺）"}.get(state, state)


def member_state_counts(org: Organisation, campaign: Campaign, today: datetime.date, *, own: bool = False,
                        fresh: bool = False) -> tuple[Counter, datetime.datetime | None]:
    """Members of org's register (org's own with `own`) per state, in one query, for the member
    list's filter and its length; through `counted`: (counts, when counted if from the cache)."""
    def count():
        qs = members_with_state(org, campaign, today)
        if own:
            qs = qs.filter(branch=org)
        return Counter(dict(qs.values_list("state").annotate(n=Count("id")).order_by()))

    return counted(f"coverage-members:{campaign.pk}:{org.path}:{today.isoformat()}:{int(own)}", count, fresh=fresh)


# --- the lists behind the figures -----------------------------------------------------------

def member_list(org: Organisation, campaign: Campaign, *, state: str = "", own: bool = False,
                today: datetime.date | None = None) -> QuerySet[Member]:
    """The register under org (only org's own members with `own`) in one state group
    (MEMBER_STATE_GROUPS), with the pledge and the exemption of the campaign on each row, in tree order."""
    today = today or timezone.localdate()
    qs = members_with_state(org, campaign, today)
    if own:
        qs = qs.filter(branch=org)
    if state in MEMBER_STATE_GROUPS:
        qs = qs.filter(state__in=MEMBER_STATE_GROUPS[state][1])
    return (qs.select_related("branch")
            .annotate(pledge_pk=F("pledge__id"), pledge_oral=F("pledge__is_oral"),
                      excuse_pk=F("excuse__id"), excuse_reason=F("excuse__reason"), excuse_kind=F("excuse__kind"),
                      makeup_due=F("excuse__makeup_due"), made_up_on=F("excuse__made_up_on"))
            .order_by("branch__path", "name", "id"))


def org_list(org: Organisation, campaign: Campaign, *, state: str = "", own: bool = False) -> QuerySet[Organisation]:
    """Organisations that must commit under org (org alone with `own`), with their commitment's pk
    and state and their exemption's; `state` is one of ORG_STATES, "committed" (submitted) or
    "blank" (none or a draft). Without a state, exempted ones are listed too (they are shown)."""
    qs = orgs_with_commitment(org, campaign)
    if own:
        qs = qs.filter(pk=org.pk)
    if state == "committed":
        qs = qs.filter(commitment_state__in=PLEDGED_STATES)
    elif state == "blank":
        qs = qs.filter(commitment_state__in=ORG_BLANK_STATES)
    elif state in ORG_STATES:
        qs = qs.filter(commitment_state=state)
    return qs.select_related("parent").annotate(
        commitment_pk=F("commitment__id"), excuse_pk=F("excuse__id"), excuse_reason=F("excuse__reason"),
    ).order_by("path")


def commitment_list(org: Organisation, campaign: Campaign, *, state: str = "", kind: str = "", own: bool = False,
                    today: datetime.date | None = None) -> QuerySet[Commitment]:
    """Commitments under org (only org's own and its members' with `own`) in a funnel step,
    "stamped" or "unstamped" (published, with or without the stamped form on file), fulfilment
    result, status or "overdue" (with items overdue), of one kind or both, in tree order; each
    with `has_stamped` and `items_overdue`."""
    today = today or timezone.localdate()
    qs = commitments_under(org, campaign)
    if own:
        qs = qs.filter(Q(organisation=org) | Q(member__branch=org))
    if state in COMMITMENT_STATES:
        qs = qs.filter(COMMITMENT_STATES[state])
    elif state in LIST_STATES:
        qs = qs.filter(LIST_STATES[state])
    elif state in LIVE_STATUSES:
        qs = qs.filter(status=state)
    elif state == "overdue":
        qs = qs.filter(pk__in=overdue_items(org, campaign, today).values("commitment_id"))
    if kind == "org":
        qs = qs.filter(member__isnull=True)
    elif kind == "member":
        qs = qs.filter(member__isnull=False)
    items_overdue = Subquery(
        Item.objects.filter(in_force_q("commitment__"), commitment=OuterRef("pk"),
                            removed_at__isnull=True, deadline__lt=today)
        .exclude(Exists(ProgressEntry.objects.filter(item=OuterRef("pk"), completes_item=True)))
        .values("commitment").annotate(n=Count("id")).values("n"))
    return (qs.annotate(items_overdue=Coalesce(items_overdue, 0))
            .select_related("organisation", "member", "member__branch", "reviewer_org")
            .order_by(_owner_path().asc(), "member__name", "id"))
