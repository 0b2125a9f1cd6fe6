"""review_bulk_approve as one batch: a fixed number of queries however many items, and still every
item's own checks (scope, own submission, version, state), one decision and one audit row each,
notices after commit, and an audit chain that verifies."""
import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.models import Commitment, CommitmentStatus, Decision, ReviewDecision
from core.errors import Conflict
from orgs import audit
from orgs.models import AuditEvent
from reviews.services import STALE, review_bulk_approve, review_decide
from tests.conftest import make_member

from .builders import ALL_MET, approve, resubmit, submitted

S = CommitmentStatus
User = get_user_model()
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
FORBIDDEN = "该承诺不存在或您无权处理。"  # the same answer as for an id that does not exist


def _pledges(world, n, branch=None, prefix="批量"):
    return [submitted(world, member=make_member(branch or world.branch_a, f"{prefix}{i}")) for i in range(n)]


def _bulk(actor, commitments, opinion="同意。"):
    return review_bulk_approve(actor=actor, targets=[(c.pk, c.version) for c in commitments],
                               shown={(c.pk, c.version) for c in commitments}, opinion=opinion)


def _fresh(user):
    """The user as a new request sees them: no grants cached yet."""
    return User.objects.get(pk=user.pk)


def _approval_rows(pk):
    return AuditEvent.objects.filter(action="commitment.approve", object_id=str(pk))


# --- queries ---------------------------------------------------------------------------------

def test_the_query_count_does_not_grow_with_the_number_of_items(world):
    counts = {}
    for n in (5, 50):
        pledges = _pledges(world, n, prefix=f"第{n}批")
        with CaptureQueriesContext(connection) as ctx:
            approved, failed = _bulk(_fresh(world.secretary_a), pledges)
        assert len(approved) == n and failed == {}
        counts[n] = len(ctx)
    assert counts[5] == counts[50], counts
    # Transaction, grants, the locked commitments with their latest versions, the UPDATE, the
    # decisions, the audit head lock / INSERT / head move: about ten, never one per item.
    assert counts[50] <= 12, counts


def test_refused_and_stale_items_cost_no_extra_queries(world):
    clean = _pledges(world, 6)
    with CaptureQueriesContext(connection) as plain:
        _bulk(_fresh(world.secretary_a), clean[:3])
    stale, forbidden = clean[3], submitted(world, member=world.member_b)
    targets = [(c.pk, c.version) for c in clean[4:]] + [(stale.pk, stale.version - 1),
                                                      (forbidden.pk, forbidden.version), (999999, 1)]
    with CaptureQueriesContext(connection) as mixed:
        approved, failed = review_bulk_approve(actor=_fresh(world.secretary_a), targets=targets,
                                               shown=set(targets), opinion="同意。")
    assert approved == [c.pk for c in clean[4:]] and set(failed) == {stale.pk, forbidden.pk, 999999}
    assert len(mixed) == len(plain)


def test_nothing_to_approve_writes_nothing(world):
    forbidden = submitted(world, member=world.member_b)
    with CaptureQueriesContext(connection) as ctx:
        approved, failed = _bulk(_fresh(world.secretary_a), [forbidden])
    assert approved == [] and failed == {forbidden.pk: FORBIDDEN}
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE")) for q in ctx.captured_queries)
    assert not ReviewDecision.objects.exists() and not _approval_rows(forbidden.pk).exists()


# --- each item still judged on its own -------------------------------------------------------

def test_a_stale_item_among_many_fails_alone(world):
    pledges = _pledges(world, 12)
    stale = pledges[5]
    targets = [(c.pk, c.version - 1 if c is stale else c.version) for c in pledges]
    approved, failed = review_bulk_approve(actor=world.secretary_a, targets=targets,
                                               shown=set(targets), opinion="同意。")
    assert failed == {stale.pk: STALE} and "该承诺已被他人处理" in failed[stale.pk]
    assert approved == [c.pk for c in pledges if c is not stale]  # in the order given
    stale.refresh_from_db()
    assert stale.status == S.SUBMITTED and stale.version == targets[5][1] + 1
    assert not ReviewDecision.objects.filter(commitment=stale).exists() and not _approval_rows(stale.pk).exists()
    for c in pledges:
        if c is not stale:
            before = c.version
            c.refresh_from_db()
            assert c.status == S.APPROVED and c.version == before + 1 and c.decided_at is not None


def test_an_item_someone_else_decided_first_is_reported_stale(world):
    pledges = _pledges(world, 3)
    seen = [(c.pk, c.version) for c in pledges]
    approve(pledges[1], world.committee_secretary)  # decided meanwhile by the level above
    approved, failed = review_bulk_approve(actor=world.secretary_a, targets=seen, shown=set(seen),
                                           opinion="同意。")
    assert approved == [pledges[0].pk, pledges[2].pk] and failed == {pledges[1].pk: STALE}
    assert list(ReviewDecision.objects.filter(commitment=pledges[1]).values_list("reviewer", flat=True)) == [
        world.committee_secretary.pk]


def test_an_item_the_actor_submitted_is_refused(world):
    fine = _pledges(world, 2)
    own_submission = submitted(world, member=make_member(world.branch_a, "代为提交"), actor=world.secretary_a)
    own = make_member(world.branch_a, "一支部书记")
    own.user = world.secretary_a
    own.save()
    own_pledge = submitted(world, member=own)
    approved, failed = _bulk(world.secretary_a, [fine[0], own_submission, own_pledge, fine[1]])
    assert approved == [fine[0].pk, fine[1].pk]
    assert failed == {own_submission.pk: FORBIDDEN, own_pledge.pk: FORBIDDEN}
    for c in (own_submission, own_pledge):
        c.refresh_from_db()
        assert c.status == S.SUBMITTED
        assert not ReviewDecision.objects.filter(commitment=c).exists() and not _approval_rows(c.pk).exists()
    # The level above may approve them.
    approved, failed = _bulk(world.committee_secretary, [own_submission, own_pledge])
    assert approved == [own_submission.pk, own_pledge.pk] and failed == {}


def test_an_item_outside_the_scope_is_refused(world):
    mine = _pledges(world, 2)
    others = [submitted(world, member=world.member_b), submitted(world, member=world.member_d),
              submitted(world, organisation=world.branch_a)]  # the branch's own: reviewed by the committee
    approved, failed = _bulk(world.secretary_a, mine + others)
    assert approved == [c.pk for c in mine]
    assert failed == {c.pk: FORBIDDEN for c in others}
    assert Commitment.objects.filter(pk__in=[c.pk for c in others], status=S.SUBMITTED).count() == 3
    assert set(ReviewDecision.objects.values_list("commitment_id", flat=True)) == {c.pk for c in mine}


def test_an_item_no_longer_submitted_is_refused_by_its_state(world):
    draft = submitted(world, member=make_member(world.branch_a, "草稿"))
    Commitment.objects.filter(pk=draft.pk).update(status=S.DRAFT)
    fine = _pledges(world, 1)
    approved, failed = _bulk(world.secretary_a, [draft] + fine)
    assert approved == [fine[0].pk]
    assert failed[draft.pk] == "该承诺当前为“草稿”，不能审定。"


def test_the_same_item_twice_is_approved_once(world):
    c = submitted(world)
    approved, failed = review_bulk_approve(actor=world.secretary_a, targets=[(c.pk, c.version)] * 2,
                                           shown={(c.pk, c.version)},
                                           opinion="同意。")
    assert approved == [c.pk] and failed == {c.pk: STALE}  # as two approvals one after the other
    assert ReviewDecision.objects.filter(commitment=c).count() == 1 and _approval_rows(c.pk).count() == 1


# --- what is written -------------------------------------------------------------------------

def test_each_approved_item_gets_its_decision_and_audit_row(world):
    first = submitted(world, member=make_member(world.branch_a, "第二版"))
    first = resubmit(first, reviewer=world.secretary_a, editor=world.staff_a, goal="第二版目标")
    pledges = [first] + _pledges(world, 3, branch=world.branch_b) + [submitted(world, member=world.member_c)]
    actor = world.committee_secretary
    approved, failed = _bulk(actor, pledges, opinion="  符合要求，同意公开。  ")
    assert failed == {} and approved == [c.pk for c in pledges]

    decisions = {d.commitment_id: d for d in ReviewDecision.objects.filter(reviewer=actor)
                 .select_related("version", "reviewer_org")}
    assert set(decisions) == set(approved) and ReviewDecision.objects.filter(reviewer=actor).count() == len(approved)
    for c in pledges:
        d = decisions[c.pk]
        assert d.decision == Decision.APPROVE and d.is_bulk and d.all_criteria_met and d.exception_note == ""
        assert d.reviewer == actor and d.reviewer_org_id == c.reviewer_org_id
        assert d.opinion == "符合要求，同意公开。"
        assert d.version == c.versions.order_by("-number").first()  # the latest submitted version
    assert decisions[first.pk].version.number == 2

    rows = {e.object_id: e for e in AuditEvent.objects.filter(action="commitment.approve")}
    assert set(rows) == {str(pk) for pk in approved}
    for c in pledges:
        e = rows[str(c.pk)]
        c.refresh_from_db()
        assert e.actor == actor and e.organisation_id == c.reviewer_org_id and e.object_type == "commitments.commitment"
        assert e.object_repr == str(Commitment.objects.select_related("member", "organisation").get(pk=c.pk))
        assert e.detail == {"version": c.submitted_count, "criteria": ALL_MET, "bulk": True}
        assert e.role == f"secretary@{world.committee.pk}" and e.result == "success"
    assert audit.verify_chain().ok


def test_bulk_rows_match_what_a_single_approval_writes(world):
    one, many = submitted(world), _pledges(world, 2)
    review_decide(actor=world.secretary_a, commitment=one, version=one.version, decision=Decision.APPROVE,
                  criteria=ALL_MET, opinion="同意。", is_bulk=True)
    _bulk(world.secretary_a, many)
    fields = ("action", "actor_id", "actor_name", "organisation_id", "object_type", "result", "role")
    single = _approval_rows(one.pk).values(*fields, "detail").get()
    for c in many:
        row = _approval_rows(c.pk).values(*fields, "detail").get()
        assert row == single
    single_decision = ReviewDecision.objects.filter(commitment=one).values(
        "decision", "reviewer", "reviewer_org", "opinion", "is_bulk", "advanced", "feasible").get()
    for c in many:
        assert ReviewDecision.objects.filter(commitment=c).values(*single_decision).get() == single_decision


def test_the_chain_verifies_around_a_batch(world):
    approve(submitted(world, member=make_member(world.branch_a, "之前")), world.secretary_a)
    _bulk(world.secretary_a, _pledges(world, 20))
    approve(submitted(world, member=make_member(world.branch_a, "之后")), world.secretary_a)
    ok, count, first_bad = audit.verify_chain()
    assert ok, first_bad
    assert count == AuditEvent.objects.count()
    batch = list(AuditEvent.objects.filter(action="commitment.approve", detail__bulk=True).order_by("id"))
    assert len(batch) == 20
    assert [b.prev_hash for b in batch[1:]] == [a.row_hash for a in batch[:-1]]


def test_notices_are_sent_after_commit_one_per_item(world, django_capture_on_commit_callbacks, mailoutbox):
    world.admin.email = "drafter@example.org"  # make_commitment's drafter and submitter
    world.admin.save()
    pledges = _pledges(world, 3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        approved, _ = _bulk(world.secretary_a, pledges)
        assert mailoutbox == []
    assert len(callbacks) == len(approved) == 3
    assert len(mailoutbox) == 3 and all("已审定" in m.subject for m in mailoutbox)


def test_the_public_pages_go_stale_once_the_batch_commits(world, settings, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from commitments import public_cache

    settings.PUBLIC_PAGE_CACHE = True
    cache.set(public_cache._generation_key(), "before", None)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _bulk(world.secretary_a, _pledges(world, 3))
            assert cache.get(public_cache._generation_key()) == "before"
        assert cache.get(public_cache._generation_key()) not in (None, "before")
    finally:
        cache.delete(public_cache._generation_key())


# --- PostgreSQL: a bulk approval and single reviewers at the same moment ---------------------

@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers; the sequential stale tests cover it")
@pytest.mark.django_db(transaction=True)
def test_a_bulk_approval_racing_single_reviews_decides_each_item_once(world):
    pledges = _pledges(world, 12)
    contested = pledges[::3]
    barrier = threading.Barrier(1 + len(contested), timeout=10)
    results: dict[object, object] = {}

    def bulk():
        try:
            actor = _fresh(world.secretary_a)
            barrier.wait()
            results["bulk"] = _bulk(actor, pledges)
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            results["bulk"] = exc
        finally:
            connection.close()

    def single(c):
        try:
            actor = _fresh(world.committee_secretary)
            commitment = Commitment.objects.get(pk=c.pk)
            barrier.wait()
            results[c.pk] = review_decide(actor=actor, commitment=commitment, version=c.version,
                                          decision=Decision.RETURN, criteria={}, opinion="请修改")
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            results[c.pk] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=bulk)] + [threading.Thread(target=single, args=(c,)) for c in contested]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not isinstance(results["bulk"], Exception), results["bulk"]
    approved, failed = results["bulk"]
    for c in contested:
        single_won = isinstance(results[c.pk], ReviewDecision)
        assert single_won == (c.pk in failed), (results[c.pk], failed)
        assert single_won or isinstance(results[c.pk], Conflict)
        if single_won:
            assert failed[c.pk] == STALE
    assert set(approved) | set(failed) == {c.pk for c in pledges} and not set(approved) & set(failed)
    for c in pledges:
        c.refresh_from_db()
        assert c.status == (S.APPROVED if c.pk in approved else S.RETURNED)
        assert ReviewDecision.objects.filter(commitment=c).count() == 1
        assert AuditEvent.objects.filter(action__in=["commitment.approve", "commitment.return"],
                                         object_id=str(c.pk)).count() == 1
    ok, count, first_bad = audit.verify_chain()
    assert ok, first_bad
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prevs)) == len(prevs)
