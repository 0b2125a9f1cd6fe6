"""Simultaneous 评诺 writes: two assessors with the same form, and many ballots from one client.

On PostgreSQL the threads race for real on their own connections: the Evaluation row is locked
(select_for_update) and its version compared, so the second assessor sees the first one's bump
and the ballots of one client are counted one at a time. SQLite serialises writers, so there the
sequential tests in test_services.py (stale version, one ballot per client) cover the same rules.
"""
import threading

import pytest
from django.conf import settings
from django.db import connection

from commitments.models import Commitment
from core.errors import Conflict
from evaluations import services
from evaluations.models import Assessment, Ballot, Evaluation, Fulfilment, Grade
from orgs.models import AuditEvent

from .builders import OPEN, published_pledge

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = [
    pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers; the sequential tests cover it"),
    pytest.mark.django_db(transaction=True),
]


def race(n, work):
    """Run work(i) in n threads released together; return {i: result or exception}."""
    barrier = threading.Barrier(n, timeout=10)
    results: dict[int, object] = {}

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_assessors_with_the_same_version_one_wins(world):
    c = published_pledge(world)
    actors = [(world.secretary_a, Fulfilment.FULFILLED, Grade.EXCELLENT),
              (world.committee_secretary, Fulfilment.PARTLY, Grade.FAIR)]

    def work(i):
        actor, result, grade = actors[i]
        commitment = Commitment.objects.get(pk=c.pk)
        return services.assess(actor=actor, commitment=commitment, version=1, result=result, grade=grade,
                               reason=f"第{i}位考核人的意见")

    results = race(len(actors), work)
    winners = [i for i, r in results.items() if isinstance(r, Assessment)]
    losers = [i for i, r in results.items() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "已被他人处理" in results[losers[0]].message
    assessment = Assessment.objects.get()
    assert assessment.assessed_by == actors[winners[0]][0] and assessment.reason == f"第{winners[0]}位考核人的意见"
    assert Evaluation.objects.get(pk=c.pk).version == 2
    assert AuditEvent.objects.filter(action="evaluation.assess").count() == 1


def test_twenty_ballots_from_one_network_keep_its_cap(world, settings):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 1
    c = published_pledge(world)

    def work(i):
        commitment = Commitment.objects.get(pk=c.pk)
        return services.ballot_cast(commitment=commitment, rating="satisfied", rater_token=f"browser-{i}",
                                    client_address="203.0.113.99", today=OPEN)

    results = race(20, work)
    cast = [r for r in results.values() if isinstance(r, Ballot)]
    refused = [r for r in results.values() if isinstance(r, services.NetworkCapReached)]
    assert len(cast) == 1 and len(refused) == 19, results
    assert Ballot.objects.filter(commitment=c).count() == 1
    assert AuditEvent.objects.filter(action="evaluation.ballot").count() == 1
