"""评诺 arithmetic: tallies, the weighted verdict and its thresholds, and the campaign's settings."""
import datetime

import pytest
from django.core.exceptions import ValidationError

from commitments.models import Campaign
from evaluations.models import Fulfilment, Rating
from evaluations.scoring import Tally, result_for, verdict

DEFAULT_WEIGHTS = {"leader": 20, "public": 30, "assessment": 50}
S, B, U = Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED


# --- Tally ---------------------------------------------------------------------------------------

def test_empty_tally_has_no_rate_and_no_score():
    t = Tally()
    assert (t.total, t.satisfaction_rate, t.score, t.score_exact) == (0, None, None, None)


def test_satisfaction_rate_counts_satisfied_and_basic():
    assert Tally(3, 1, 1).satisfaction_rate == 80.0
    assert Tally(0, 2, 2).satisfaction_rate == 50.0
    assert Tally(0, 0, 4).satisfaction_rate == 0.0
    assert Tally(5, 0, 0).satisfaction_rate == 100.0


def test_score_averages_100_60_0():
    assert Tally(1, 0, 0).score == 100.0
    assert Tally(0, 1, 0).score == 60.0
    assert Tally(0, 0, 1).score == 0.0
    assert Tally(2, 1, 1).score == 65.0  # (200 + 60) / 4


def test_two_thirds_rounds_to_one_decimal():
    assert Tally(2, 0, 1).satisfaction_rate == 66.7
    assert Tally(1, 1, 1).satisfaction_rate == 66.7
    assert Tally(1, 1, 1).score == 53.3  # 160 / 3
    assert Tally(1, 0, 2).score == 33.3


def test_rounding_is_half_up_not_bankers():
    # 1/16 = 6.25 %: round(6.25, 1) would give 6.2; a ledger gives 6.3.
    assert Tally(1, 0, 15).satisfaction_rate == 6.3
    # (100 + 0) / 8 = 12.5 stays 12.5; (60 * 1) / 16 = 3.75 → 3.8.
    assert Tally(1, 0, 7).score == 12.5
    assert Tally(0, 1, 15).score == 3.8


def test_tallies_add_up_and_come_from_counts():
    assert Tally(1, 2, 3) + Tally(10, 20, 30) == Tally(11, 22, 33)
    assert Tally.from_counts({S: 4, U: 1}) == Tally(4, 0, 1)
    assert Tally.from_counts({"satisfied": None, "basic": "2"}) == Tally(0, 2, 0)


# --- verdict -------------------------------------------------------------------------------------

def test_default_weights_20_30_50():
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[S], tally=Tally(0, 1, 0), public_counted=True,
                assessment_result=Fulfilment.PARTLY)
    # 0.2 × 100 + 0.3 × 60 + 0.5 × 60 = 68
    assert (v.score, v.result) == (68.0, Fulfilment.PARTLY)
    assert v.parts == {"leader": (100.0, 20.0), "public": (60.0, 30.0), "assessment": (60.0, 50.0)}
    assert v.missing == [] and v.is_final and v.result_label == "基本兑现"
    assert (v.satisfaction_rate, v.votes) == (100.0, 1)


def test_leaders_are_averaged():
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[S, U], tally=Tally(1, 0, 0), public_counted=True,
                assessment_result=Fulfilment.FULFILLED)
    # leader (100 + 0) / 2 = 50: 0.2 × 50 + 0.3 × 100 + 0.5 × 100 = 90
    assert v.parts["leader"] == (50.0, 20.0) and v.score == 90.0 and v.result == Fulfilment.FULFILLED


def test_custom_weights():
    weights = {"leader": 10, "public": 10, "assessment": 80}
    v = verdict(weights=weights, leader_ratings=[U], tally=Tally(0, 0, 3), public_counted=True,
                assessment_result=Fulfilment.FULFILLED)
    assert v.score == 80.0 and v.result == Fulfilment.PARTLY
    v = verdict(weights={"leader": 40, "public": 40, "assessment": 20}, leader_ratings=[U], tally=Tally(0, 0, 3),
                public_counted=True, assessment_result=Fulfilment.FULFILLED)
    assert v.score == 20.0 and v.result == Fulfilment.UNFULFILLED


def test_missing_voice_renormalises_the_weights():
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[], tally=Tally(0, 1, 0), public_counted=True,
                assessment_result=Fulfilment.FULFILLED)
    # (30 × 60 + 50 × 100) / 80 = 85
    assert (v.score, v.result) == (85.0, Fulfilment.FULFILLED)
    assert v.parts == {"public": (60.0, 37.5), "assessment": (100.0, 62.5)}
    assert v.missing == ["领导点评"] and not v.is_final


def test_assessment_alone_is_the_whole_score():
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[], tally=Tally(), public_counted=True,
                assessment_result=Fulfilment.UNFULFILLED)
    assert (v.score, v.result, v.parts) == (0.0, Fulfilment.UNFULFILLED, {"assessment": (0.0, 100.0)})
    assert v.missing == ["领导点评", "群众评议"] and v.satisfaction_rate is None and v.votes == 0


def test_public_voice_is_left_out_while_the_window_is_open():
    args = dict(weights=DEFAULT_WEIGHTS, leader_ratings=[S], tally=Tally(0, 0, 10),
                assessment_result=Fulfilment.FULFILLED)
    running = verdict(public_counted=False, **args)
    assert running.score == 100.0 and "public" not in running.parts
    assert running.satisfaction_rate is None and running.votes == 0
    assert running.missing == ["群众评议"]
    final = verdict(public_counted=True, **args)
    # (20 × 100 + 30 × 0 + 50 × 100) / 100 = 70
    assert final.score == 70.0 and final.satisfaction_rate == 0.0 and final.votes == 10


def test_no_verdict_without_assessment():
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[S, S], tally=Tally(9, 0, 0), public_counted=True,
                assessment_result=None)
    assert (v.score, v.result) == (None, None)
    assert v.result_label == "待考核" and not v.is_final
    assert v.missing == ["组织考核"]
    # The voices that have spoken are still shown, and the rate once the window has closed.
    assert v.parts["leader"] == (100.0, 40.0) and v.satisfaction_rate == 100.0


@pytest.mark.parametrize("score, result", [
    (100, Fulfilment.FULFILLED), (85, Fulfilment.FULFILLED), (84.9, Fulfilment.PARTLY),
    (60, Fulfilment.PARTLY), (59.9, Fulfilment.UNFULFILLED), (0, Fulfilment.UNFULFILLED),
])
def test_result_thresholds(score, result):
    assert result_for(score) == result


def test_thresholds_at_the_boundaries_through_the_verdict():
    # Exactly 85: leader 0 at weight 15, assessment 100 at weight 85.
    v = verdict(weights={"leader": 15, "public": 0, "assessment": 85}, leader_ratings=[U], tally=Tally(),
                public_counted=True, assessment_result=Fulfilment.FULFILLED)
    assert (v.score, v.result) == (85.0, Fulfilment.FULFILLED)
    # Exactly 60: assessment 基本兑现 alone.
    v = verdict(weights=DEFAULT_WEIGHTS, leader_ratings=[], tally=Tally(), public_counted=True,
                assessment_result=Fulfilment.PARTLY)
    assert (v.score, v.result) == (60.0, Fulfilment.PARTLY)
    # Just below each: (40 × 60 + 60 × 100) / 100 = 84; (41 × 0 + 59 × 100) / 100 = 59.
    v = verdict(weights={"leader": 40, "public": 0, "assessment": 60}, leader_ratings=[B], tally=Tally(),
                public_counted=True, assessment_result=Fulfilment.FULFILLED)
    assert (v.score, v.result) == (84.0, Fulfilment.PARTLY)
    v = verdict(weights={"leader": 41, "public": 0, "assessment": 59}, leader_ratings=[U], tally=Tally(),
                public_counted=True, assessment_result=Fulfilment.FULFILLED)
    assert (v.score, v.result) == (59.0, Fulfilment.UNFULFILLED)


# --- the campaign's settings -----------------------------------------------------------------------

def _campaign(**kw):
    defaults = dict(name="2010年", year=2010, pledge_deadline=datetime.date(2010, 9, 30),
                    publish_deadline=datetime.date(2010, 10, 31), evaluation_deadline=datetime.date(2010, 12, 31))
    defaults.update(kw)
    return Campaign(**defaults)


def test_default_weights_pass_clean():
    c = _campaign()
    c.clean()
    assert c.weights == DEFAULT_WEIGHTS and c.satisfaction_threshold == 70


@pytest.mark.parametrize("weights, total", [((20, 30, 40), 90), ((50, 50, 50), 150), ((0, 0, 0), 0)])
def test_clean_refuses_weights_not_summing_to_100(weights, total):
    c = _campaign(weight_leader=weights[0], weight_public=weights[1], weight_assessment=weights[2])
    with pytest.raises(ValidationError) as exc:
        c.clean()
    assert exc.value.message_dict == {"weight_assessment": [f"三项权重之和须为100%，现为{total}%。"]}


def test_clean_accepts_custom_weights_summing_to_100():
    _campaign(weight_leader=0, weight_public=40, weight_assessment=60).clean()


def test_clean_refuses_evaluation_opens_after_the_deadline():
    c = _campaign(evaluation_opens=datetime.date(2011, 1, 1))
    with pytest.raises(ValidationError) as exc:
        c.clean()
    assert exc.value.message_dict == {"evaluation_opens": ["群众评议开始日期不能晚于评诺截止日期。"]}
    _campaign(evaluation_opens=datetime.date(2010, 12, 31)).clean()


@pytest.mark.parametrize("today, state", [
    (datetime.date(2010, 10, 31), "before"),
    (datetime.date(2010, 11, 1), "open"),
    (datetime.date(2010, 12, 31), "open"),
    (datetime.date(2011, 1, 1), "closed"),
])
def test_rating_window_defaults_to_the_day_after_publishing_and_is_inclusive(today, state):
    c = _campaign()
    assert c.rating_opens == datetime.date(2010, 11, 1)
    assert c.rating_state(today) == state


@pytest.mark.parametrize("today, state", [
    (datetime.date(2010, 11, 30), "before"),
    (datetime.date(2010, 12, 1), "open"),
    (datetime.date(2010, 12, 31), "open"),
    (datetime.date(2011, 1, 1), "closed"),
])
def test_rating_window_with_a_set_opening_day(today, state):
    c = _campaign(evaluation_opens=datetime.date(2010, 12, 1))
    assert c.rating_opens == datetime.date(2010, 12, 1)
    assert c.rating_state(today) == state


def test_clean_refuses_an_assessment_weight_of_zero():
    # No verdict exists without an assessment: a zero weight would leave a score-less verdict.
    c = _campaign(weight_leader=50, weight_public=50, weight_assessment=0)
    with pytest.raises(ValidationError) as exc:
        c.clean()
    assert exc.value.message_dict == {"weight_assessment": ["组织考核权重须大于0。"]}
