"""audit.record_many: a batch of rows appended to the hash chain under one lock of its head,
indistinguishable from the same rows written one by one by audit.record."""
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orgs import audit
from orgs.models import AuditChainHead, AuditEvent, Member
from orgs.permissions import scope_for
from tests.conftest import make_member

from .test_audit_chain import ON_POSTGRESQL, raw, trigger_off, verify_failure, verify_output

User = get_user_model()
FIELDS = ("action", "actor_id", "actor_name", "organisation_id", "client_ip", "object_type", "object_id",
          "object_repr", "result", "detail", "role")


def _entries(members, action="test.batch"):
    return [audit.Entry(action=action, obj=m, detail={"n": i, "名称": m.name}) for i, m in enumerate(members)]


def _members(world, n, prefix="批量"):
    return [make_member(world.branch_a, f"{prefix}{i}") for i in range(n)]


def test_a_batch_extends_the_chain_in_order_and_moves_the_head(world):
    before = audit.record(actor=world.secretary_a, action="test.before")
    members = _members(world, 7)
    events = audit.record_many(actor=world.secretary_a, entries=_entries(members))
    after = audit.record(actor=world.secretary_a, action="test.after")

    stored = list(AuditEvent.objects.filter(action="test.batch").order_by("id"))
    assert [e.pk for e in events] == [s.pk for s in stored]  # the ids were given back in order
    assert [s.object_id for s in stored] == [str(m.pk) for m in members]
    chain = [before, *stored, after]
    assert [row.prev_hash for row in chain[1:]] == [row.row_hash for row in chain[:-1]]
    for event, row in zip(events, stored, strict=True):
        assert (event.prev_hash, event.row_hash) == (row.prev_hash, row.row_hash)
        assert row.created_at == event.created_at and row.created_at.microsecond % 1000 == 0
        assert audit.row_hash(row.prev_hash, audit.content_of(row)) == row.row_hash
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (after.pk, after.row_hash)
    ok, count, first_bad = audit.verify_chain()
    assert (ok, count, first_bad) == (True, AuditEvent.objects.count(), None)
    assert verify_output().startswith(f"审计链完整：共{count}条")


def test_the_head_points_at_the_last_row_of_a_batch(world):
    events = audit.record_many(actor=world.secretary_a, entries=_entries(_members(world, 3)))
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (events[-1].pk, events[-1].row_hash)
    assert audit.verify_chain().ok


def test_a_batch_writes_what_record_writes(world):
    member = world.member_a
    token = audit.client_ip_var.set("2001:0db8:0000:0000:0000:0000:0000:0001")
    try:
        single = audit.record(actor=world.secretary_a, action="test.same", obj=member, detail={"x": 1.0})
        batch, = audit.record_many(actor=world.secretary_a,
                                   entries=[audit.Entry(action="test.same", obj=member, detail={"x": 1.0})])
    finally:
        audit.client_ip_var.reset(token)
    one, two = (AuditEvent.objects.filter(pk=e.pk).values(*FIELDS).get() for e in (single, batch))
    assert one == two
    assert two["client_ip"] == "2001:db8::1" and two["organisation_id"] == world.branch_a.pk  # the member's branch
    assert two["role"] == f"secretary@{world.branch_a.pk}" and two["detail"] == {"x": 1}
    assert audit.verify_chain().ok


def test_an_anonymous_batch_and_explicit_fields(world):
    events = audit.record_many(actor=None, entries=[
        audit.Entry(action="auth.login_failed", result="failure", detail={"username": "nobody"}),
        audit.Entry(action="test.org", organisation=world.branch_b),
    ])
    rows = list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("id"))
    assert [(r.actor_id, r.actor_name, r.role, r.result) for r in rows] == [
        (None, "匿名", "", "failure"), (None, "匿名", "", "success")]
    assert rows[1].organisation_id == world.branch_b.pk and rows[0].object_id == ""
    assert audit.verify_chain().ok


def test_the_query_count_does_not_grow_with_the_batch(world):
    user = User.objects.get(pk=world.secretary_a.pk)
    scope_for(user)
    counts = {}
    for n in (2, 40):
        members = _members(world, n, prefix=f"第{n}批")
        with CaptureQueriesContext(connection) as ctx:
            audit.record_many(actor=user, entries=_entries(members))
        counts[n] = len(ctx)
    # Lock the head, one multi-row INSERT, move the head: as record() does for one row.
    assert counts == {2: 3, 40: 3}


def test_an_empty_batch_writes_nothing(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert audit.record_many(actor=world.secretary_a, entries=[]) == []


def test_a_batch_larger_than_one_insert_stays_in_order(world, monkeypatch):
    """Batches beyond the backend's parameter limit go in several INSERTs, still in order."""
    monkeypatch.setattr(type(connection.ops), "bulk_batch_size", lambda self, fields, objs: 3)
    members = _members(world, 8)
    with CaptureQueriesContext(connection) as ctx:
        events = audit.record_many(actor=world.secretary_a, entries=_entries(members))
    assert sum(q["sql"].startswith("INSERT") for q in ctx.captured_queries) == 3
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    assert list(AuditEvent.objects.filter(action="test.batch").order_by("id").values_list("object_id", flat=True)) \
        == [str(m.pk) for m in members]
    ok, _, first_bad = audit.verify_chain()
    assert ok, first_bad


def test_a_failing_batch_leaves_the_chain_as_it_was(world):
    audit.record(actor=world.secretary_a, action="test.before")
    head = AuditChainHead.objects.values_list("last_id", "last_hash").get()
    count = AuditEvent.objects.count()
    too_long = audit.Entry(action="x" * 51)  # the action column holds 50 characters
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - the backends raise different errors
        audit.record_many(actor=world.secretary_a, entries=[audit.Entry(action="test.ok"), too_long])
        if connection.vendor == "sqlite":  # SQLite does not enforce VARCHAR lengths
            raise RuntimeError("rolled back as the caller's action would be")
    assert AuditChainHead.objects.values_list("last_id", "last_hash").get() == head
    assert AuditEvent.objects.count() == count and audit.verify_chain().ok


def test_a_changed_row_inside_a_batch_is_found(world):
    events = audit.record_many(actor=world.secretary_a, entries=_entries(_members(world, 5)))
    victim = events[2]
    with trigger_off():
        raw("UPDATE orgs_auditevent SET object_repr = %s WHERE id = %s", ["王五", victim.pk])
    ok, _, first_bad = audit.verify_chain()
    assert not ok and first_bad.id == victim.pk
    assert f"第{victim.pk}号记录" in verify_failure()


# --- concurrency ----------------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers; the chain tests above cover it")
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_appends_at_once_leave_one_linear_chain(world):
    members = list(Member.objects.all()[:4])
    workers, rounds, size = 6, 4, 5
    barrier = threading.Barrier(workers, timeout=10)
    errors = []

    def work(i):
        try:
            actor = User.objects.get(pk=world.secretary_a.pk)
            barrier.wait()
            for n in range(rounds):
                with transaction.atomic():
                    if i % 2:
                        audit.record_many(actor=actor, entries=_entries(members * 2, action="test.batch")[:size])
                    else:
                        audit.record(actor=actor, action="test.single", obj=members[n % len(members)])
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    assert AuditEvent.objects.filter(action="test.batch").count() == (workers // 2) * rounds * size
    assert AuditEvent.objects.filter(action="test.single").count() == (workers - workers // 2) * rounds
    ok, count, first_bad = audit.verify_chain()
    assert ok, first_bad
    assert count == AuditEvent.objects.count()
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prevs)) == len(prevs)  # no fork
    # Each batch is contiguous: its rows follow one another by id with nothing between them.
    actions = list(AuditEvent.objects.filter(action__startswith="test.").order_by("id")
                   .values_list("action", flat=True))
    runs, current = [], None
    for action in actions:
        if action == "test.batch" and current is not None:
            current += 1
        else:
            if current is not None:
                runs.append(current)
            current = 1 if action == "test.batch" else None
    if current is not None:
        runs.append(current)
    assert all(run % size == 0 for run in runs), runs
