"""Fixtures shared by the commitments tests."""
import signal

import pytest
from django.core.management import call_command


@pytest.fixture
def run_worker(monkeypatch):
    """`manage.py db_worker --batch`: run every queued task, then return.

    Between tasks the worker drops old database connections (close_old_connections), which on
    PostgreSQL would close the connection holding the test's transaction; here it only does so
    outside a transaction, as in production (the worker runs in autocommit). The command installs
    its own SIGINT/SIGTERM handlers; pytest's are put back afterwards."""
    from django.db import close_old_connections, connection
    from django_tasks_db.management.commands import db_worker

    def close_outside_transactions(**kwargs):
        if not connection.in_atomic_block:
            close_old_connections(**kwargs)

    monkeypatch.setattr(db_worker, "close_old_connections", close_outside_transactions)

    def run():
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0,
                         worker_id="pytest")
        finally:
            for s, handler in saved.items():
                signal.signal(s, handler)
    return run
