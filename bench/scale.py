"""Benchmark: collect + report at several organization sizes, every AWS call taking `latency`.

    PYTHONPATH=. .venv/bin/python bench/scale.py [--sizes 100 1000 5000] [--latency 0.05]

For each size, in its own process (so that its peak memory is its own):
1. the organization and root-credential collectors against a recording of the simulated organization of
   that size (recorded once, as bench/collect.py records, cached under --cache-dir), replayed from
   127.0.0.1 with `latency` per call, with the default pool;
2. the report: the snapshot written, evaluated against the default frameworks, and the pack written (PDF,
   workbook, data, manifest, zip). CloudTrail and monitoring are not part of this benchmark (a sources
   row says so, and the pack is NOT_ASSESSED for them, as it should be): bench/cloudtrail.py measures
   the trail.
Printed per size: collect and report seconds, seconds per account, peak resident memory; then the
targets: time per account at the largest size within 1.3x of that at the smallest, and peak memory under
1.5 GiB at the largest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect import aws_env, record, replayer  # bench/collect.py: the recording and its replay

GIB = 1 << 30


def one(path: Path, latency: float) -> dict[str, Any]:
    """Collect and report one recorded organization (in a child process: its peak memory is its own)."""
    import boto3

    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collectors import CollectSettings
    from rootaudit.collectors.organization import collect_organization
    from rootaudit.collectors.root_credentials import collect_root_credentials
    from rootaudit.controls import evaluate
    from rootaudit.period import parse_period
    from rootaudit.render.pack import write_pack
    from rootaudit.simulate.scenario import AUDIT_ROLE_NAME
    from rootaudit.snapshot import Snapshot, make_frame, save_snapshot

    period = parse_period("2026-Q3")
    settings = CollectSettings(period=period, fallback_role=AUDIT_ROLE_NAME)
    with replayer(path, latency) as url, aws_env(url):
        ctx = AwsContext(AwsSettings(region="us-east-1"), session=boto3.Session(region_name="us-east-1"))
        began = time.perf_counter()
        org = collect_organization(ctx, workers=settings.workers)
        creds = collect_root_credentials(ctx, org.frames["accounts"], org.frames["organization"], settings)
        collected = time.perf_counter()
    frames = {**org.frames, **creds.frames}
    frames["sources"] = make_frame("sources", [{
        "source": "bench", "account_id": "*", "region": "*", "item": "*", "status": "failed",
        "period_start": period.start, "period_end": period.end,
        "reason": "CloudTrail is not collected by bench/scale.py (bench/cloudtrail.py measures it)"}])
    organization = frames["organization"].iloc[0]
    meta = {"tool": "rootaudit", "organization_id": str(organization["organization_id"]),
            "management_account_id": str(organization["management_account_id"]), "period": period.as_meta(),
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    snapshot = Snapshot(meta=meta, frames=frames, raw={**org.raw, **creds.raw})
    with tempfile.TemporaryDirectory(prefix="rootaudit-scale-") as out:
        save_snapshot(snapshot, Path(out) / "snapshot")
        results = evaluate(snapshot)
        write_pack(snapshot, results, Path(out), replace=True)
    reported = time.perf_counter()
    assessed = int((frames["root_credentials"]["assessment"] == "assessed").sum())
    return {"accounts": len(frames["accounts"]), "calls": len(ctx.call_log.rows()), "assessed": assessed,
            "collect": collected - began, "report": reported - collected,
            "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}  # Linux: kilobytes


def main() -> int:
    parser = argparse.ArgumentParser(description="scale benchmark (see the module docstring)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per AWS call (default 0.05)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/rootaudit-bench"))
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child: one recorded size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.latency)))
        return 0
    rows = []
    for size in sorted(args.sizes):
        path = args.cache_dir / f"collect-{size}-seed{args.seed}.json.gz"
        if not path.exists():
            record(size, args.seed, path)
        done = subprocess.run([sys.executable, __file__, "--one", str(path), "--latency", str(args.latency)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        total = row["collect"] + row["report"]
        print(f"  {row['accounts']:>5} accounts: collect {row['collect']:7.1f} s, "
              f"report {row['report']:7.1f} s, {total / row['accounts'] * 1000:6.1f} ms per account, "
              f"peak memory {row['peak_bytes'] / GIB:.2f} GiB ({row['calls']} calls, "
              f"{row['assessed']} assessed)", flush=True)
    first, last = rows[0], rows[-1]
    ratio = ((last["collect"] + last["report"]) / last["accounts"]) / (
        (first["collect"] + first["report"]) / first["accounts"])
    print(f"  time per account at {last['accounts']} / at {first['accounts']}: {ratio:.2f}x "
          "(target <= 1.3x); "
          f"peak memory at {last['accounts']}: {last['peak_bytes'] / GIB:.2f} GiB (target < 1.5 GiB); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
