"""Backup and restore of the whole system: `manage.py backup` and `manage.py restore`.

One archive (tar.gz) holds
    data/NNN-<app>.<model>.jsonl   every row of every model of the project's apps and of
                                   django.contrib.auth, one JSON object per line, models in
                                   dependency order (referenced tables first)
    media/<path>                   every uploaded file under MEDIA_ROOT (the cache of rendered
                                   PDFs, MEDIA_ROOT/forms, is left out: it is rendered again)
    manifest.json                  SHA-256 of every other member, rows per model, the applied
                                   migrations (latest per app), creation time, database engine
and its own SHA-256 is written next to it (`<archive>.sha256`, the format of sha256sum).

Rows are read in one read transaction (a consistent snapshot that does not block writers) with
iterator(), so memory stays bounded whatever the size. Restore checks the checksum file and every member against the
manifest before it touches anything, then inserts the rows as they were (primary keys, hashes
and timestamps unchanged: raw inserts, no save() and no signals) in one transaction, resets the
PostgreSQL sequences, puts the files back, and compares the row counts; the audit hash chain is
verified when orgs.audit offers verify_chain().

Not in the archive: sessions (everyone signs in again), auth permissions and content types
(`migrate` creates them; rows that point at a permission carry its natural key instead of its id).
"""
from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import hashlib
import io
import json
import os
import tarfile
import tempfile
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_string

from orgs import audit

FORMAT = 1
PROJECT_APPS = ("orgs", "commitments", "reviews", "evaluations")
BACKED_UP_APPS = ("auth", *PROJECT_APPS)
# Rebuilt by `migrate` in every database; referenced by natural key instead.
EXCLUDED_MODELS = {"auth.permission"}
# Rows that a migration may create in an empty database (the audit chain's single head row):
# they do not make a target "non-empty", and restore replaces them.
SEEDED_MODELS = {"orgs.auditchainhead"}
# Regenerated content under MEDIA_ROOT that a backup leaves out.
MEDIA_SKIP_DIRS = {"forms"}
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
BATCH = 500
READ_CHUNK = 2000


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for the operator (Chinese)."""


# --- models and their order ---------------------------------------------------------------------

def backed_up_models() -> list[type[models.Model]]:
    """Every concrete model of the backed-up apps (with the auto-created many-to-many tables),
    referenced models before the models that point at them."""
    found = []
    for label in BACKED_UP_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.swapped or meta.label_lower in EXCLUDED_MODELS:
                continue
            found.append(model)
    return _dependency_order(found)


def _dependency_order(found: list[type[models.Model]]) -> list[type[models.Model]]:
    pending = {m._meta.label_lower: m for m in found}
    depends = {
        label: {f.related_model._meta.concrete_model._meta.label_lower
                for f in m._meta.local_concrete_fields if f.is_relation and f.related_model is not None}
        & (set(pending) - {label})
        for label, m in pending.items()
    }
    ordered = []
    while pending:
        ready = [label for label in pending if not (depends[label] & set(pending))]
        # A cycle (two tables pointing at each other): take the first in app order; foreign keys
        # are checked at commit (deferred), so the order within one transaction does not matter.
        for label in ready or [next(iter(pending))]:
            ordered.append(pending.pop(label))
    return ordered


def _fields(model) -> list[models.Field]:
    return list(model._meta.local_concrete_fields)


def _remapped(f: models.Field) -> str | None:
    """Foreign keys whose targets are rebuilt by migrate, stored by natural key."""
    if f.is_relation and f.related_model is Permission:
        return "permission"
    if f.is_relation and f.related_model is ContentType:
        return "contenttype"
    return None


# --- values to JSON and back --------------------------------------------------------------------

def _encode(value):
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()  # microseconds kept: the audit hashes cover the timestamps
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, (bytes, memoryview, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _decode(f: models.Field, value):
    if value is None or isinstance(f, models.JSONField):
        return value
    return f.to_python(value)


def _natural_keys(kind: str, using: str) -> dict:
    if kind == "permission":
        rows = Permission.objects.using(using).values_list("pk", "content_type__app_label",
                                                            "content_type__model", "codename")
        return {pk: [app, model, codename] for pk, app, model, codename in rows}
    rows = ContentType.objects.using(using).values_list("pk", "app_label", "model")
    return {pk: [app, model] for pk, app, model in rows}


# --- hashing and small helpers ------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def migration_state(using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """The latest applied migration of every app ({} for a database never migrated)."""
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return {}
    latest: dict[str, str] = {}
    for app, name in recorder.applied_migrations():
        if name > latest.get(app, ""):
            latest[app] = name
    return latest


def media_files(root: Path) -> list[tuple[str, Path]]:
    """(archive-relative POSIX path, absolute path) of every regular file under MEDIA_ROOT."""
    result = []
    if not root.is_dir():
        return result
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in MEDIA_SKIP_DIRS]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".tmp-") or path.is_symlink() or not path.is_file():
                continue
            result.append((path.relative_to(root).as_posix(), path))
    return result


def default_archive_name(now: datetime.datetime | None = None) -> str:
    now = timezone.localtime(now or timezone.now())
    return f"backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def _add_member(tar: tarfile.TarFile, name: str, fileobj, size: int, mtime: float | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(mtime if mtime is not None else timezone.now().timestamp())
    tar.addfile(info, fileobj)


# --- backup -------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    sha256: str
    rows: dict[str, int]
    files: int


def create_backup(output: Path, *, using: str = DEFAULT_DB_ALIAS, log=None) -> BackupResult:
    """Write the archive to `output` (atomically: a temporary name, then renamed) and
    `<output>.sha256`. Returns what was written."""
    log = log or (lambda message: None)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise BackupError("数据库尚未迁移到当前版本，请先运行 manage.py migrate 再备份。")
    members: dict[str, str] = {}
    table: list[dict] = []
    fd, tmp_name = tempfile.mkstemp(dir=output.parent, prefix=".tmp-backup-", suffix=".tar.gz")
    tmp = Path(tmp_name)
    try:
        # Password hashes are inside: owner only.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            with read_snapshot(using):
                migrations = migration_state(using)
                remap = {kind: _natural_keys(kind, using) for kind in ("permission", "contenttype")}
                for n, model in enumerate(backed_up_models(), start=1):
                    label = model._meta.label_lower
                    name = f"data/{n:03d}-{label}.jsonl"
                    rows, digest, size, spool = _dump_model(model, using, remap)
                    with spool:
                        _add_member(tar, name, spool, size)
                    members[name] = digest
                    table.append({"model": label, "member": name, "rows": rows})
                    log(f"{label}: {rows}")
            media = []
            for relative, path in media_files(Path(settings.MEDIA_ROOT)):
                name = f"media/{relative}"
                with open(path, "rb") as f, tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
                    digest = hashlib.sha256()
                    while chunk := f.read(CHUNK):
                        digest.update(chunk)
                        spool.write(chunk)
                    size = spool.tell()
                    spool.seek(0)
                    _add_member(tar, name, spool, size, path.stat().st_mtime)
                members[name] = digest.hexdigest()
                media.append(relative)
            manifest = {
                "format": FORMAT,
                "created_at": timezone.now().isoformat(),
                "engine": connection.vendor,
                "database": connection.settings_dict["ENGINE"],
                "migrations": migrations,
                "models": table,
                "media": media,
                "members": members,
            }
            body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            _add_member(tar, MANIFEST, io.BytesIO(body), len(body))
        digest = sha256_file(tmp)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    checksum = checksum_path(output)
    checksum.write_text(f"{digest}  {output.name}\n", encoding="utf-8")
    return BackupResult(output, digest, {row["model"]: row["rows"] for row in table}, len(media))


@contextlib.contextmanager
def read_snapshot(using: str):
    """Every read inside sees the database as of one moment, and writers are not held up.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a plain (deferred) read
    transaction, begun by hand because Django's atomic() begins IMMEDIATE ones here, which would
    lock out every writer for the length of the backup; in WAL mode readers and a writer coexist.
    Inside an outer transaction (the tests') that transaction is the snapshot."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")  # nothing was written
        return
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _dump_model(model, using: str, remap: dict):
    """One model's rows as JSON Lines in a spooled temporary file: (rows, sha256, size, file)."""
    fields = _fields(model)
    names = [f.attname for f in fields]
    kinds = [_remapped(f) for f in fields]
    spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
    digest = hashlib.sha256()
    count = 0
    qs = model._base_manager.using(using).order_by("pk").values_list(*names)
    for values in qs.iterator(chunk_size=READ_CHUNK):
        row = {}
        for name, kind, value in zip(names, kinds, values):
            row[name] = remap[kind][value] if kind and value is not None else _encode(value)
        # Keys unsorted: a JSONField keeps the key order it was saved with.
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode()
        digest.update(line)
        spool.write(line)
        count += 1
    size = spool.tell()
    spool.seek(0)
    return count, digest.hexdigest(), size, spool


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backup-*.tar.gz (and their .sha256) in `directory`."""
    archives = sorted(directory.glob("backup-*.tar.gz"))
    removed = archives[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
        checksum_path(path).unlink(missing_ok=True)
    return removed


# --- restore: verification ----------------------------------------------------------------------

def _safe_media_path(name: str) -> str:
    """The MEDIA_ROOT-relative path of a media member; refuses anything that could leave it."""
    relative = name[len("media/"):]
    pure = PurePosixPath(relative)
    if (not relative or "\\" in relative or "\x00" in relative or pure.is_absolute()
            or any(part in ("", ".", "..") for part in relative.split("/"))):
        raise BackupError(f"备份文件中的路径不安全：{name}")
    return relative


def verify_archive(archive: Path) -> dict:
    """Check the checksum file and every member against the manifest; return the manifest.
    Reads the archive, writes nothing."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"找不到备份文件：{archive}")
    checksum = checksum_path(archive)
    if not checksum.is_file():
        raise BackupError(f"找不到校验文件：{checksum}（备份时与备份文件一同生成）")
    expected = checksum.read_text(encoding="utf-8").split()[:1]
    actual = sha256_file(archive)
    if not expected or expected[0].lower() != actual:
        raise BackupError("校验失败：备份文件的SHA-256与校验文件不符，文件已损坏或被改动，未做任何恢复。")
    hashes: dict[str, str] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for info in tar:
                if info.name in hashes or (info.name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"校验失败：备份文件中有重复的条目 {info.name}")
                if not info.isfile():
                    raise BackupError(f"校验失败：备份文件中有非普通文件的条目 {info.name}")
                f = tar.extractfile(info)
                if info.name == MANIFEST:
                    manifest_bytes = f.read()
                    continue
                if info.name.startswith("media/"):
                    _safe_media_path(info.name)
                elif not info.name.startswith("data/"):
                    raise BackupError(f"校验失败：备份文件中有未知的条目 {info.name}")
                digest = hashlib.sha256()
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                hashes[info.name] = digest.hexdigest()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"校验失败：无法读取备份文件（{exc}）") from exc
    if manifest_bytes is None:
        raise BackupError("校验失败：备份文件中没有清单 manifest.json")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        raise BackupError("校验失败：清单 manifest.json 无法解析") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不支持的备份格式：{manifest.get('format')!r}")
    listed = manifest.get("members", {})
    if set(listed) != set(hashes):
        missing, extra = sorted(set(listed) - set(hashes)), sorted(set(hashes) - set(listed))
        raise BackupError(f"校验失败：备份内容与清单不一致（缺少 {missing[:5]}，多出 {extra[:5]}）")
    bad = sorted(name for name in listed if listed[name] != hashes[name])
    if bad:
        raise BackupError(f"校验失败：{len(bad)} 个条目的SHA-256与清单不符，例如 {bad[0]}")
    return manifest


# --- restore: loading ---------------------------------------------------------------------------

@dataclass
class RestoreResult:
    rows: dict[str, int]
    files: int
    migrated: bool
    audit: tuple | None = None
    notes: list[str] = field(default_factory=list)


def restore_backup(archive: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS,
                   migrate=None, log=None) -> RestoreResult:
    """Restore `archive` into the database `using` and MEDIA_ROOT. `migrate` is called (with no
    arguments) when the target database has never been migrated."""
    log = log or (lambda message: None)
    archive = Path(archive)
    manifest = verify_archive(archive)
    log(f"校验通过：{len(manifest['members'])} 个条目，备份时间 {manifest['created_at']}，"
        f"数据库 {manifest['engine']}")
    connection = connections[using]
    migrated = False
    if not migration_state(using) and migrate is not None:
        migrate()
        migrated = True
    _check_migrations(manifest, migration_state(using))

    models_by_label = {m._meta.label_lower: m for m in backed_up_models()}
    unknown = [row["model"] for row in manifest["models"] if row["model"] not in models_by_label]
    if unknown:
        raise BackupError(f"备份中的数据表在当前系统中不存在：{', '.join(unknown)}")
    occupied = [label for label, model in models_by_label.items()
                if label not in SEEDED_MODELS and model._base_manager.using(using).exists()]
    if occupied and not force:
        raise BackupError(f"目标数据库不是空的（{', '.join(occupied[:5])} 等表已有数据）。"
                          "请恢复到新建并已迁移的数据库，或加 --force 清空后恢复。")
    media_root = Path(settings.MEDIA_ROOT)
    clashes = [p for p in manifest["media"]
               if (media_root / p).exists() and sha256_file(media_root / p) != manifest["members"][f"media/{p}"]]
    if clashes and not force:
        raise BackupError(f"媒体目录中已有同名但内容不同的文件（例如 {clashes[0]}），加 --force 才会覆盖。")

    written: list[tuple[Path, Path | None]] = []  # (target, backup of a replaced file)
    try:
        with transaction.atomic(using=using):
            # --force empties every backed-up table (TRUNCATE on PostgreSQL needs all the tables
            # that reference each other at once); otherwise only the rows a migration seeded.
            to_clear = [model for label, model in models_by_label.items() if force or label in SEEDED_MODELS]
            if to_clear:
                _flush(connection, to_clear)
            remap = {kind: {tuple(v): k for k, v in _natural_keys(kind, using).items()}
                     for kind in ("permission", "contenttype")}
            by_member = {row["member"]: models_by_label[row["model"]] for row in manifest["models"]}
            files = 0
            with tarfile.open(archive, mode="r|gz") as tar:
                for info in tar:
                    if info.name in by_member:
                        model = by_member[info.name]
                        count = _load_model(model, tar.extractfile(info), using, remap)
                        log(f"{model._meta.label_lower}: {count}")
                    elif info.name.startswith("media/"):
                        _restore_file(tar.extractfile(info), media_root / _safe_media_path(info.name),
                                      manifest["members"][info.name], written)
                        files += 1
            statements = connection.ops.sequence_reset_sql(no_style(), list(models_by_label.values()))
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
            counts = {label: model._base_manager.using(using).count() for label, model in models_by_label.items()}
            wrong = [f"{row['model']}（备份 {row['rows']}，恢复后 {counts[row['model']]}）"
                     for row in manifest["models"] if counts[row["model"]] != row["rows"]]
            if wrong:
                raise BackupError(f"恢复后的行数与备份不符：{'；'.join(wrong[:5])}")
    except BaseException:
        for target, previous in reversed(written):
            if previous is not None:
                os.replace(previous, target)
            else:
                target.unlink(missing_ok=True)
        raise
    for _, previous in written:
        if previous is not None:
            previous.unlink(missing_ok=True)
    result = RestoreResult(rows=counts, files=files, migrated=migrated)
    if hasattr(audit, "verify_chain"):
        result.audit = tuple(audit.verify_chain())
    return result


def _check_migrations(manifest: dict, current: dict[str, str]) -> None:
    saved = manifest.get("migrations", {})
    different = [f"{app}（备份 {saved.get(app, '无')}，当前 {current.get(app, '无')}）"
                 for app in BACKED_UP_APPS if saved.get(app) != current.get(app)]
    if different:
        raise BackupError("数据库结构版本与备份不一致：" + "；".join(different)
                          + "。请用与备份时相同版本的系统，先运行 migrate 再恢复。")


def _flush(connection, models_to_clear) -> None:
    tables = [m._meta.db_table for m in models_to_clear]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=False, allow_cascade=False)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _load_model(model, stream, using: str, remap: dict) -> int:
    fields = _fields(model)
    kinds = {f.attname: _remapped(f) for f in fields}
    by_name = {f.attname: f for f in fields}
    connection = connections[using]
    limit = connection.features.max_query_params
    batch_size = max(1, min(BATCH, limit // len(fields))) if limit else BATCH
    manager = model._base_manager.db_manager(using)
    batch, count = [], 0
    for line in stream:  # bytes lines (a streamed tar member cannot take a TextIOWrapper)
        if not line.strip():
            continue
        row = json.loads(line)
        values = {}
        for name, f in by_name.items():
            value = row.get(name)
            kind = kinds[name]
            if kind and value is not None:
                try:
                    values[name] = remap[kind][tuple(value)]
                except KeyError:
                    raise BackupError(f"目标数据库缺少权限或内容类型 {value}，请先运行 migrate") from None
            else:
                values[name] = _decode(f, value)
        batch.append(model(**values))
        if len(batch) >= batch_size:
            manager._insert(batch, fields=fields, raw=True, using=using)
            count += len(batch)
            batch = []
    if batch:
        manager._insert(batch, fields=fields, raw=True, using=using)
        count += len(batch)
    return count


def _restore_file(stream, target: Path, expected: str, written: list) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-restore-")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected:
            raise BackupError(f"校验失败：文件 {target.name} 的内容在恢复时与清单不符")
        previous = None
        if target.exists():
            previous = target.with_name(f".tmp-replaced-{target.name}")
            os.replace(target, previous)
        os.replace(tmp_name, target)
        written.append((target, previous))
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
