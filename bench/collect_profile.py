"""Where the collect benchmark's CPU goes: a replayed collection with every thread under cProfile.

    PYTHONPATH=. .venv/bin/python bench/collect_profile.py [--accounts 1000] [--workers 16] [--top 25]

Uses the recording bench/collect.py made (run it first). Every thread (the pool's included) is profiled
and the profiles merged, each timed by its thread's CPU clock (`time.thread_time`), so waiting on
the network or for the GIL costs nothing; printed: the functions with the most own time, and the own
time summed by where the code lives (rootaudit, botocore, urllib3, the standard library, …), per call.
Profiling slows everything several-fold: the shares matter, not the wall time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect import aws_env, replayer, run_collection

WAITS = ("acquire", "recv", "sleep", "select", "poll", "wait", "join", "get of '_queue", "readinto")


def _area(filename: str, function: str) -> str:
    if filename == "~" and any(w in function for w in WAITS):
        return "blocking calls (their CPU part)"
    for marker in ("rootaudit", "botocore", "urllib3", "boto3", "dateutil", "pandas"):
        if f"/{marker}/" in filename:
            return marker
    return "python (standard library, builtins)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/rootaudit-bench"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", type=Path, help="also write the merged stats here (for pstats)")
    args = parser.parse_args()

    from rootaudit.simulate.scenario import AUDIT_ROLE_NAME

    path = args.cache_dir / f"collect-{args.accounts}-seed{args.seed}.json.gz"
    if not path.exists():
        sys.exit(f"no recording at {path}: run bench/collect.py first")

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.runcall(original_run, self)

    main_profile = cProfile.Profile(time.thread_time)
    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    try:
        with replayer(path, args.latency) as url, aws_env(url):
            measure, _ = main_profile.runcall(run_collection, args.workers, AUDIT_ROLE_NAME)
    finally:
        threading.Thread.run = original_run  # type: ignore[method-assign]

    stats = pstats.Stats(main_profile, stream=io.StringIO())
    for profile in profiles:
        stats.add(profile)
    if args.dump:
        stats.dump_stats(args.dump)
    by_area: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own, _, _) in raw.items():
        by_area[_area(filename, function)] += own
    total = sum(by_area.values())
    print(f"{measure.accounts} accounts, pool {args.workers}, {measure.calls} calls, "
          f"wall {measure.wall:.1f} s under the profiler; CPU time {total:.1f} s "
          f"({total / measure.calls * 1000:.2f} ms per call)")
    for area, own in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"  {area:40s} {own:7.2f} s  {own / measure.calls * 1000:6.3f} ms/call  {own / total:6.1%}")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats("rootaudit", args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
