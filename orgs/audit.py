"""The one function every app writes its audit entries through, and the hash chain over them.

The client address is taken from a context variable that AuditContextMiddleware sets per
request, so services record it without taking the request as an argument.

Tamper evidence (网络安全等级保护 level 2, 安全审计): every row carries
    row_hash = SHA-256(prev_hash + canonical JSON of the row's content)
where prev_hash is the row_hash of the row appended before it (GENESIS for the first). The
newest hash is kept in AuditChainHead (one row, id=1), locked with SELECT ... FOR UPDATE while a
row is appended, so concurrent writers queue up and the chain stays linear; the row is stored
with both hashes in one INSERT (record_many() appends a batch the same way: one lock, the rows
chained in order and inserted together, the head moved once). Changing, inserting or removing
any row breaks the chain from there on, which verify_chain() (manage.py verify_audit) reports.

The canonical form uses only what survives every way the rows are moved: SQLite and PostgreSQL,
pg_dump, and dumpdata/loaddata (whose JSON keeps datetimes to the millisecond only, so times are
stored and hashed to the millisecond). The id is not part of it (it is only known after the
INSERT); order is kept by prev_hash instead.
"""
import datetime
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections, models, transaction
from django.utils import timezone

from orgs.models import Member, Organisation, RoleGrant
from orgs.permissions import scope_for

from .models import AuditChainHead, AuditEvent

client_ip_var: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)

GENESIS = "0" * 64
HEAD_ID = 1
# The fields a row's hash covers, in the order of the canonical form (keys are sorted anyway).
CONTENT_FIELDS = ("created_at", "actor_id", "actor_name", "organisation_id", "client_ip", "action",
                  "object_type", "object_id", "object_repr", "result", "detail", "role")


def record(*, actor, action: str, obj: models.Model | None = None, organisation=None,
           result: str = "success", detail: dict | None = None) -> AuditEvent:
    """Append one audit row. Call it inside the transaction of the action it records: if the
    row cannot be written, the action is rolled back with it."""
    event = _new_event(_Actor.of(actor), action=action, obj=obj, organisation=organisation, result=result,
                       detail=detail)
    # No savepoint: inside the caller's transaction a failure here must roll the action back too.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=HEAD_ID)
        event.prev_hash = head.last_hash or GENESIS
        event.row_hash = row_hash(event.prev_hash, content_of(event))
        # raw=True: insert created_at as set above (auto_now_add would stamp a later time after
        # the hash was computed). AuditEvent.save() is bypassed, but pk is None: a plain INSERT.
        event.save_base(raw=True, force_insert=True)
        AuditChainHead.objects.filter(id=HEAD_ID).update(last_id=event.pk, last_hash=event.row_hash)
    return event


@dataclass(frozen=True)
class Entry:
    """One row of record_many(): what record() takes besides the actor."""
    action: str
    obj: models.Model | None = None
    organisation: models.Model | None = None
    result: str = "success"
    detail: dict | None = None


def record_many(*, actor, entries: list[Entry]) -> list[AuditEvent]:
    """Append one audit row per entry, in order, as one step of the chain: the head is locked
    once, the rows are chained in memory and stored with a few multi-row INSERTs, the head moved
    once. The rows are exactly what record() would have written one after the other (same
    content, same hashes), so verify_chain() cannot tell them apart. Call it inside the
    transaction of the actions it records."""
    entries = list(entries)
    if not entries:
        return []
    who = _Actor.of(actor)
    events = [_new_event(who, action=e.action, obj=e.obj, organisation=e.organisation, result=e.result,
                         detail=e.detail) for e in entries]
    connection = connections[AuditEvent.objects.db]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    returning = (AuditEvent._meta.db_returning_fields
                 if connection.features.can_return_rows_from_bulk_insert else None)
    batch_size = max(connection.ops.bulk_batch_size(fields, events), 1)
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=HEAD_ID)
        prev = head.last_hash or GENESIS
        for event in events:
            event.prev_hash = prev
            event.row_hash = prev = row_hash(prev, content_of(event))
        for start in range(0, len(events), batch_size):
            batch = events[start:start + batch_size]
            # raw=True as in record(): keep created_at as hashed (bulk_create would let
            # auto_now_add restamp it). The rows go in list order, so their ids follow the chain.
            rows = AuditEvent.objects._insert(batch, fields=fields, returning_fields=returning, raw=True)
            for event, row in zip(batch, rows or ()):
                for field, value in zip(returning, row):
                    setattr(event, field.attname, value)
                event._state.adding, event._state.db = False, connection.alias
        ids = [event.pk for event in events]
        if None in ids:  # a backend that cannot return ids: ours are the newest rows (the head is locked)
            ids = sorted(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:len(events)])
            for event, pk in zip(events, ids):
                event.pk = pk
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            # verify_chain walks in id order; a batch stored out of order would read as tampering.
            raise RuntimeError("audit rows of one batch were not numbered in insertion order")
        AuditChainHead.objects.filter(id=HEAD_ID).update(last_id=events[-1].pk, last_hash=events[-1].row_hash)
    return events


@dataclass(frozen=True)
class _Actor:
    """Who acts, as every row of theirs records it (read once for a batch)."""
    user: object
    name: str
    role: str
    client_ip: str | None

    @classmethod
    def of(cls, actor) -> "_Actor":
        user = actor if getattr(actor, "is_authenticated", False) else None
        field = AuditEvent._meta.get_field
        return cls(
            user=user,
            name=(_display_name(user) if user else "匿名")[:field("actor_name").max_length],
            role=roles_of(user)[:field("role").max_length],
            # Stored as the database gives it back (IPv6 in its short form), so the hash matches.
            client_ip=field("client_ip").get_prep_value(client_ip_var.get()) or None,
        )


def _new_event(who: _Actor, *, action: str, obj, organisation, result: str, detail: dict | None) -> AuditEvent:
    if organisation is None and obj is not None:
        organisation = _organisation_of(obj)
    return AuditEvent(
        created_at=_to_millisecond(timezone.now()),
        actor=who.user,
        actor_name=who.name,
        organisation=organisation,
        client_ip=who.client_ip,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        result=result,
        # Round-tripped through JSON now (tuples become lists, keys strings), as it will be read back.
        detail=json.loads(json.dumps(detail or {})),
        role=who.role,
    )


def roles_of(user) -> str:
    """The actor's roles now, "secretary@3,staff@7" (cached grants: no query within a request)."""
    if user is None:
        return ""
    return ",".join(sorted({f"{g.role}@{g.organisation_id}" for g in scope_for(user).grants}))


# --- the chain ------------------------------------------------------------------------------

def _to_millisecond(value: datetime.datetime) -> datetime.datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _utc_text(value) -> str:
    """2026-12-02T01:53:34.123Z: UTC, to the millisecond (what dumpdata keeps)."""
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    value = value.astimezone(datetime.UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def _stable_json(value):
    """Numbers as PostgreSQL's jsonb gives them back: a whole float (1.0, 1e20) is the integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _stable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stable_json(v) for v in value]
    return value


def content_of(row) -> dict:
    """The hashed content of a row (an AuditEvent, or a dict of CONTENT_FIELDS from .values())."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    return {
        "created_at": _utc_text(get("created_at")),
        "actor_id": get("actor_id"),
        "actor_name": get("actor_name") or "",
        "organisation_id": get("organisation_id"),
        "client_ip": get("client_ip") or "",
        "action": get("action") or "",
        "object_type": get("object_type") or "",
        "object_id": get("object_id") or "",
        "object_repr": get("object_repr") or "",
        "result": get("result") or "",
        "detail": _stable_json(get("detail") or {}),
        "role": get("role") or "",
    }


def canonical(content: dict) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def row_hash(prev_hash: str, content: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BadRow:
    id: int | None
    created_at: datetime.datetime | None
    action: str
    reason: str

    def __str__(self) -> str:
        if self.id is None:
            return self.reason
        when = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M:%S") if self.created_at else "—"
        return f"第{self.id}号记录（{when}，{self.action}）：{self.reason}"


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    count: int
    first_bad: BadRow | None
    head_hash: str

    def __iter__(self):  # ok, count, first_bad = verify_chain()
        return iter((self.ok, self.count, self.first_bad))


def verify_chain(*, chunk_size: int = 2000, using: str = "default") -> ChainResult:
    """Walk the whole trail in id order (streamed in chunks), recompute every hash, check the
    links and the head. Returns (ok, count, first_bad); the first broken row names the place."""
    rows = (AuditEvent.objects.using(using).order_by("id")
            .values("id", "prev_hash", "row_hash", *CONTENT_FIELDS).iterator(chunk_size=chunk_size))
    expected_prev, count, last_id = GENESIS, 0, 0
    for row in rows:
        if row["prev_hash"] != expected_prev:
            reason = "与上一条记录的链接断开（此前的记录被删除、插入或修改）"
            return ChainResult(False, count, _bad(row, reason), expected_prev)
        if row_hash(row["prev_hash"], content_of(row)) != row["row_hash"]:
            return ChainResult(False, count, _bad(row, "内容与校验值不符（记录被修改）"), expected_prev)
        expected_prev, last_id, count = row["row_hash"], row["id"], count + 1
    head = AuditChainHead.objects.using(using).filter(id=HEAD_ID).first()
    head_id, head_hash = (head.last_id, head.last_hash or GENESIS) if head else (0, GENESIS)
    if (head_id, head_hash) != (last_id, expected_prev):
        reason = (f"链头指向第{head_id}号记录，与最后一条记录（第{last_id}号）不符"
                  "（末尾的记录被删除，或链头被改动）")
        return ChainResult(False, count, BadRow(None, None, "", reason), expected_prev)
    return ChainResult(True, count, None, expected_prev)


def _bad(row, reason: str) -> BadRow:
    return BadRow(row["id"], row["created_at"], row["action"], reason)


def append_only_trigger_present(using: str = "default") -> bool:
    """Whether the database refuses UPDATE on orgs_auditevent (migration 0003). On SQLite a
    migration that rebuilds the table drops its triggers; verify_audit warns about it."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'orgs_auditevent_append_only' "
                           "AND tgrelid = 'orgs_auditevent'::regclass AND tgenabled <> 'D'")
        elif conn.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' "
                           "AND name = 'orgs_auditevent_no_update'")
        else:
            return False
        return cursor.fetchone() is not None


# --- helpers --------------------------------------------------------------------------------

def _display_name(user) -> str:
    full = f"{user.last_name}{user.first_name}".strip()
    return f"{full}({user.get_username()})" if full else user.get_username()


def _organisation_of(obj):
    if isinstance(obj, Organisation):
        return obj
    if isinstance(obj, Member):
        return obj.branch
    if isinstance(obj, RoleGrant):
        return obj.organisation
    # A member's pledge belongs to the member's branch; an organisation's commitment to the organisation.
    member = getattr(obj, "member", None)
    if isinstance(member, Member):
        return member.branch
    return getattr(obj, "organisation", None)
