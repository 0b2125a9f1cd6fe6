"""The real production server for tests: gunicorn with config/gunicorn.conf.py, a fresh database of
the engine under test (a SQLite file in tmp_path, or a new PostgreSQL database dropped afterwards),
static files collected with the production storage, on a free port chosen at run time.

Used by test_crash_safety.py and test_production_server.py. Every process is started in its own
process group and killed in the fixtures' finally blocks.
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COMMAND_TIMEOUT = 180
START_TIMEOUT = 30


def engine() -> str:
    return "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(database_url: str, tmp_path: Path, static_root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(BASE_DIR), DATABASE_URL=database_url,
        MEDIA_ROOT=str(tmp_path / "media"), STATIC_ROOT=str(static_root), DEBUG="0",
        SECRET_KEY="crash-test-" + uuid.uuid4().hex, ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
    )
    env.pop("GUNICORN_CONTROL_SOCKET", None)
    return env


def manage(env: dict, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """`collectstatic` once per test process with the production storage (hashed, compressed)."""
    root = tmp_path_factory.mktemp("static")
    env = base_env("sqlite:///" + str(root / "unused.sqlite3"), root, root / "collected")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    return root / "collected"


@pytest.fixture
def fresh_database_url(tmp_path):
    """A new, empty database of the engine under test (dropped afterwards on PostgreSQL)."""
    if engine() == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    import psycopg

    params = settings.DATABASES["default"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{params['NAME']}_{worker}_{uuid.uuid4().hex[:8]}"[-63:]
    admin = dict(host=params["HOST"] or None, port=params["PORT"] or None, user=params["USER"] or None,
                 password=params["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"], safe="")
    try:
        yield f"postgres://{auth}@{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SEED = """
import django; django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from orgs import services
from orgs.models import OrgKind
root = services.organisation_create(actor=None, parent=None, name="市直机关工委", kind=OrgKind.WORK_COMMITTEE, code="R")
branch = services.organisation_create(actor=None, parent=root, name="第一党支部", kind=OrgKind.BRANCH, code="R-A")
print(branch.pk)
"""


def prepare_database(env: dict) -> int:
    """migrate + a minimal tree (one process); returns the branch's id."""
    result = subprocess.run([sys.executable, "-c", SEED], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


class Server:
    """One gunicorn master and its workers in a process group of their own."""

    def __init__(self, env: dict, log: Path, workers: int = 2):
        self.env = dict(env, WEB_CONCURRENCY=str(workers))
        self.log = log
        self.proc = None
        self.port = None

    def start(self, probe: str = "/accounts/login/") -> "Server":
        for _attempt in range(3):
            self.port = free_port()
            env = dict(self.env, BIND=f"127.0.0.1:{self.port}")
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
                    cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    status, _, _ = self.request("GET", probe, timeout=10)
                    if status < 500:
                        return self
                except OSError:
                    time.sleep(0.2)
            self.kill()  # the port was taken meanwhile, or it did not come up: try another port
        raise AssertionError("gunicorn did not start:\n" + self.log.read_text(errors="replace")[-3000:])

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            # The headers as an http.client.HTTPMessage: case-insensitive get(), get_all().
            return response.status, response.msg, response.read()
        finally:
            conn.close()

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole process group (master and workers) and reap the master."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=COMMAND_TIMEOUT if sig != signal.SIGKILL else 10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.proc = None



CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_form(server: Server, path: str) -> tuple[str, str]:
    """GET a form page: (the csrftoken cookie, the form's token)."""
    status, headers, body = server.request("GET", path)
    assert status == 200, body[:500]
    cookie = next(part.split("=", 1)[1] for c in headers.get_all("Set-Cookie") or []
                  for part in c.split(";") if part.strip().startswith("csrftoken="))
    match = CSRF_INPUT.search(body)
    assert match, body[:500]
    return cookie, match.group(1).decode()


def query(database_url: str, sql: str, params=()) -> list[tuple]:
    """Rows of `sql` (with %s placeholders) read directly from the server's database."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(database_url[len("sqlite:///"):])
        try:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            db.close()
    import psycopg

    with psycopg.connect(database_url) as db:
        return db.execute(sql, params).fetchall()
