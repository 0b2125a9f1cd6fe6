"""Two reviewers decide the same submitted version at the same moment: exactly one wins.

On PostgreSQL two threads with their own connections race for real; the compare-and-set on
`version` makes the second UPDATE match no row once the first commits. SQLite serialises
writers, so there the sequential stale-version test (test_services.py) covers the same rule.
"""
import threading

import pytest
from django.conf import settings
from django.db import connection

from commitments.models import Commitment, CommitmentStatus, Decision, ReviewDecision
from core.errors import Conflict
from orgs.models import AuditEvent
from reviews.services import review_decide

from .builders import ALL_MET, submitted

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers; the sequential stale-version test covers it")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", [Decision.APPROVE, Decision.RETURN])
def test_two_reviewers_at_once_one_wins_the_other_conflicts(world, second):
    c = submitted(world)
    version = c.version
    reviewers = {"a": (world.secretary_a, Decision.APPROVE), "b": (world.committee_secretary, second)}
    barrier = threading.Barrier(len(reviewers), timeout=10)
    results: dict[str, object] = {}

    def decide(key):
        actor, decision = reviewers[key]
        try:
            commitment = Commitment.objects.get(pk=c.pk)
            barrier.wait()
            results[key] = review_decide(actor=actor, commitment=commitment, version=version, decision=decision,
                                         criteria=ALL_MET, opinion=f"{key}的意见")
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            results[key] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(key,)) for key in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)

    winners = [k for k, r in results.items() if isinstance(r, ReviewDecision)]
    losers = [k for k, r in results.items() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "该承诺已被他人处理" in results[losers[0]].message

    c.refresh_from_db()
    winner_actor, winner_decision = reviewers[winners[0]]
    expected = CommitmentStatus.APPROVED if winner_decision == Decision.APPROVE else CommitmentStatus.RETURNED
    assert c.status == expected and c.version == version + 1
    decision = ReviewDecision.objects.get()
    assert decision.reviewer_id == winner_actor.pk and decision.opinion == f"{winners[0]}的意见"
    assert AuditEvent.objects.filter(action__in=["commitment.approve", "commitment.return"]).count() == 1
