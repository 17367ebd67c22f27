"""Where one page's server time goes, on a database bench/scale.py seeded and synced: its SQL (each query's
time, slowest first) and a cProfile of the rest.

    BENCH_PREFIX=… .venv/bin/python bench/profile_page.py --db postgres --size 100000 "/?tag=support"
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--size", type=int, default=100000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    scale.setup(args.db, args.size)
    from django.db import connection, reset_queries

    client = scale._client()
    client.get("/")
    for url in args.urls:
        client.get(url)  # warm
        reset_queries()
        profile = cProfile.Profile()
        started = time.perf_counter()
        if not args.no_profile:
            profile.enable()
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        profile.disable()
        took = (time.perf_counter() - started) * 1000
        queries = len(connection.queries)
        print(f"\n=== {url}: {response.status_code}, {len(body):,} bytes, {took:.1f} ms, {queries} queries")
        for q in sorted(connection.queries, key=lambda q: -float(q["time"]))[:8]:
            print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}")
        if not args.no_profile:
            pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)


if __name__ == "__main__":
    main()
