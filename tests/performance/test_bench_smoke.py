"""The benchmark harness (bench/run.py) itself works: every measurement function runs once over a
tiny seed_scale dataset in the test database and returns well-formed rows. No timing is asserted
(timings belong to `make bench`); the gunicorn load test is left out (it needs a committed
database and a port)."""
import pytest

from bench import run
from commitments.models import Commitment, CommitmentStatus
from orgs.models import Member
from portal.scale import seed_scale


def _check(rows, *, group=None):
    assert rows, "a measurement returned no rows"
    for r in rows:
        assert set(r) >= {"group", "label", "p50_ms", "p95_ms", "queries", "other", "target", "ok"}, r
        assert r["label"] and r["target"], r
        if group:
            assert r["group"] == group
        assert r["p50_ms"] is not None and r["p50_ms"] > 0, r
        assert r["p95_ms"] is None or r["p95_ms"] >= r["p50_ms"], r
        assert r["queries"] is None or (isinstance(r["queries"], int) and r["queries"] > 0), r
        assert r["ok"] in (True, False), r
        assert "MISS" in run._line(r) or "PASS" in run._line(r)


@pytest.fixture
def d(db):
    seed_scale(members=60, year=2041, seed=2041, out=lambda *_: None)
    return run.dataset()


def test_pages_are_measured_with_their_query_counts(d):
    rows = run.measure_pages(d, reps=2, warmup=1, out=lambda *_: None)
    _check(rows)
    labels = [r["label"] for r in rows]
    assert labels == [label for label, *_ in run.pages(d)]
    assert {"首页待办（工委书记）", "党员名册深页", "覆盖情况（根）", "公示：组织页"} <= set(labels)
    assert {r["group"] for r in rows} == {"pages", "public"}
    assert all(r["reps"] == 2 for r in rows)


def test_pdfs_single_batch_and_subtree_batch(d):
    rows = run.measure_pdf(d, reps=1, cached_reps=1, batch=2, out=lambda *_: None)
    _check(rows, group="pdf")
    assert [r["label"] for r in rows] == ["承诺书PDF（冷）", "承诺书PDF（已生成）", "2份批量PDF（冷）", "2份批量PDF（已生成）"]
    sub = run.measure_subtree_batch(d, size=2, isolate=False, out=lambda *_: None)
    _check(sub, group="pdf")
    assert sub[0]["forms"] == 2 and sub[0]["peak_mb"] > 0 and sub[0]["timed_out"] is False


def test_import_and_ledger_leave_the_data_as_it_was(d):
    before = Member.objects.count()
    rows = run.measure_import(d, rows=30, out=lambda *_: None)
    _check(rows, group="excel")
    assert rows[0]["rows"] == 30 and rows[0]["counts"]["created"] == 30
    assert Member.objects.count() == before  # rolled back
    ledger = run.measure_ledger(d, isolate=False, out=lambda *_: None)
    _check(ledger, group="excel")
    assert ledger[0]["peak_mb"] > 0


def test_bulk_approval_is_measured_and_rolled_back(d):
    submitted = Commitment.objects.filter(status=CommitmentStatus.SUBMITTED).count()
    assert submitted >= 2
    rows = run.measure_bulk_approve(d, n=2, out=lambda *_: None)
    _check(rows, group="reviews")
    assert rows[0]["approved"] == 2 and rows[0]["failed"] == 0
    assert Commitment.objects.filter(status=CommitmentStatus.SUBMITTED).count() == submitted


def test_subtree_with_finds_the_smallest_subtree_holding_enough_forms(d):
    org, n = run.subtree_with(d, 1)
    assert n >= 1 and org.path.startswith(d["root"].path)
    whole, total = run.subtree_with(d, 10**9)
    assert whole == d["root"] and total >= n
