"""The audit trail's hash chain (orgs.audit), verify_audit, the append-only guards in the ORM and
in the database (migration orgs/0003_audit_chain), and the retention setting's system check."""
import contextlib
import datetime
import importlib
import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from orgs import audit, services
from orgs.checks import audit_retention_check
from orgs.models import AuditChainHead, AuditEvent, Member, Role, RoleGrant
from orgs.permissions import forget_scope, scope_for
from tests.conftest import make_member

MIGRATION = importlib.import_module("orgs.migrations.0003_audit_chain")
ON_POSTGRESQL = connection.vendor == "postgresql"
User = get_user_model()


def verify_output(**kwargs):
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def verify_failure() -> str:
    with pytest.raises(CommandError) as exc:
        verify_output()
    assert exc.value.returncode == 1
    return str(exc.value)


class _Editor:
    """The part of a schema editor the migration's trigger functions use (a real one cannot be
    opened inside the test's transaction on SQLite)."""
    connection = connection

    def execute(self, sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql)


@contextlib.contextmanager
def trigger_off():
    """Let raw SQL change audit rows for a moment, as an intruder with database access could.
    DDL is transactional on both databases, so the test's rollback restores the trigger anyway."""
    with connection.cursor() as cursor:
        if ON_POSTGRESQL:
            # Django's deferred foreign-key checks from the set-up inserts must fire before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE orgs_auditevent DISABLE TRIGGER orgs_auditevent_append_only")
        else:
            cursor.execute("DROP TRIGGER orgs_auditevent_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if ON_POSTGRESQL:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE orgs_auditevent ENABLE TRIGGER orgs_auditevent_append_only")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute(MIGRATION.SQLITE_TRIGGER)


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def edit_member(actor, member, **changes):
    member = Member.objects.get(pk=member.pk)
    return services.member_update(actor=actor, member=member, version=member.version, data=changes)


@pytest.fixture
def trail(world):
    """A few real actions on top of the world's set-up rows."""
    edit_member(world.secretary_a, world.member_a, post="科长")
    edit_member(world.committee_secretary, world.member_c, note="调整岗位")
    audit.record(actor=None, action="auth.login_failed", result="failure", detail={"username": "nobody"})
    edit_member(world.reviewer, world.member_d, post="处长")
    return list(AuditEvent.objects.order_by("id"))


# --- writing the chain ----------------------------------------------------------------------

def test_each_row_links_to_the_one_before_and_the_head_follows(trail):
    assert trail[0].prev_hash == audit.GENESIS
    for before, row in zip(trail, trail[1:], strict=False):
        assert row.prev_hash == before.row_hash
        assert len(row.row_hash) == 64 and row.row_hash != before.row_hash
    head = AuditChainHead.objects.get()
    assert (head.last_id, head.last_hash) == (trail[-1].pk, trail[-1].row_hash)


def test_a_row_records_the_time_and_the_actors_roles(world):
    before = timezone.now()
    edit_member(world.secretary_a, world.member_a, post="科长")
    event = AuditEvent.objects.first()  # newest first
    assert event.action == "member.update" and event.role == f"secretary@{world.branch_a.pk}"
    assert before - datetime.timedelta(seconds=1) <= event.created_at <= timezone.now()
    assert event.created_at.microsecond % 1000 == 0  # milliseconds: what every backup format keeps
    RoleGrant.objects.create(user=world.secretary_a, organisation=world.branch_b, role=Role.STAFF)
    forget_scope(world.secretary_a)
    event = audit.record(actor=world.secretary_a, action="test.roles")
    assert event.role == ",".join(sorted([f"secretary@{world.branch_a.pk}", f"staff@{world.branch_b.pk}"]))
    assert audit.record(actor=None, action="test.anonymous").role == ""


def test_roles_cost_no_query_once_the_scope_is_cached(world, django_assert_num_queries):
    user = User.objects.get(pk=world.staff_a.pk)
    # Lock the head, insert the row with both hashes, move the head: three statements.
    scope_for(user)
    with django_assert_num_queries(3):
        audit.record(actor=user, action="test.cached")
    forget_scope(user)
    with django_assert_num_queries(4):  # plus the one query for the grants
        audit.record(actor=user, action="test.uncached")


def test_content_that_the_database_normalises_still_verifies(world):
    token = audit.client_ip_var.set("2001:0db8:0000:0000:0000:0000:0000:0001")
    try:
        audit.record(actor=world.admin, action="test.normalised", obj=world.branch_a,
                     detail={"名称": "第一党支部", "n": 1.0, "big": 1e20, "pair": ("a", 2), 3: None, "x": 0.1})
    finally:
        audit.client_ip_var.reset(token)
    event = AuditEvent.objects.get(action="test.normalised")
    assert event.client_ip == "2001:db8::1"
    assert audit.row_hash(event.prev_hash, audit.content_of(event)) == event.row_hash
    assert verify_output().startswith(f"审计链完整：共{AuditEvent.objects.count()}条")


def test_the_hash_survives_dumpdata_and_loaddata(trail):
    """Django's JSON serialiser keeps datetimes to the millisecond; the chain is built to match."""
    text = serializers.serialize("json", AuditEvent.objects.order_by("id"))
    restored = [d.object for d in serializers.deserialize("json", text)]
    assert [audit.row_hash(e.prev_hash, audit.content_of(e)) for e in restored] == [e.row_hash for e in trail]


def test_the_canonical_form_is_stable():
    when = datetime.datetime(2026, 12, 2, 9, 53, 34, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    content = audit.content_of({"created_at": when, "actor_id": 3, "actor_name": "李娜(member_a)",
                                "organisation_id": None, "client_ip": None, "action": "member.update",
                                "object_type": "orgs.member", "object_id": "7", "object_repr": "李娜",
                                "result": "success", "detail": {"b": 1.0, "a": ["x"]}, "role": ""})
    assert audit.canonical(content) == (
        '{"action":"member.update","actor_id":3,"actor_name":"李娜(member_a)","client_ip":"",'
        '"created_at":"2026-12-02T01:53:34.123Z","detail":{"a":["x"],"b":1},"object_id":"7",'
        '"object_repr":"李娜","object_type":"orgs.member","organisation_id":null,"result":"success","role":""}')
    assert audit.row_hash(audit.GENESIS, content) == audit.row_hash(audit.GENESIS, dict(content))


# --- verify_audit ---------------------------------------------------------------------------

def test_an_intact_chain_verifies(trail):
    out = verify_output()
    assert out.startswith(f"审计链完整：共{len(trail)}条")
    ok, count, first_bad = audit.verify_chain()
    assert (ok, count, first_bad) == (True, len(trail), None)
    assert AuditChainHead.objects.get().last_hash in out


def test_verify_streams_in_chunks(trail):
    assert verify_output(chunk_size=2).startswith(f"审计链完整：共{len(trail)}条")


def test_a_changed_row_is_found_and_named(trail):
    victim = trail[len(trail) // 2]
    with trigger_off():
        raw("UPDATE orgs_auditevent SET object_repr = %s WHERE id = %s", ["王五", victim.pk])
    message = verify_failure()
    local = timezone.localtime(victim.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"第{victim.pk}号记录（{local}，{victim.action}）" in message and "被修改" in message
    ok, count, first_bad = audit.verify_chain()
    assert not ok and count == len(trail) // 2 and first_bad.id == victim.pk


def test_a_row_rehashed_by_an_intruder_breaks_the_next_link(trail):
    victim = trail[1]
    changed = {**audit.content_of(victim), "object_repr": "伪造"}
    with trigger_off():
        raw("UPDATE orgs_auditevent SET object_repr = %s, row_hash = %s WHERE id = %s",
            ["伪造", audit.row_hash(victim.prev_hash, changed), victim.pk])
    ok, _, first_bad = audit.verify_chain()
    assert not ok and first_bad.id == trail[2].pk and "链接断开" in first_bad.reason


def test_a_deleted_row_in_the_middle_is_found(trail):
    gone, after = trail[2], trail[3]
    with trigger_off():
        raw("DELETE FROM orgs_auditevent WHERE id = %s", [gone.pk])
    message = verify_failure()
    assert f"第{after.pk}号记录" in message and "链接断开" in message


def test_a_deleted_last_row_is_found_by_the_head(trail):
    with trigger_off():
        raw("DELETE FROM orgs_auditevent WHERE id = %s", [trail[-1].pk])
    assert "链头" in verify_failure()


def test_the_migration_chains_rows_written_before_it(trail):
    with trigger_off():
        raw("UPDATE orgs_auditevent SET prev_hash = '', row_hash = ''")
        raw("UPDATE orgs_auditchainhead SET last_id = 0, last_hash = ''")
        assert not audit.verify_chain().ok
        historical = MigrationExecutor(connection).loader.project_state(("orgs", "0003_audit_chain")).apps
        MIGRATION.backfill(historical, _Editor())
    assert list(AuditEvent.objects.order_by("id").values_list("row_hash", flat=True)) == [e.row_hash for e in trail]
    assert audit.verify_chain().ok


def test_the_migration_triggers_can_be_dropped_and_created_again(db):
    assert audit.append_only_trigger_present()
    MIGRATION.drop_triggers(None, _Editor())
    assert not audit.append_only_trigger_present()
    MIGRATION.create_triggers(None, _Editor())
    assert audit.append_only_trigger_present()


# --- the audit write is part of the action --------------------------------------------------

def test_a_failed_audit_write_rolls_the_action_back(world, monkeypatch):
    member = Member.objects.get(pk=world.member_a.pk)
    before = (AuditEvent.objects.count(), AuditChainHead.objects.get().last_hash)

    def broken_insert(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuditEvent, "save_base", broken_insert)
    with pytest.raises(DatabaseError):
        services.member_update(actor=world.secretary_a, member=member, version=member.version,
                               data={"post": "科长"})
    monkeypatch.undo()
    member.refresh_from_db()
    assert (member.post, member.version) == ("科员", 1)
    assert (AuditEvent.objects.count(), AuditChainHead.objects.get().last_hash) == before
    assert audit.verify_chain().ok


# --- append-only ----------------------------------------------------------------------------

def test_no_orm_path_changes_or_removes_a_row(trail):
    event = AuditEvent.objects.get(pk=trail[1].pk)
    event.action = "x"
    for attempt in (event.save, event.delete, lambda: AuditEvent.objects.filter(pk=event.pk).update(action="x"),
                    lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
                    lambda: AuditEvent.objects.bulk_update([event], ["action"])):
        with pytest.raises(PermissionError), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get(pk=event.pk).action == trail[1].action
    assert audit.verify_chain().ok


def test_the_database_refuses_a_raw_update(trail):
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE orgs_auditevent SET action = 'x' WHERE id = %s", [trail[0].pk])
    assert AuditEvent.objects.get(pk=trail[0].pk).action == trail[0].action


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no DELETE trigger (the test runner empties tables with DELETE)")
def test_postgresql_refuses_a_raw_delete(trail):
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM orgs_auditevent WHERE id = %s", [trail[0].pk])
    assert AuditEvent.objects.filter(pk=trail[0].pk).exists()


# --- retention ------------------------------------------------------------------------------

@pytest.mark.parametrize("days,ok", [(180, True), (365, True), (179, False), (0, False), ("180", False),
                                     (None, False)])
def test_retention_below_six_months_is_a_system_check_error(settings, days, ok):
    settings.AUDIT_RETENTION_DAYS = days
    errors = audit_retention_check()
    assert (errors == []) is ok
    if not ok:
        assert errors[0].id == "orgs.E001" and "180" in errors[0].msg


def test_the_retention_check_is_registered(db, settings):
    assert settings.AUDIT_RETENTION_DAYS >= 180
    assert "orgs.E001" not in [e.id for e in run_checks()]
    settings.AUDIT_RETENTION_DAYS = 30
    assert "orgs.E001" in [e.id for e in run_checks()]


# --- concurrency ----------------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers; the chain tests above cover it")
@pytest.mark.django_db(transaction=True)
def test_eight_writers_at_once_leave_one_linear_chain(world):
    members = [make_member(world.branch_a, f"并发党员{i}") for i in range(8)]
    rounds = 3
    barrier = threading.Barrier(len(members), timeout=10)
    errors = []

    def work(i):
        try:
            actor = User.objects.get(pk=world.secretary_a.pk)
            barrier.wait()
            for n in range(rounds):
                edit_member(actor, members[i], note=f"第{n}次修改")
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(members))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    assert AuditEvent.objects.filter(action="member.update").count() == len(members) * rounds
    ok, count, first_bad = audit.verify_chain()
    assert ok, first_bad
    assert count == AuditEvent.objects.count()
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prevs)) == len(prevs)  # no two rows claim the same predecessor: no fork
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
