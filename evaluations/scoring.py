"""How the three voices of 评诺 combine into one verdict. Pure functions, no queries.

Each voice is scored 0–100 on the same three-step scale:

* 群众评议 — online ballots plus meeting tallies: 满意 100, 基本满意 60, 不满意 0, averaged over
  all votes. Its 满意率 (satisfaction rate) is (满意 + 基本满意) / all votes.
* 领导点评 — each leader's rating on the same scale, averaged over the leaders who commented.
* 组织考核 — the latest assessment: 已兑现 100, 基本兑现 60, 未兑现 0.

The combined score is the weighted mean of the voices present, with the campaign's weights
(by default 组织考核 50%, 群众评议 30%, 领导点评 20%) scaled over the voices that have spoken.
There is no verdict without an assessment, and the public's voice counts only once its window
has closed (running tallies stay hidden). The result: 85 and above 已兑现, 60 and above 基本兑现,
below 60 未兑现.
"""
from dataclasses import dataclass, field
from fractions import Fraction

from .models import Fulfilment, Rating

RATING_POINTS = {Rating.SATISFIED: 100, Rating.BASIC: 60, Rating.UNSATISFIED: 0}
FULFILMENT_POINTS = {Fulfilment.FULFILLED: 100, Fulfilment.PARTLY: 60, Fulfilment.UNFULFILLED: 0}
FULFILLED_FROM, PARTLY_FROM = 85, 60
VOICE_LABELS = {"leader": "领导点评", "public": "群众评议", "assessment": "组织考核"}


def _round1(value: Fraction) -> float:
    """Round half up to one decimal place (the way a ledger rounds, not banker's rounding)."""
    return float(Fraction(int(value * 10 + Fraction(1, 2)), 10))


@dataclass(frozen=True)
class Tally:
    """Votes of 群众评议 per option: online ballots and meeting tallies added together."""

    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.satisfied + other.satisfied, self.basic + other.basic,
                     self.unsatisfied + other.unsatisfied)

    @property
    def total(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 in per cent (one decimal), or None without votes."""
        if not self.total:
            return None
        return _round1(Fraction(100 * (self.satisfied + self.basic), self.total))

    @property
    def score_exact(self) -> Fraction | None:
        if not self.total:
            return None
        return Fraction(RATING_POINTS[Rating.SATISFIED] * self.satisfied + RATING_POINTS[Rating.BASIC] * self.basic
                        + RATING_POINTS[Rating.UNSATISFIED] * self.unsatisfied, self.total)

    @property
    def score(self) -> float | None:
        exact = self.score_exact
        return None if exact is None else _round1(exact)

    @classmethod
    def from_counts(cls, counts: dict) -> "Tally":
        """From {rating value: count} (missing options count zero)."""
        return cls(int(counts.get(Rating.SATISFIED, 0) or 0), int(counts.get(Rating.BASIC, 0) or 0),
                   int(counts.get(Rating.UNSATISFIED, 0) or 0))


def result_for(score: float) -> str:
    if score >= FULFILLED_FROM:
        return Fulfilment.FULFILLED
    if score >= PARTLY_FROM:
        return Fulfilment.PARTLY
    return Fulfilment.UNFULFILLED


@dataclass
class Verdict:
    """The combined verdict of one commitment. `score` and `result` are None until assessed."""

    score: float | None
    result: str | None
    satisfaction_rate: float | None
    votes: int
    parts: dict = field(default_factory=dict)  # voice -> (score, effective weight in per cent)
    missing: list = field(default_factory=list)  # labels of the voices not (yet) counted

    @property
    def result_label(self) -> str:
        return Fulfilment(self.result).label if self.result else "待考核"

    @property
    def is_final(self) -> bool:
        return self.result is not None and not self.missing


def verdict(*, weights: dict[str, int], leader_ratings: list[str], tally: Tally, public_counted: bool,
            assessment_result: str | None) -> Verdict:
    """The combined verdict from the three voices and the campaign's weights.

    `public_counted` is False while the public window is open: the satisfaction rate is then
    withheld and the public voice left out, so a running tally can neither be read nor steer.
    """
    voices: dict[str, Fraction] = {}
    if leader_ratings:
        voices["leader"] = Fraction(sum(RATING_POINTS[Rating(r)] for r in leader_ratings), len(leader_ratings))
    if public_counted and tally.total:
        voices["public"] = tally.score_exact
    if assessment_result:
        voices["assessment"] = Fraction(FULFILMENT_POINTS[Fulfilment(assessment_result)])
    missing = [VOICE_LABELS[v] for v in ("leader", "public", "assessment") if v not in voices]
    rate = tally.satisfaction_rate if public_counted else None
    votes = tally.total if public_counted else 0
    weight_sum = sum(weights[v] for v in voices)
    parts = {v: (_round1(s), _round1(Fraction(100 * weights[v], weight_sum)) if weight_sum else 0.0)
             for v, s in voices.items()}
    if assessment_result is None or not weight_sum:
        return Verdict(None, None, rate, votes, parts, missing)
    score = _round1(sum(Fraction(weights[v]) * s for v, s in voices.items()) / weight_sum)
    return Verdict(score, result_for(score), rate, votes, parts, missing)
