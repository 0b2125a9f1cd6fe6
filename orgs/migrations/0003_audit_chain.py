"""Chain the existing audit rows, then make the database itself refuse to change them.

1. Backfill: rows written before the chain existed get prev_hash/row_hash in id order (the
   historical model has a plain manager, so bulk updates work here), and the head is set.
2. Triggers. PostgreSQL: a row trigger refusing UPDATE and DELETE on orgs_auditevent. SQLite:
   UPDATE only. pytest-django empties tables between transactional tests with DELETE FROM on
   SQLite (TRUNCATE on PostgreSQL, which row triggers do not see), so a SQLite DELETE trigger
   would break the test suite; the ORM refuses deletes on both databases anyway.
   Note for later migrations: on SQLite, altering orgs_auditevent rebuilds the table and drops
   its triggers; such a migration must create orgs_auditevent_no_update again (manage.py
   verify_audit warns when it is missing). PostgreSQL keeps triggers across ALTER TABLE.
"""
from django.db import migrations

from orgs.audit import GENESIS, HEAD_ID, content_of, row_hash

CHUNK = 500
FIELDS = ("id", "created_at", "actor_id", "actor_name", "organisation_id", "client_ip", "action",
          "object_type", "object_id", "object_repr", "result", "detail", "role")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION orgs_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'orgs_auditevent is append-only: ' || TG_OP || ' refused (审计记录只能追加)',
        ERRCODE = 'insufficient_privilege';
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER orgs_auditevent_append_only BEFORE UPDATE OR DELETE ON orgs_auditevent
FOR EACH ROW EXECUTE FUNCTION orgs_auditevent_append_only()
"""
PG_DROP = ["DROP TRIGGER IF EXISTS orgs_auditevent_append_only ON orgs_auditevent",
           "DROP FUNCTION IF EXISTS orgs_auditevent_append_only()"]
SQLITE_TRIGGER = """
CREATE TRIGGER orgs_auditevent_no_update BEFORE UPDATE ON orgs_auditevent
BEGIN
    SELECT RAISE(ABORT, 'orgs_auditevent is append-only: UPDATE refused');
END
"""
SQLITE_DROP = ["DROP TRIGGER IF EXISTS orgs_auditevent_no_update"]


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("orgs", "AuditEvent")
    AuditChainHead = apps.get_model("orgs", "AuditChainHead")
    db = schema_editor.connection.alias
    prev, last_id, batch = GENESIS, 0, []
    for values in AuditEvent.objects.using(db).order_by("id").values(*FIELDS).iterator(chunk_size=CHUNK):
        event = AuditEvent(id=values["id"], prev_hash=prev, row_hash=row_hash(prev, content_of(values)))
        batch.append(event)
        prev, last_id = event.row_hash, event.id
        if len(batch) >= CHUNK:
            AuditEvent.objects.using(db).bulk_update(batch, ["prev_hash", "row_hash"])
            batch = []
    if batch:
        AuditEvent.objects.using(db).bulk_update(batch, ["prev_hash", "row_hash"])
    AuditChainHead.objects.using(db).update_or_create(
        id=HEAD_ID, defaults={"last_id": last_id, "last_hash": prev if last_id else ""})


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(PG_TRIGGER, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER, params=None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP if vendor == "sqlite" else []:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("orgs", "0002_security"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
