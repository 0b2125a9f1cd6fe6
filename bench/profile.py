"""Why is a page slow? `python -m bench.profile --tier city [LABEL ...]` (labels of bench/run.py's
pages; all when none) requests each page once warm, then prints its queries with their times
(slowest first) and the top functions of a cProfile run by cumulative time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_city .venv/bin/python -m bench.profile 组织树
"""
import argparse
import cProfile
import io
import os
import pstats
import time

from bench import run


def profile_page(d, label, who, url, *, top=25, queries=8, explain=False, plan_lines=12):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if who:
        client.force_login(d[who])
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        client.get(url)
        total = time.perf_counter() - t
    sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    print(f"\n=== {label}  {url}\n    {total * 1000:.0f} ms, {len(ctx)} queries, {sql_ms:.0f} ms in SQL")
    for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:queries]:
        print(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:400]}")
        if explain and q["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN ANALYZE " + q["sql"])
                print("        " + "\n        ".join(r[0] for r in cur.fetchall()[:plan_lines]))
    prof = cProfile.Profile()
    prof.enable()
    client.get(url)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    print("\n".join("    " + line for line in buf.getvalue().splitlines()[6:] if line.strip()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench.profile")
    parser.add_argument("labels", nargs="*")
    parser.add_argument("--tier", choices=sorted(run.TIERS), default=os.environ.get("TIER", "city"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queries")
    parser.add_argument("--plan-lines", type=int, default=12)
    args = parser.parse_args(argv)
    run.configure(args.tier)
    import django
    django.setup()
    d = run.dataset()
    for label, who, url, _ in run.pages(d, args.tier):
        if not args.labels or label in args.labels:
            profile_page(d, label, who, url, top=args.top, explain=args.explain, plan_lines=args.plan_lines)


if __name__ == "__main__":
    main()
