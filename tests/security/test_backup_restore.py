"""manage.py backup / restore: a real data set backed up here and restored into a FRESH database
by another process (a new SQLite file, or a new PostgreSQL database next to the test database),
then compared row by row, file by file, with the audit hash chain checked; a damaged archive is
refused before anything is written."""
import datetime
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection

from commitments.models import Attachment
from orgs import audit
from orgs.models import AuditEvent, Member
from portal.backup import MEDIA_SKIP_DIRS, backed_up_models, checksum_path
from tests.commitments.evidence import pdf_upload, png_upload, record
from tests.commitments.publishing import published

pytestmark = pytest.mark.django_db
BASE_DIR = Path(settings.BASE_DIR)
TIMEOUT = 120


def snapshot() -> dict:
    """Every row of every backed-up model (as text), plus every file under MEDIA_ROOT by hash."""
    rows = {}
    for model in backed_up_models():
        names = [f.attname for f in model._meta.local_concrete_fields]
        rows[model._meta.label_lower] = [
            json.dumps(values, default=str, ensure_ascii=False)
            for values in model._base_manager.order_by("pk").values_list(*names)]
    root = Path(settings.MEDIA_ROOT)
    media = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*"))
             if p.is_file() and p.relative_to(root).parts[0] not in MEDIA_SKIP_DIRS} if root.is_dir() else {}
    attachments = {a.path: (a.sha256, hashlib.sha256((root / a.path).read_bytes()).hexdigest())
                   for a in Attachment.objects.all()}
    members = [json.dumps(m, default=str, ensure_ascii=False) for m in Member.objects.order_by("pk").values()]
    chain = list(audit.verify_chain())[:2] if hasattr(audit, "verify_chain") else None
    return {"rows": rows, "media": media, "attachments": attachments, "members": members, "chain": chain}


SNAPSHOT_SCRIPT = (
    "import json, django; django.setup(); "
    "from tests.security.test_backup_restore import snapshot; print(json.dumps(snapshot()))"
)


def run(args, env, check=True):
    result = subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def child_env(database_url: str, media_root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(DATABASE_URL=database_url, MEDIA_ROOT=str(media_root), DJANGO_SETTINGS_MODULE="config.settings",
               PYTHONPATH=str(BASE_DIR), SECRET_KEY=env.get("SECRET_KEY") or "backup-test-" + "k" * 40 + "-x7Qp")
    return env


@pytest.fixture
def fresh_database(tmp_path):
    """A DATABASE_URL for a brand-new database of the engine under test, dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    params = connection.settings_dict
    # The test database's own name (test_<name>[_gwN]) keeps parallel workers and helpers apart.
    name = f"{params['NAME']}_restore_{uuid.uuid4().hex[:8]}"[-63:]
    admin = dict(host=params["HOST"] or None, port=params["PORT"] or None, user=params["USER"] or None,
                 password=params["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = quote(params["USER"] or "", safe="") + (":" + quote(params["PASSWORD"], safe="") if params["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def data_set(world):
    """A tree, members, published pledges with versions and decisions, progress entries with
    uploaded evidence, a group with a permission, and the audit rows all of it wrote."""
    pledge = published(world, member=world.member_a)
    org_commitment = published(world, organisation=world.branch_a)
    record(pledge, world.staff_a, is_public=True, files=[png_upload(), pdf_upload()])
    record(org_commitment, world.secretary_a, files=[png_upload("照片.png")], completes_item=True,
           on=datetime.date(2010, 11, 5))
    group = Group.objects.create(name="备份测试组")
    group.permissions.add(Permission.objects.get(codename="view_member"))
    world.staff_a.groups.add(group)
    world.staff_a.user_permissions.add(Permission.objects.get(codename="change_member"))
    assert Attachment.objects.count() == 3 and AuditEvent.objects.count() > 5
    return world


def test_backup_then_restore_into_a_fresh_database_keeps_every_row_file_and_the_audit_chain(
        data_set, tmp_path, fresh_database, capsys):
    source = snapshot()
    archive = tmp_path / "out" / "backup-20101231-235959.tar.gz"
    call_command("backup", output=str(archive))
    printed = capsys.readouterr().out
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest in printed
    assert checksum_path(archive).read_text() == f"{digest}  {archive.name}\n"
    assert archive.stat().st_mode & 0o077 == 0  # password hashes inside: owner only

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    counts = {row["model"]: row["rows"] for row in manifest["models"]}
    assert counts == {label: len(rows) for label, rows in source["rows"].items()}
    assert manifest["engine"] == connection.vendor and manifest["migrations"]["orgs"]
    assert names == set(manifest["members"]) | {"manifest.json"}
    assert {f"media/{p}" for p in source["media"]} <= names
    # Dependency order: the tree before members, members before the pledges that name them.
    order = [row["model"] for row in manifest["models"]]
    assert order.index("orgs.organisation") < order.index("orgs.member") < order.index("commitments.commitment")
    assert order.index("auth.user") < order.index("auth.user_groups")

    env = child_env(fresh_database, tmp_path / "restored-media")
    restored = run(["manage.py", "restore", str(archive)], env)
    assert "校验通过" in restored.stdout and "行数与备份一致" in restored.stdout
    if hasattr(audit, "verify_chain"):
        assert "审计记录哈希链校验通过" in restored.stdout
    target = json.loads(run(["-c", SNAPSHOT_SCRIPT], env).stdout)

    assert target["rows"] == source["rows"]
    assert target["members"] == source["members"]
    assert target["media"] == source["media"]
    assert len(target["attachments"]) == 3
    assert all(stored == actual for stored, actual in target["attachments"].values())
    if source["chain"] is not None:
        assert source["chain"][0] is True
        assert target["chain"] == source["chain"]

    # The restored database is not empty any more: a second restore is refused.
    again = run(["manage.py", "restore", str(archive)], env, check=False)
    assert again.returncode != 0 and "目标数据库不是空的" in again.stderr


def _copy(archive: Path, to: Path) -> Path:
    to.write_bytes(archive.read_bytes())
    checksum_path(to).write_text(checksum_path(archive).read_text().replace(archive.name, to.name))
    return to


def _assert_refused_and_nothing_written(archive: Path, tmp_path: Path, expected: str):
    target_db, target_media = tmp_path / "never.sqlite3", tmp_path / "never-media"
    result = run(["manage.py", "restore", str(archive)], child_env(f"sqlite:///{target_db}", target_media),
                 check=False)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not target_media.exists()
    # Opening a SQLite database creates an empty file; not one table was made in it.
    if target_db.exists():
        with sqlite3.connect(target_db) as db:
            assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_damaged_archive_is_refused_before_anything_is_written(data_set, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", output=str(archive))
    data = bytearray(archive.read_bytes())

    # One byte changed: the archive no longer matches its checksum file.
    flipped = _copy(archive, tmp_path / "flipped.tar.gz")
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x01
    flipped.write_bytes(bytes(damaged))
    _assert_refused_and_nothing_written(flipped, tmp_path, "校验失败")

    # A member changed and the outer checksum recomputed to match: the manifest catches it.
    rebuilt = tmp_path / "rebuilt.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(rebuilt, "w:gz") as dst:
        for info in src.getmembers():
            body = src.extractfile(info).read()
            if info.name.endswith("orgs.member.jsonl"):
                body = body.replace("李娜".encode(), "李四".encode(), 1)
            info.size = len(body)
            dst.addfile(info, io.BytesIO(body))
    checksum_path(rebuilt).write_text(f"{hashlib.sha256(rebuilt.read_bytes()).hexdigest()}  {rebuilt.name}\n")
    _assert_refused_and_nothing_written(rebuilt, tmp_path, "与清单不符")

    # No checksum file at all.
    lonely = tmp_path / "lonely.tar.gz"
    lonely.write_bytes(bytes(data))
    _assert_refused_and_nothing_written(lonely, tmp_path, "找不到校验文件")
