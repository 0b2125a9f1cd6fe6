"""Benchmark harness of issue 8: `make bench` (TIER=city|province), or directly

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_city .venv/bin/python -m bench.run --tier city

On PostgreSQL (DATABASE_URL must name one; default postgres://postgres@127.0.0.1:5432/bench_<tier>)
it creates the database if missing, migrates it, collects the static files (the in-process pages
and gunicorn run with DEBUG off, so {% static %} needs the manifest) and seeds the tier once with
`seed_scale` (skipped when a scale root with the tier's number of members is already there), and
runs ANALYZE (bulk-loaded tables have no planner statistics, and autovacuum may be off). Then
it measures, prints a table (label, p50/p95 ms, queries, other figure, target, result) and writes
bench/results/<tier>.json:

  pages       logged-in and public pages through Django's test Client (force_login), in-process,
              --reps repetitions (30) after warm-up; the query count is taken on a separate request
  throughput  the public organisation page through gunicorn (2 workers, config/gunicorn.conf.py,
              DEBUG off) under wrk on loopback (a Python thread generator when wrk is missing)
  pdf         one triplicate cold (cache dir cleared) and already rendered; a batch of 100 forms
              cold and again; a subtree batch of 1,000 forms in a child process (time, peak RSS,
              bounded by --batch-timeout)
  excel       import of 10,000 roster rows (prepare + apply, rolled back); the ledger of the whole
              tree in a child process (time, peak RSS)
  reviews     bulk approval of 200 submitted commitments (rolled back)

Writes (imports, approvals) are rolled back so the dataset stays the same from run to run; the
PDF cache, imports and static files live under BENCH_WORKDIR (default /tmp/bench-<tier>).
Options: --only pages,pdf,... to run some groups; --reps N; --duration S (load test seconds).
The measurement functions take a dataset dict (dataset()) and are also run, tiny, by
tests/performance/test_bench_smoke.py.
"""
from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TIERS = {"city": 20_000, "province": 1_000_000}
GROUPS = ("pages", "throughput", "pdf", "excel", "reviews")
PAGE_P50_MS, PAGE_QUERIES = 100, 20


# --- environment and database ------------------------------------------------------------------

def configure(tier: str) -> None:
    """Environment for a benchmark run; must happen before Django is imported."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/bench_{tier}")
    work = Path(os.environ.setdefault("BENCH_WORKDIR", f"/tmp/bench-{tier}"))
    os.environ.setdefault("MEDIA_ROOT", str(work / "media"))
    os.environ.setdefault("STATIC_ROOT", str(work / "static"))
    # The public pages' cache (commitments/public_cache.py), shared by the gunicorn workers.
    os.environ.setdefault("CACHE_URL", f"file://{work / 'cache'}")
    # Production-like: no DEBUG (no query log, manifest static storage, cached templates).
    os.environ["DEBUG"] = "0"
    # DEBUG off refuses the fixed development key (config/settings.py).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def ensure_database(url: str) -> None:
    """CREATE DATABASE when the one DATABASE_URL names does not exist yet."""
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"bench: DATABASE_URL must name a PostgreSQL database, not {parts.scheme!r}")
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"==> CREATE DATABASE {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(tier: str, out=print) -> None:
    """Migrate, collect static files, seed the tier unless it is already there."""
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    out(f"==> migrate + collectstatic {time.perf_counter() - t:.1f} s")
    root = scale_root()
    wanted = TIERS[tier]
    if root is not None:
        from orgs.models import Member
        have = Member.objects.filter(branch__path__startswith=root.path).count()
        if have >= wanted * 0.9:
            out(f"==> tier {tier} already seeded ({root.name}: {have:,} members)")
            analyze(out)
            return
    from django.utils import timezone

    from commitments.models import Campaign
    from portal.scale import seed_scale

    year = timezone.localdate().year
    if Campaign.objects.filter(year__gte=year).exists():
        year = max(Campaign.objects.values_list("year", flat=True)) + 1
    out(f"==> seed_scale --members {wanted} --year {year} (once per database)")
    stats = seed_scale(members=wanted, year=year, out=out)
    out(f"==> seeded in {stats.seconds:.0f} s")
    analyze(out)


def analyze(out=print) -> None:
    """VACUUM ANALYZE: what autovacuum does on a production server after a big load. Without the
    statistics (autovacuum is off on some servers, and COPY gathers none) PostgreSQL plans for
    one-row tables: nested loops that make a 20,000-member page take seconds; without the
    visibility map no count can be an index-only scan. Once per run: fast when nothing changed."""
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    out(f"==> VACUUM ANALYZE {time.perf_counter() - t:.1f} s")


# --- the dataset -------------------------------------------------------------------------------

def scale_root():
    from orgs.models import Organisation
    return (Organisation.objects.filter(parent__isnull=True, name__startswith="中共规模测试")
            .order_by("-id").first())


def dataset(root=None) -> dict:
    """The objects the measurements use (as tests/performance/test_query_pins.py finds them)."""
    from commitments.models import Campaign, Commitment, CommitmentStatus
    from orgs.models import BRANCH_KINDS, Member, Organisation, Role, RoleGrant

    root = root or scale_root()
    if root is None:
        raise SystemExit("bench: no seed_scale dataset in this database")
    under = Organisation.objects.filter(path__startswith=root.path)
    campaign = Campaign.objects.filter(is_current=True).order_by("-year").first()
    branch = (under.filter(kind__in=BRANCH_KINDS, members__commitments__status=CommitmentStatus.PUBLISHED,
                           members__commitments__campaign=campaign).order_by("path").first())
    committee = under.filter(depth=1).order_by("path").first() or root
    published = (Commitment.objects.filter(campaign=campaign, status=CommitmentStatus.PUBLISHED,
                                           member__branch=branch).order_by("id").first())
    org_published = (Commitment.objects.filter(campaign=campaign, status=CommitmentStatus.PUBLISHED,
                                               organisation__path__startswith=root.path).order_by("id").first())

    def grant(org, role):
        g = RoleGrant.objects.filter(organisation=org, role=role).select_related("user").first()
        return g.user if g else None

    return {"root": root, "branch": branch, "committee": committee, "published": published,
            "org_published": org_published, "campaign": campaign,
            "root_user": grant(root, Role.SECRETARY), "admin": grant(root, Role.ADMIN),
            "branch_user": grant(branch, Role.SECRETARY),
            "members": Member.objects.filter(branch__path__startswith=root.path).count(),
            "organisations": under.count()}


# --- results -----------------------------------------------------------------------------------

def result(group, label, *, p50=None, p95=None, queries=None, other="", target="", ok=None, note="", **extra):
    return {"group": group, "label": label, "p50_ms": _r(p50), "p95_ms": _r(p95), "queries": queries,
            "other": other, "target": target, "ok": ok, "note": note, **extra}


def _r(x):
    return None if x is None else round(x, 1)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _ms(seconds: float) -> float:
    return seconds * 1000


# --- logged-in and public pages ----------------------------------------------------------------

def pages(d: dict, tier: str = "city") -> list[tuple[str, str | None, str, int]]:
    """(label, user key or None for the public, URL, p50 target in ms): the list of
    tests/performance/test_query_pins.py plus a deep page of the member list."""
    from django.conf import settings
    from django.urls import reverse

    root, branch = d["root"].pk, d["branch"].pk
    # 90 % of the way through what the list offers: every member, or LIST_COUNT_CAP rows at most.
    listed = min(d["members"], settings.LIST_COUNT_CAP or d["members"])
    deep = max(2, int(listed / settings.PAGE_SIZE * 0.9))
    dash_root = 500 if tier == "province" else PAGE_P50_MS
    return [
        ("首页待办（工委书记）", "root_user", reverse("home"), PAGE_P50_MS),
        ("首页待办（支部书记）", "branch_user", reverse("home"), PAGE_P50_MS),
        ("组织树", "root_user", reverse("orgs:tree"), PAGE_P50_MS),
        ("组织详情", "root_user", reverse("orgs:detail", args=[d["committee"].pk]), PAGE_P50_MS),
        ("党员名册第1页", "root_user", reverse("orgs:member_list"), PAGE_P50_MS),
        ("党员名册深页", "root_user", reverse("orgs:member_list") + f"?page={deep}", PAGE_P50_MS),
        ("账号管理", "admin", reverse("orgs:user_list"), PAGE_P50_MS),
        ("承诺列表", "root_user", reverse("commitments:list"), PAGE_P50_MS),
        ("支部党员承诺", "branch_user", reverse("commitments:branch_pledges", args=[branch]), PAGE_P50_MS),
        ("承诺详情（含版本）", "branch_user", reverse("commitments:detail", args=[d["published"].pk]), PAGE_P50_MS),
        ("审核队列（工委）", "root_user", reverse("reviews:queue"), PAGE_P50_MS),
        ("审核队列（支部）", "branch_user", reverse("reviews:queue"), PAGE_P50_MS),
        ("覆盖情况（根）", "root_user", reverse("portal:coverage") + f"?org={root}", dash_root),
        ("覆盖情况（支部）", "branch_user", reverse("portal:coverage") + f"?org={branch}", PAGE_P50_MS),
        ("空白点名单", "root_user", reverse("portal:coverage_members") + f"?org={root}&status=blank",
         PAGE_P50_MS),
        ("评诺列表", "root_user", reverse("evaluations:list"), PAGE_P50_MS),
        ("整改", "root_user", reverse("evaluations:rectifications"), PAGE_P50_MS),
        ("公示首页", None, reverse("portal:noticeboard"), PAGE_P50_MS),
        ("公示：组织页", None, reverse("portal:public_org", args=[branch]), PAGE_P50_MS),
        ("公示：承诺页", None, reverse("portal:public_commitment", args=[d["org_published"].pk]), PAGE_P50_MS),
    ]


def measure_pages(d: dict, *, tier: str = "city", reps: int = 30, warmup: int = 2, out=print) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rows = []
    for label, who, url, target_ms in pages(d, tier):
        client = Client()
        if who:
            client.force_login(d[who])
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{label} {url}: HTTP {response.status_code}")
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = len(ctx)
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        times, cpu = [], []
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            client.get(url)
            times.append(_ms(time.perf_counter() - t))
            cpu.append(_ms(time.process_time() - c))
        p50, p95 = _pct(times, 0.5), _pct(times, 0.95)
        ok = p50 <= target_ms and queries <= PAGE_QUERIES
        rows.append(result("public" if who is None else "pages", label, p50=p50, p95=p95, queries=queries,
                           other=f"CPU {_pct(cpu, 0.5):.0f} ms, SQL {sql_ms:.0f} ms",
                           target=f"p50≤{target_ms}ms, ≤{PAGE_QUERIES}q", ok=ok, url=url, user=who, reps=reps,
                           cpu_p50_ms=_r(_pct(cpu, 0.5)), sql_ms=_r(sql_ms)))
        out(_line(rows[-1]))
    return rows


# --- throughput through gunicorn ---------------------------------------------------------------

def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _wrk(url: str, duration: int, connections: int) -> dict:
    proc = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s", url],
                          capture_output=True, text=True, timeout=duration + 30)
    text = proc.stdout

    def latency(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:(.*)", text)
    return {"tool": "wrk", "rps": float(rps.group(1)) if rps else 0.0, "p50_ms": latency("50%"),
            "p99_ms": latency("99%"), "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1).strip() if errors else "", "raw": text}


def _python_load(url: str, duration: int, connections: int) -> dict:
    """Fallback load generator: `connections` threads, each a loop of GETs, for `duration` s."""
    import http.client

    parts = urlsplit(url)
    latencies, bad, lock = [], [0], threading.Lock()
    stop = time.monotonic() + duration

    def worker():
        mine, errors = [], 0
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            t = time.perf_counter()
            try:
                conn.request("GET", parts.path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
            except OSError:
                errors += 1
            finally:
                conn.close()
            mine.append(_ms(time.perf_counter() - t))
        with lock:
            latencies.extend(mine)
            bad[0] += errors

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"tool": "python threads", "rps": len(latencies) / duration, "p50_ms": _pct(latencies, 0.5),
            "p99_ms": _pct(latencies, 0.99), "non_2xx": bad[0], "socket_errors": ""}


def measure_throughput(d: dict, *, port: int = 8731, duration: int = 10, connections: int = 16,
                       out=print) -> list[dict]:
    from django.urls import reverse

    path = reverse("portal:public_org", args=[d["branch"].pk])
    url = f"http://127.0.0.1:{port}{path}"
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "GUNICORN_LOG_LEVEL": "warning"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    conf = REPO / "config" / "gunicorn.conf.py"
    cmd = ([gunicorn, "-c", str(conf), "config.wsgi"] if conf.exists()
           else [gunicorn, "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"])
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        _wait_http(url)
        # Warm both workers (imports, template cache, connections).
        for _ in range(20):
            _wait_http(url, 5)
        load = _wrk(url, duration, connections) if shutil.which("wrk") else _python_load(url, duration, connections)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ok = load["rps"] >= 500 and (load["p99_ms"] or 1e9) <= 100 and load["non_2xx"] == 0
    note = f"{load['tool']}, {connections} connections, {duration} s, load generator on the same 2 cores"
    if load["non_2xx"]:
        note += f"; {load['non_2xx']} non-2xx responses"
    row = result("throughput", "公示组织页吞吐（gunicorn 2 workers）", p50=load["p50_ms"], queries=None,
                 other=f"{load['rps']:.0f} req/s, p99 {load['p99_ms']:.1f} ms" if load["p99_ms"] else
                 f"{load['rps']:.0f} req/s", target="≥500 req/s, p99≤100ms", ok=ok, note=note,
                 rps=round(load["rps"], 1), p99_ms=_r(load["p99_ms"]), url=path)
    out(_line(row))
    return [row]


# --- PDFs --------------------------------------------------------------------------------------

def _printable(d: dict):
    from commitments.models import Commitment
    return (Commitment.objects.select_related("organisation", "member", "member__branch", "public_version")
            .get(pk=d["published"].pk))


def _clear_pdf_cache() -> None:
    from commitments import pdf
    shutil.rmtree(pdf.cache_dir(), ignore_errors=True)


def subtree_with(d: dict, at_least: int):
    """The organisation under the root with the smallest subtree holding ≥ at_least printable
    forms (the root when none has that many); counted with two GROUP BYs, not a query per org."""
    from django.db.models import Count

    from commitments import pdf
    from commitments.models import Commitment
    from orgs.models import Organisation

    root = d["root"]
    orgs = {o["id"]: o for o in Organisation.objects.filter(path__startswith=root.path)
            .values("id", "parent_id", "path")}
    base = Commitment.objects.filter(pdf._may_print_q(), campaign=d["campaign"])
    own: dict[int, int] = {}
    for key in ("member__branch_id", "organisation_id"):
        for row in base.filter(**{f"{key}__isnull": False}).values(key).annotate(n=Count("id")):
            own[row[key]] = own.get(row[key], 0) + row["n"]
    total: dict[int, int] = {}
    for oid, n in own.items():
        while oid in orgs:
            total[oid] = total.get(oid, 0) + n
            oid = orgs[oid]["parent_id"]
    fits = [(n, oid) for oid, n in total.items() if n >= at_least]
    if not fits:
        return root, total.get(root.pk, 0)
    n, oid = min(fits)
    return Organisation.objects.get(pk=oid), n


def batch_forms(d: dict, size: int):
    """The first `size` printable forms of the smallest subtree holding that many."""
    from commitments import pdf

    org, _ = subtree_with(d, size)
    return org, pdf.forms_for(pdf.batch_commitments(org, d["campaign"]))[:size]


def measure_pdf(d: dict, *, reps: int = 3, cached_reps: int = 10, batch: int = 100, out=print) -> list[dict]:
    from django.test import Client
    from django.urls import reverse

    from commitments import pdf

    rows = []
    client = Client()
    client.force_login(d["branch_user"])
    url = reverse("commitments:form_pdf", args=[d["published"].pk])
    # Warm the process (fonts, WeasyPrint's imports) on another form, as a running server would be.
    pdf.form_pdf(pdf.blank_form(pdf.ANNEX2))
    cold, cold_cpu = [], []
    for _ in range(reps):
        _clear_pdf_cache()
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        cold.append(_ms(time.perf_counter() - t))
        cold_cpu.append(_ms(time.process_time() - c))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", response.status_code
    rows.append(result("pdf", "承诺书PDF（冷）", p50=_pct(cold, 0.5), p95=_pct(cold, 0.95), target="≤300ms",
                       other=f"CPU {_pct(cold_cpu, 0.5):.0f} ms", ok=_pct(cold, 0.5) <= 300, reps=reps, url=url,
                       note="GET form.pdf, cache dir cleared", cpu_p50_ms=_r(_pct(cold_cpu, 0.5))))
    out(_line(rows[-1]))
    warm, warm_cpu = [], []
    for _ in range(cached_reps):
        t, c = time.perf_counter(), time.process_time()
        client.get(url)
        warm.append(_ms(time.perf_counter() - t))
        warm_cpu.append(_ms(time.process_time() - c))
    rows.append(result("pdf", "承诺书PDF（已生成）", p50=_pct(warm, 0.5), p95=_pct(warm, 0.95), target="≤50ms",
                       other=f"CPU {_pct(warm_cpu, 0.5):.0f} ms", ok=_pct(warm, 0.5) <= 50, reps=cached_reps,
                       url=url, cpu_p50_ms=_r(_pct(warm_cpu, 0.5))))
    out(_line(rows[-1]))

    org, forms = batch_forms(d, batch)
    _clear_pdf_cache()
    t, c = time.perf_counter(), time.process_time()
    data = pdf.forms_pdf(forms, title="bench")
    first, first_cpu = time.perf_counter() - t, time.process_time() - c
    # "Already rendered": the same batch asked for again (a batch that reuses cached forms has
    # them all in the cache after its first request).
    t, c = time.perf_counter(), time.process_time()
    pdf.forms_pdf(forms, title="bench")
    again, again_cpu = time.perf_counter() - t, time.process_time() - c
    label = f"{len(forms)}份批量PDF"
    rows.append(result("pdf", f"{label}（冷）", p50=_ms(first),
                       other=f"{first:.2f} s, CPU {first_cpu:.1f} s, {len(data) // 1024} KB",
                       target="≤12s", ok=first <= 12, forms=len(forms), org=org.pk, seconds=round(first, 2)))
    out(_line(rows[-1]))
    rows.append(result("pdf", f"{label}（已生成）", p50=_ms(again), other=f"{again:.2f} s, CPU {again_cpu:.1f} s",
                       target="≤2s",
                       ok=again <= 2, forms=len(forms), org=org.pk, seconds=round(again, 2),
                       note="the same batch a second time"))
    out(_line(rows[-1]))
    return rows


# --- children: work whose peak memory is measured ----------------------------------------------

def child_pdf_batch(d: dict, size: int) -> dict:
    """What the background job of a big batch does (commitments/tasks.py): the missing forms
    rendered into the per-form cache, then all of them written into one file as they come."""
    from commitments import pdf

    org, forms = batch_forms(d, size)
    with tempfile.TemporaryFile() as f:
        pages = pdf.write_forms_pdf(forms, f, title="bench")
        return {"forms": len(forms), "org": org.pk, "bytes": f.tell(), "pages": pages}


def child_ledger(d: dict) -> dict:
    from portal.ledger import ledger_export

    handle = ledger_export(actor=d["root_user"], org=d["root"], campaign=d["campaign"])
    handle.seek(0, io.SEEK_END)
    return {"bytes": handle.tell()}


CHILDREN = {"pdf_batch": lambda d, arg: child_pdf_batch(d, int(arg)), "ledger": lambda d, arg: child_ledger(d)}


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(kind: str, arg: str, d: dict, *, isolate: bool = True, timeout: float = 300) -> dict:
    """Time and peak memory of one job. isolate: in a child process (`python -m bench.run --child`),
    peak RSS polled from /proc (so a job killed at the timeout still has a figure) and the RSS of
    the idle child (Django loaded, dataset found) subtracted; otherwise in this process with
    tracemalloc (Python allocations only; what the smoke test uses, the test database being
    invisible to another process)."""
    if not isolate:
        tracemalloc.start()
        t, c = time.perf_counter(), time.process_time()
        try:
            info = CHILDREN[kind](d, arg)
        finally:
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        return {**info, "seconds": seconds, "cpu_s": cpu, "peak_mb": peak / 2**20, "memory": "tracemalloc peak",
                "timed_out": False}
    cmd = [sys.executable, "-m", "bench.run", "--child", kind, "--child-arg", str(arg), "--root", str(d["root"].pk)]
    errors = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=errors, text=True)
    peak, deadline, timed_out = 0, time.monotonic() + timeout, False
    while proc.poll() is None:
        peak = max(peak, _peak_kb(proc.pid))
        if time.monotonic() > deadline:
            timed_out = True
            proc.kill()
            break
        time.sleep(0.2)
    stdout, _ = proc.communicate()
    errors.seek(0)
    stderr = errors.read()
    errors.close()
    info = {}
    for line in stdout.splitlines():
        if line.startswith("BENCH_CHILD "):
            info.update(json.loads(line[len("BENCH_CHILD "):]))
        elif line.startswith("BENCH_IDLE "):
            info["idle_mb"] = float(line.split()[1])
    if "seconds" not in info and not timed_out:
        raise RuntimeError(f"bench child {kind} failed:\n{stderr[-3000:]}")
    if timed_out:
        info["seconds"] = timeout
        info["cpu_s"] = None
    peak_mb = max(peak / 1024, info.get("maxrss_mb", 0))
    return {**info, "peak_mb": peak_mb, "peak_over_idle_mb": peak_mb - info.get("idle_mb", 0),
            "memory": "peak RSS of the child", "timed_out": timed_out}


def child_main(kind: str, arg: str, root_pk: int) -> None:
    import django
    django.setup()
    from orgs.models import Organisation

    d = dataset(Organisation.objects.get(pk=root_pk))
    idle = _peak_kb(os.getpid()) / 1024
    print(f"BENCH_IDLE {idle:.1f}", flush=True)
    t, c = time.perf_counter(), time.process_time()
    info = CHILDREN[kind](d, arg)
    info["seconds"] = time.perf_counter() - t
    info["cpu_s"] = time.process_time() - c
    info["idle_mb"] = idle
    # VmHWM of this process's own address space. Not getrusage's ru_maxrss: after exec it still
    # counts the parent's image the child was forked from (hundreds of MB in a long bench run).
    info["maxrss_mb"] = _peak_kb(os.getpid()) / 1024
    print("BENCH_CHILD " + json.dumps(info), flush=True)


def measure_subtree_batch(d: dict, *, size: int = 1000, isolate: bool = True, timeout: float = 300,
                          out=print) -> list[dict]:
    m = run_measured("pdf_batch", str(size), d, isolate=isolate, timeout=timeout)
    forms = m.get("forms", size)
    other = f"{m['seconds']:.1f} s, CPU {m.get('cpu_s') or 0:.1f} s, peak {m['peak_mb']:.0f} MB"
    note = f"{m['memory']}"
    if isolate:
        note += f" ({m['peak_over_idle_mb']:.0f} MB over the idle process)"
    if m["timed_out"]:
        other = f"> {timeout:.0f} s (stopped), peak ≥ {m['peak_mb']:.0f} MB"
    row = result("pdf", f"{forms}份下级批量PDF", p50=_ms(m["seconds"]), other=other,
                 target="memory bounded (≤300MB over idle)",
                 ok=(not m["timed_out"]) and m.get("peak_over_idle_mb", m["peak_mb"]) <= 300, note=note,
                 seconds=round(m["seconds"], 2), cpu_s=_r(m.get("cpu_s")), peak_mb=round(m["peak_mb"], 1), forms=forms,
                 timed_out=m["timed_out"])
    out(_line(row))
    return [row]


# --- Excel -------------------------------------------------------------------------------------

class _Rollback(Exception):
    pass


def roster_workbook(d: dict, rows: int) -> bytes:
    """A roster of `rows` new members spread over the root's branches (by organisation code), laid
    out as other systems export them: a title row, 序号 and 身份证号 columns (never stored), 人员类别
    holding 正式党员/预备党员, dates to the month and to the day, hyphenated phone numbers, 民族,
    学历, 籍贯 and 工作单位及职务, and a notes row at the end."""
    import openpyxl

    from orgs.models import BRANCH_KINDS, Organisation
    from portal.scale import GIVEN, SURNAMES

    codes = list(Organisation.objects.filter(path__startswith=d["root"].path, kind__in=BRANCH_KINDS)
                 .order_by("path").values_list("code", flat=True)[:200])
    run = secrets.token_hex(3)
    # A normal (not write-only) workbook: like Excel's own files it carries the sheet's dimension.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append(["党员花名册（基准测试）"])
    ws.merge_cells("A1:P1")
    ws.append(["序号", "姓名", "性别", "民族", "出生年月", "籍贯", "学历", "身份证号", "人员类别", "入党时间", "转正时间",
               "工作单位及职务", "所在党支部", "联系电话", "党员类别", "备注"])
    s, g = len(SURNAMES), len(GIVEN)
    for i in range(rows):
        name = SURNAMES[i % s] + GIVEN[(i // s) % g] + GIVEN[(i // (s * g)) % g] + "测"
        year = 1950 + i % 50
        month_only = i % 3 == 0
        joined = f"{year + 25}.07" if month_only else f"{year + 25}-07-01"
        full = f"{year + 26}.07" if month_only else f"{year + 26}-07-01"
        ws.append([i + 1, name, "男" if i % 2 else "女", "汉族", f"{year}-{i % 12 + 1:02d}", "广东珠海", "大学本科",
                   f"44040219{year % 100:02d}0101{i % 10000:04d}", "正式党员", joined, full, "市某局科员",
                   codes[i % len(codes)], f"139-{i // 10000 % 10000:04d}-{i % 10000:04d}", "一般在职党员",
                   f"bench {run}"])
    ws.append(["制表人：基准测试"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def measure_import(d: dict, *, rows: int = 10_000, out=print) -> list[dict]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from orgs import roster_import

    data = roster_workbook(d, rows)
    actor = d["root_user"]
    timings = {}
    counts = {}
    try:
        with transaction.atomic():
            t, c = time.perf_counter(), time.process_time()
            token = roster_import.member_import_prepare(
                actor=actor, upload=SimpleUploadedFile("名册.xlsx", data,
                                                       content_type="application/vnd.openxmlformats-"
                                                       "officedocument.spreadsheetml.sheet"))
            timings["prepare"] = time.perf_counter() - t
            plan = roster_import.plan_for(actor=actor, token=token)
            if plan["errors"]:
                raise RuntimeError(f"bench roster has errors: {plan['errors'][:3]}")
            t = time.perf_counter()
            counts = roster_import.member_import_apply(actor=actor, token=token)
            timings["apply"] = time.perf_counter() - t
            timings["cpu"] = time.process_time() - c
            raise _Rollback
    except _Rollback:
        pass
    total = timings["prepare"] + timings["apply"]
    row = result("excel", f"名册导入{rows:,}行", p50=_ms(total),
                 other=(f"{total:.1f} s (检查{timings['prepare']:.1f}+写入{timings['apply']:.1f}), "
                        f"CPU {timings['cpu']:.1f} s"),
                 target="≤10s", ok=total <= 10, note="prepare (read + validate) and apply, rolled back",
                 seconds=round(total, 2), prepare_s=round(timings["prepare"], 2),
                 apply_s=round(timings["apply"], 2), cpu_s=round(timings["cpu"], 2), rows=rows,
                 counts={k: v for k, v in counts.items() if isinstance(v, int)})
    out(_line(row))
    return [row]


def measure_ledger(d: dict, *, isolate: bool = True, timeout: float = 900, out=print) -> list[dict]:
    m = run_measured("ledger", "", d, isolate=isolate, timeout=timeout)
    row = result("excel", "承诺台账导出（全树）", p50=_ms(m["seconds"]),
                 other=(f"> {m['seconds']:.0f} s (stopped), peak ≥ {m['peak_mb']:.0f} MB" if m["timed_out"] else
                        f"{m['seconds']:.1f} s, CPU {m.get('cpu_s') or 0:.1f} s, peak {m['peak_mb']:.0f} MB"),
                 target="peak ≤300MB", ok=(not m["timed_out"]) and m["peak_mb"] <= 300,
                 note=m["memory"] + (f" ({m['peak_over_idle_mb']:.0f} MB over the idle process)"
                                     if "peak_over_idle_mb" in m else ""),
                 seconds=round(m["seconds"], 2), cpu_s=_r(m.get("cpu_s")), peak_mb=round(m["peak_mb"], 1),
                 timed_out=m["timed_out"])
    out(_line(row))
    return [row]


# --- reviews -----------------------------------------------------------------------------------

def measure_bulk_approve(d: dict, *, n: int = 200, out=print) -> list[dict]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from commitments.models import Commitment, CommitmentStatus
    from reviews.services import review_bulk_approve

    actor = d["root_user"]
    targets = list(Commitment.objects.filter(status=CommitmentStatus.SUBMITTED, campaign=d["campaign"])
                   .exclude(last_submitted_by=actor).filter(reviewer_org__path__startswith=d["root"].path)
                   # Bulk approval takes routine pledges only (reviews.selectors.bulk_approval_blockers).
                   .filter(member__isnull=False, is_oral=False).exclude(member__category="leader")
                   .order_by("id").values_list("id", "version")[:n])
    approved, failed = [], {}
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
            t, c = time.perf_counter(), time.process_time()
            approved, failed = review_bulk_approve(actor=actor, targets=targets, shown=set(targets),
                                                   opinion="符合要求，同意公开。")
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            raise _Rollback
    except _Rollback:
        pass
    row = result("reviews", f"批量审定{len(targets)}项", p50=_ms(seconds), queries=len(ctx),
                 other=f"{seconds:.2f} s, CPU {cpu:.2f} s, {len(approved)} ok", target="≤2s (200 items)",
                 ok=seconds <= 2 and not failed and len(targets) >= n, note="rolled back; query log on",
                 seconds=round(seconds, 3), cpu_s=round(cpu, 3), approved=len(approved), failed=len(failed))
    out(_line(row))
    return [row]


# --- output ------------------------------------------------------------------------------------

HEADER = f"{'项目':<26}{'p50 ms':>10}{'p95 ms':>10}{'queries':>9}  {'其他':<40}{'目标':<28}结果"


def _w(text: str, width: int) -> str:
    """Pad to a display width, CJK characters counting double."""
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(0, width - shown)


def _line(r: dict) -> str:
    status = {True: "PASS", False: "MISS", None: "n/a"}[r["ok"]]
    num = lambda x: "" if x is None else f"{x:,.1f}"  # noqa: E731
    return (f"{_w(r['label'], 26)}{num(r['p50_ms']):>10}{num(r['p95_ms']):>10}"
            f"{'' if r['queries'] is None else r['queries']:>9}  {_w(r['other'], 40)}{_w(r['target'], 28)}{status}")


def markdown(report: dict) -> str:
    """The results of one run as the Markdown table of docs/PERFORMANCE.md."""
    m = report["machine"]
    lines = [f"Tier **{report['tier']}** ({report['dataset']['members']:,} members, "
             f"{report['dataset']['organisations']:,} organisations), {report['at']}; "
             f"{m['nproc']} cores, {m['ram_gb']} GB RAM, PostgreSQL {m['postgresql']}, Python {m['python']}, "
             f"Django {m['django']}.", "",
             "| 项目 | p50 ms | p95 ms | queries | 其他 | 目标 | 结果 |", "|---|---:|---:|---:|---|---|---|"]
    num = lambda x: "" if x is None else f"{x:,.0f}"  # noqa: E731
    for r in report["results"]:
        status = {True: "PASS", False: "**MISS**", None: "n/a"}[r["ok"]]
        lines.append(f"| {r['label']} | {num(r['p50_ms'])} | {num(r['p95_ms'])} | "
                     f"{'' if r['queries'] is None else r['queries']} | {r['other']} | {r['target']} | {status} |")
    return "\n".join(lines)


def machine() -> dict:
    import django
    from django.db import connection

    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return {"nproc": os.cpu_count(), "ram_gb": round(mem / 2**20, 1), "postgresql": pg,
            "python": platform.python_version(), "django": django.get_version(), "platform": platform.platform(),
            "wrk": bool(shutil.which("wrk"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default=os.environ.get("TIER", "city"))
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated of {', '.join(GROUPS)}")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load on the public page")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8731)))
    parser.add_argument("--batch-timeout", type=float, default=float(os.environ.get("BENCH_BATCH_TIMEOUT", 420)))
    parser.add_argument("--ledger-timeout", type=float, default=float(os.environ.get("BENCH_LEDGER_TIMEOUT", 2400)))
    parser.add_argument("--markdown", metavar="JSON", help="print a results file as a Markdown table and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-arg", default="", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    configure(args.tier)
    if args.child:
        child_main(args.child, args.child_arg, args.root)
        return 0
    ensure_database(os.environ["DATABASE_URL"])
    import django
    django.setup()
    prepare(args.tier)
    only = {g.strip() for g in args.only.split(",") if g.strip()}
    d = dataset()
    print(f"==> {args.tier}: {d['members']:,} members, {d['organisations']:,} organisations; "
          f"root {d['root'].name}, branch {d['branch'].name}")
    started = time.perf_counter()
    print(HEADER)
    rows = []
    if "pages" in only:
        rows += measure_pages(d, tier=args.tier, reps=args.reps)
    if "throughput" in only:
        rows += measure_throughput(d, port=args.port, duration=args.duration)
    if "pdf" in only:
        rows += measure_pdf(d)
        rows += measure_subtree_batch(d, timeout=args.batch_timeout)
    if "excel" in only:
        rows += measure_import(d)
        rows += measure_ledger(d, timeout=args.ledger_timeout)
    if "reviews" in only:
        rows += measure_bulk_approve(d)
    report = {"tier": args.tier, "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
              "machine": machine(), "dataset": {"members": d["members"], "organisations": d["organisations"],
                                                "root": d["root"].pk},
              "seconds": round(time.perf_counter() - started, 1), "results": rows}
    print("\n" + HEADER)
    for r in rows:
        print(_line(r))
    missed = [r["label"] for r in rows if r["ok"] is False]
    print(f"\n{len(rows) - len(missed)}/{len(rows)} targets met"
          + (f"; missed on this machine: {', '.join(missed)}" if missed else ""))
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{args.tier}.json"
    if only != set(GROUPS):
        path = RESULTS_DIR / f"{args.tier}-partial.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str) + "\n")
    print(f"==> {path.relative_to(REPO)} ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
