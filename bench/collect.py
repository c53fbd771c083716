"""Benchmark: collecting a 1,000-account organization whose every AWS call takes 50 ms.

    PYTHONPATH=. .venv/bin/python bench/collect.py [--accounts 1000] [--baseline-accounts 100]
                                                   [--latency 0.05] [--workers N [N …]]

1. Record, once (cached under --cache-dir): both collectors run against the simulated organization
   through a recording proxy (bench/collect_responder.py), for the main org and the baseline org.
2. Replay: a light responder in its own process serves the recorded answers from 127.0.0.1, sleeping
   `latency` per call, so what is measured is rootaudit (its pool, clients, retries, transforms), not moto.
3. Measure with the default pool (CollectSettings().workers, for both collectors) or each pool given,
   and a one-worker baseline in the same run on the smaller org (scaled to the main org's size, and
   said so).

Printed: accounts per second, wall time beside the ideal for the pool (calls × latency ÷ workers).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect_responder import Recording, RecordingProxy

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.organization import collect_organization
from rootaudit.collectors.root_credentials import collect_root_credentials
from rootaudit.period import parse_period

PLACEHOLDER_KEY = "testing"  # the simulation's fixed, non-secret caller credentials


@dataclass
class Measure:
    accounts: int
    workers: int
    calls: int
    org_seconds: float
    root_seconds: float
    assessed: int
    not_assessed: int
    cpu_seconds: float = 0.0  # this process's CPU time (all threads) during the collection

    @property
    def wall(self) -> float:
        return self.org_seconds + self.root_seconds


@contextmanager
def aws_env(endpoint: str) -> Iterator[None]:
    names = (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_STS",
    )
    saved = {k: os.environ.get(k) for k in names}
    for k in names:
        os.environ.pop(k, None)
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=PLACEHOLDER_KEY,
        AWS_SECRET_ACCESS_KEY=PLACEHOLDER_KEY,
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_collection(workers: int, fallback_role: str) -> tuple[Measure, Any]:
    import boto3

    settings = CollectSettings(period=parse_period("2026-Q3"), workers=workers, fallback_role=fallback_role)
    ctx = AwsContext(AwsSettings(region="us-east-1"), session=boto3.Session(region_name="us-east-1"))
    began, cpu_began = time.perf_counter(), time.process_time()
    org = collect_organization(ctx, workers=workers)
    org_done = time.perf_counter()
    creds = collect_root_credentials(ctx, org.frames["accounts"], org.frames["organization"], settings)
    ended = time.perf_counter()
    counts = creds.frames["root_credentials"]["assessment"].value_counts()
    measure = Measure(
        accounts=len(org.frames["accounts"]),
        workers=workers,
        calls=len(ctx.call_log.rows()),
        org_seconds=org_done - began,
        root_seconds=ended - org_done,
        assessed=int(counts.get("assessed", 0)),
        not_assessed=int(counts.get("not_assessed", 0)),
        cpu_seconds=time.process_time() - cpu_began,
    )
    return measure, creds.frames["root_credentials"]


def record(accounts: int, seed: int, path: Path) -> None:
    from rootaudit.simulate.organization import SimulatedOrganization
    from rootaudit.simulate.scenario import build_scenario

    print(f"recording a {accounts}-account organization from the simulation into {path} …", flush=True)
    began = time.perf_counter()
    scenario = build_scenario(accounts, seed=seed, period=parse_period("2026-Q3"))
    recording = Recording()
    with SimulatedOrganization(scenario, mode="server") as sim:
        proxy = RecordingProxy(sim.endpoint_url or "", recording).start()
        try:
            with aws_env(proxy.url):
                measure, _ = run_collection(
                    CollectSettings(period=scenario.period).workers, scenario.audit_role_name
                )
        finally:
            proxy.shutdown()
    recording.save(path)
    print(
        f"  recorded {sum(len(v) for v in recording.entries.values())} answers in "
        f"{time.perf_counter() - began:.0f} s ({measure.assessed} assessed, {measure.not_assessed} not)",
        flush=True,
    )


@contextmanager
def replayer(path: Path, latency: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("collect_responder.py")),
            str(path),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure_replay(path: Path, latency: float, workers: int, fallback_role: str) -> Measure:
    with replayer(path, latency) as url, aws_env(url):
        measure, _ = run_collection(workers, fallback_role)
    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description="collect benchmark (see the module docstring)")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--baseline-accounts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per AWS call (default 0.05)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/rootaudit-bench"))
    parser.add_argument("--rerecord", action="store_true", help="record again even if a recording exists")
    parser.add_argument("--workers", type=int, nargs="+", default=[],
                        help="pool sizes to measure (default: CollectSettings' default); the first is the "
                             "one the target is judged on")
    args = parser.parse_args()

    from rootaudit.simulate.scenario import AUDIT_ROLE_NAME

    default_pool = CollectSettings(period=parse_period("2026-Q3")).workers
    pools = args.workers or [default_pool]
    paths = {}
    for n in (args.accounts, args.baseline_accounts):
        paths[n] = args.cache_dir / f"collect-{n}-seed{args.seed}.json.gz"
        if args.rerecord or not paths[n].exists():
            record(n, args.seed, paths[n])

    runs = [measure_replay(paths[args.accounts], args.latency, w, AUDIT_ROLE_NAME) for w in pools]
    base_run = measure_replay(paths[args.baseline_accounts], args.latency, 1, AUDIT_ROLE_NAME)

    print()
    print(f"collect benchmark: {args.latency * 1000:.0f} ms per AWS call, replayed from the simulation; "
          f"default pool {default_pool}")
    for run in runs:
        ideal = run.calls * args.latency / run.workers
        print(f"  {run.accounts} accounts, pool {run.workers}: {run.calls} calls "
              f"({run.calls / run.accounts:.2f} per account)")
        print(f"    wall {run.wall:.1f} s (organization {run.org_seconds:.1f} s + root credentials "
              f"{run.root_seconds:.1f} s); {run.accounts / run.wall:.1f} accounts/s")
        print(f"    ideal for the pool (calls × latency ÷ workers) {ideal:.1f} s; "
              f"wall/ideal {run.wall / ideal:.2f}")
        print(f"    {run.assessed} assessed, {run.not_assessed} not assessed; rootaudit's CPU time "
              f"{run.cpu_seconds:.1f} s ({run.cpu_seconds / run.calls * 1000:.2f} ms per call)")
        met = run.wall <= 1.25 * ideal and run.wall < 30
        print(f"    target (≤ 1.25 × ideal and < 30 s): {'met' if met else 'NOT met'}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.1f} at the end")
    scale = runs[0].accounts / base_run.accounts
    base_scaled = base_run.wall * scale
    print(
        f"  baseline, 1 worker, {base_run.accounts} accounts: {base_run.calls} calls, "
        f"wall {base_run.wall:.1f} s "
        f"({base_run.accounts / base_run.wall:.2f} accounts/s; ideal {base_run.calls * args.latency:.1f} s)"
    )
    speedups = ", ".join(f"pool {r.workers} {base_scaled / r.wall:.1f}×" for r in runs)
    print(f"    scaled ×{scale:g} to {runs[0].accounts} accounts: {base_scaled:.0f} s; speed-up: {speedups}")


if __name__ == "__main__":
    main()
