"""Reads for 评诺: the voices of each commitment gathered in a fixed number of queries, the
verdicts computed from them, the lists secretaries work from, the awards basis and to-dos."""
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from commitments.anonymity import keyed_hash
from commitments.lifecycle import in_force_q, is_in_force
from commitments.models import Campaign, Commitment
from commitments.selectors import COMMITMENT_RELATED, progress_items_for
from core.pages import capped_count
from orgs.models import Member, MemberStatus, Organisation
from orgs.permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES, scope_for
from orgs.selectors import under_any

from .models import (Assessment, Ballot, Evaluation, Fulfilment, LeaderComment, MeetingTally, RectificationOrder,
                     RectificationStatus, RectificationStep)
from .scoring import Tally, Verdict, verdict


@dataclass
class Summary:
    """Everything 评诺 knows about one commitment, and the verdict it gives."""

    commitment: Commitment
    today: datetime.date
    leader_ratings: list = field(default_factory=list)
    online: Tally = Tally()
    meetings: Tally = Tally()
    assessment: Assessment | None = None
    evaluation: Evaluation | None = None
    open_order: RectificationOrder | None = None

    @property
    def rating_state(self) -> str:
        return self.commitment.campaign.rating_state(self.today)

    @property
    def public_counted(self) -> bool:
        return self.rating_state == "closed"

    @property
    def tally(self) -> Tally:
        return self.online + self.meetings

    @property
    def verdict(self) -> Verdict:
        if not hasattr(self, "_verdict"):
            self._verdict = verdict(
                weights=self.commitment.campaign.weights, leader_ratings=self.leader_ratings, tally=self.tally,
                public_counted=self.public_counted,
                assessment_result=self.assessment.result if self.assessment else None)
        return self._verdict

    @property
    def is_released(self) -> bool:
        return self.evaluation is not None and self.evaluation.released_at is not None

    @property
    def state_label(self) -> str:
        """Where the commitment stands in 评诺, in the words of the list's state filter."""
        if self.open_order is not None:
            return "整改中"
        if self.is_released:
            return "已公布"
        if self.assessment is not None:
            return "已考核待公布"
        return "待考核"

    @property
    def version(self) -> int:
        """The compare-and-set counter forms carry for assessing and releasing."""
        return self.evaluation.version if self.evaluation else 1  # a new Evaluation row starts at 1

    @property
    def below_threshold(self) -> bool:
        rate = self.verdict.satisfaction_rate
        return rate is not None and rate < self.commitment.campaign.satisfaction_threshold

    @property
    def interim_rate(self) -> float | None:
        """六（二）: the 满意率 of the votes so far (online and meetings) while the window is open, or
        None. For the reviewing organisation and those above only (permissions.
        can_see_interim_satisfaction); never part of the verdict, never shown to the owner or public."""
        return self.tally.satisfaction_rate if self.rating_state == "open" else None

    @property
    def interim_below_threshold(self) -> bool:
        rate = self.interim_rate
        return rate is not None and rate < self.commitment.campaign.satisfaction_threshold


def summaries_for(commitments: list[Commitment], *, today: datetime.date | None = None) -> dict[int, Summary]:
    """Summaries of many commitments (campaign selected) in six queries, whatever their number."""
    today = today or timezone.localdate()
    out = {c.pk: Summary(c, today) for c in commitments}
    if not out:
        return out
    ids = list(out)
    for cid, rating in LeaderComment.objects.filter(commitment_id__in=ids).values_list("commitment_id", "rating"):
        out[cid].leader_ratings.append(rating)
    online: dict[int, dict] = {}
    for row in (Ballot.objects.filter(commitment_id__in=ids).values("commitment_id", "rating")
                .annotate(n=Count("id")).order_by()):
        online.setdefault(row["commitment_id"], {})[row["rating"]] = row["n"]
    for cid, counts in online.items():
        out[cid].online = Tally.from_counts(counts)
    for row in (MeetingTally.objects.filter(commitment_id__in=ids, voided_at__isnull=True).values("commitment_id")
                .annotate(s=Sum("satisfied"), b=Sum("basic"), u=Sum("unsatisfied")).order_by()):
        out[row["commitment_id"]].meetings = Tally(row["s"] or 0, row["b"] or 0, row["u"] or 0)
    for a in (Assessment.objects.filter(commitment_id__in=ids).select_related("assessor_org", "assessed_by")
              .order_by("commitment_id", "-assessed_at", "-id")):
        if out[a.commitment_id].assessment is None:
            out[a.commitment_id].assessment = a
    for e in Evaluation.objects.filter(commitment_id__in=ids):
        out[e.commitment_id].evaluation = e
    for o in (RectificationOrder.objects.filter(commitment_id__in=ids)
              .exclude(status=RectificationStatus.CLOSED).select_related("issuer_org")):
        out[o.commitment_id].open_order = o
    return out


def summary_for(commitment: Commitment, *, today: datetime.date | None = None) -> Summary:
    return summaries_for([commitment], today=today)[commitment.pk]


def commitment_page_context(commitment: Commitment) -> dict:
    """The 评诺 summary a commitment's page shows once it is public (registered with
    commitments.hooks)."""
    return {"evaluation": summary_for(commitment) if is_in_force(commitment) else None}


def interim_ground(summary: Summary) -> str:
    """The ground an order on the interim figure gives: the threshold, never the figure itself
    (the owner reads the order while the window is still open)."""
    return f"评议期间的阶段性群众满意率低于{summary.commitment.campaign.satisfaction_threshold}%"


def rectification_grounds(summary: Summary, *, interim: bool = False) -> list[str]:
    """Why a commitment may be ordered to rectify (五（五）、六（二）); empty when it may not.
    With `interim` (only for those who may see the interim figure), a low interim 满意率 during
    the window counts too."""
    grounds = []
    c = summary.commitment
    if summary.assessment and summary.assessment.result != Fulfilment.FULFILLED:
        grounds.append(f"组织考核结果为“{summary.assessment.get_result_display()}”")
    v = summary.verdict
    if v.result == Fulfilment.UNFULFILLED and not (summary.assessment
                                                   and summary.assessment.result == Fulfilment.UNFULFILLED):
        grounds.append("综合评定为“未兑现”")
    if summary.below_threshold:
        grounds.append(f"群众满意率{v.satisfaction_rate:g}%，低于{c.campaign.satisfaction_threshold}%")
    if interim and summary.interim_below_threshold:
        grounds.append(interim_ground(summary))
    overdue = [r for r in progress_items_for(c, today=summary.today) if r.status == "overdue"]
    if overdue:
        grounds.append(f"{len(overdue)}项承诺事项逾期未完成")
    return grounds


# --- 群众评议: the visitor's own ballot ----------------------------------------------------------

def rater_hash_of(token: str, *, salt: str) -> str:
    """The keyed hash of a browser's rater token (`salt`: the campaign's, commitments/anonymity.py)."""
    return keyed_hash(f"rater:{token}", salt=salt)


def has_rated(*, commitment_id: int, token: str | None) -> bool:
    """Whether the browser holding `token` has rated the commitment (while its hashes are kept)."""
    if not token:
        return False
    salt = Campaign.objects.filter(commitments__pk=commitment_id).values_list("hash_salt", flat=True).first()
    if not salt:
        return False  # no ballot was cast in the campaign yet, or its hashes are erased
    return Ballot.objects.filter(commitment_id=commitment_id, rater_hash=rater_hash_of(token, salt=salt)).exists()


# --- the pages ------------------------------------------------------------------------------

def evaluation_detail(commitment: Commitment, *, today: datetime.date | None = None) -> dict:
    """The voices, the history and the orders of one commitment (for its readers)."""
    summary = summary_for(commitment, today=today)
    orders = list(commitment.rectifications.select_related("issuer_org", "issued_by")
                  .prefetch_related(Prefetch("steps", queryset=RectificationStep.objects.select_related("actor")))
                  .order_by("-issued_at", "-id"))
    return {
        "summary": summary,
        "comments": list(commitment.leader_comments.select_related("author", "author_org").order_by("created_at")),
        "tallies": list(commitment.meeting_tallies.select_related("recorded_by", "voided_by")
                        .order_by("-held_on", "-id")),
        "assessments": list(commitment.assessments.select_related("assessor_org", "assessed_by")
                            .order_by("-assessed_at", "-id")),
        "orders": orders,
    }


# Filters of the evaluation list, each a condition on Commitment.
_OPEN_ORDER = RectificationOrder.objects.filter(commitment=OuterRef("pk")).exclude(status=RectificationStatus.CLOSED)
_ASSESSED = Assessment.objects.filter(commitment=OuterRef("pk"))
_RELEASED = Evaluation.objects.filter(commitment=OuterRef("pk"), released_at__isnull=False)
STATES = {
    # Commitment.latest_result is set by every assessment (denormalised, indexed with the row).
    "unassessed": ("待考核", lambda qs: qs.filter(latest_result__isnull=True)),
    "unreleased": ("已考核待公布", lambda qs: qs.filter(latest_result__isnull=False).filter(~Exists(_RELEASED))),
    "rectifying": ("整改中", lambda qs: qs.filter(Exists(_OPEN_ORDER))),
    "released": ("已公布", lambda qs: qs.filter(Exists(_RELEASED))),
}


def _published_under(paths: list[str], campaign) -> QuerySet[Commitment]:
    return Commitment.objects.filter(under_any(paths, "owner_path"), in_force_q(), campaign=campaign)


def evaluation_list_for(user, *, campaign, org: Organisation | None = None, kind: str = "", state: str = "",
                        q: str = "") -> QuerySet[Commitment]:
    """Published commitments in the user's reading scope (or under `org`), for 评诺, in tree order."""
    paths = [org.path] if org is not None else scope_for(user).roots(READER_ROLES)
    qs = _published_under(paths, campaign).select_related(*COMMITMENT_RELATED)
    if kind == "org":
        qs = qs.filter(organisation__isnull=False)
    elif kind == "member":
        qs = qs.filter(member__isnull=False)
    if state in STATES:
        qs = STATES[state][1](qs)
    if q:
        qs = qs.filter(Q(organisation__name__icontains=q) | Q(member__name__icontains=q))
    # Tree order: each owner's commitments together (the organisation's before its members'),
    # on the indexed owner path, so a page is read in order rather than sorted whole.
    return qs.order_by("owner_path", F("member__name").asc(nulls_first=True), "id")


# --- awards basis (评选表彰依据) ---------------------------------------------------------------

_GRADE_ORDER = {"excellent": 0, "good": 1, "fair": 2, "poor": 3}


@dataclass
class AwardRow:
    rank: int
    summary: Summary

    @property
    def commitment(self) -> Commitment:
        return self.summary.commitment


def awards_for(org: Organisation, campaign, *, kind: str = "org",
               today: datetime.date | None = None) -> list[AwardRow]:
    """Released results under `org` ranked by combined score, then grade, then satisfaction rate.
    kind "org" ranks organisations (their own commitments), "member" ranks members' pledges.
    Equal keys share a rank (1, 2, 2, 4)."""
    qs = (_published_under([org.path], campaign).filter(Exists(_RELEASED), Exists(_ASSESSED))
          .select_related(*COMMITMENT_RELATED))
    qs = qs.filter(organisation__isnull=False) if kind == "org" else qs.filter(member__isnull=False)
    summaries = list(summaries_for(list(qs), today=today).values())

    def key(s: Summary):
        v = s.verdict
        return (-(v.score or 0), _GRADE_ORDER.get(s.assessment.grade, 9), -(v.satisfaction_rate or 0))

    summaries.sort(key=lambda s: (key(s), s.commitment.owner_name, s.commitment.pk))
    rows, previous = [], None
    for n, s in enumerate(summaries, start=1):
        rank = rows[-1].rank if previous == key(s) else n
        rows.append(AwardRow(rank, s))
        previous = key(s)
    return rows


# --- rectification lists and to-dos ----------------------------------------------------------

def _orders() -> QuerySet[RectificationOrder]:
    return RectificationOrder.objects.select_related(
        "commitment", "commitment__organisation", "commitment__member", "commitment__member__branch",
        "commitment__campaign", "issuer_org")


def orders_to_answer(user) -> QuerySet[RectificationOrder]:
    """Orders on commitments the user drafts (officers over the owner, own written pledges)."""
    roots = scope_for(user).roots(OFFICER_ROLES)
    mine = Q(commitment__member__user=user, commitment__is_oral=False)
    if roots:
        mine |= under_any(roots, "commitment__owner_path")
    # The secretary who issued an order verifies the answer; they never answer it themselves.
    return _orders().filter(mine).exclude(issued_by=user)


def orders_to_verify(user) -> QuerySet[RectificationOrder]:
    """Orders issued by organisations where the user is a secretary, or below them."""
    roots = scope_for(user).roots(SECRETARY_ROLES)
    if not roots:
        return RectificationOrder.objects.none()
    return _orders().filter(under_any(roots, "issuer_org__path")).exclude(commitment__member__user=user)


def rectification_todo_counts(user, today: datetime.date | None = None) -> dict[str, int]:
    """Open orders to answer (and how many are overdue) and responses to verify (and overdue)."""
    today = today or timezone.localdate()
    open_q = ~Q(status=RectificationStatus.CLOSED)
    answer = orders_to_answer(user).filter(status=RectificationStatus.OPEN).aggregate(
        n=Count("id"), late=Count("id", filter=Q(deadline__lt=today)))
    verify = orders_to_verify(user).filter(open_q).aggregate(
        n=Count("id", filter=Q(status=RectificationStatus.RESPONDED)),
        late=Count("id", filter=Q(deadline__lt=today)))
    return {"to_answer": answer["n"], "to_answer_overdue": answer["late"],
            "to_verify": verify["n"], "overdue_issued": verify["late"]}


def assessment_todo_count(user, campaign, today: datetime.date | None = None) -> int:
    """Published commitments that the organisations where the user is a secretary review and have
    not yet assessed, once the public window has opened (fulfilment is judged at year end). The
    reviewing organisation's duty: the levels above may assess too, but it is not on their list."""
    today = today or timezone.localdate()
    if campaign is None or today < campaign.rating_opens:
        return 0
    paths = scope_for(user).paths(SECRETARY_ROLES)
    if not paths:
        return 0
    return capped_count(Commitment.objects.filter(in_force_q(), reviewer_org__path__in=paths, campaign=campaign,
                                                  latest_result__isnull=True)
                        .exclude(member_id__in=Member.objects.filter(user=user).values("id")))



def tally_member_count(commitment) -> int:
    """Active party members who could attend the 民主测评 meeting: the owner organisation's whole
    subtree, or the member's branch for a personal pledge (the bound a tally's 应到人数 is checked
    against, together with the 群众代表 the recorder declares)."""
    owner = commitment.owner_org
    return Member.objects.filter(branch__path__startswith=owner.path, status=MemberStatus.ACTIVE).count()
