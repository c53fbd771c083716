"""Benchmark: `rootaudit report` on hostile inputs, beside a normal run measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/hostile.py               # every configuration, each capped at 600 s
    PYTHONPATH=. .venv/bin/python bench/hostile.py --cap 60      # a lower cap per configuration

The snapshot is the sample organization (`tests/support/sample.py`, 40 member accounts, an organization
trail for the whole period). Configurations, each one `rootaudit report SNAPSHOT --out DIR` in its own
process (imports included, as a person waits for them), with the frameworks `report` evaluates by default:

  baseline         the snapshot as it is, no exceptions file
  long name        one account (one that holds root credentials, so it is named in the findings) renamed
                   to 100,000 characters with no space in them
  1,000 exceptions an exceptions file of 1,000 well-formed entries, each one control in one account
  both             the long name and the 1,000 exceptions

Printed per configuration: the exit status, the wall time, the pack's zip size, and whether it finished
within the cap (a run stopped at the cap is shown as such, not as a time). Issue 16's target is that the
hostile runs finish in bounded time, near the baseline; this script reports, it asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAME_LENGTH = 100_000
EXCEPTIONS = 1_000
CONFIGS = {"baseline": (False, False), "long name": (True, False), "1,000 exceptions": (False, True),
           "both": (True, True)}


def make_inputs(root: Path, long_name: bool, exceptions: bool) -> list[str]:
    """The snapshot folder (and exceptions file) of one configuration; returns the extra arguments."""
    from rootaudit.snapshot import save_snapshot
    from tests.support.sample import account_id, sample_snapshot

    snapshot = sample_snapshot(accounts=40, full_coverage=True)
    if long_name:
        accounts = snapshot.frames["accounts"]
        row = accounts.index[accounts["account_id"] == account_id(2)]  # holds root credentials
        accounts.loc[row, "name"] = ("name" * NAME_LENGTH)[:NAME_LENGTH]
    save_snapshot(snapshot, root / "snapshot")
    if not exceptions:
        return []
    controls = ["cis-aws-7.0.0:2.3", "cis-aws-7.0.0:2.4", "cis-aws-7.0.0:2.5", "cis-aws-7.0.0:2.6"]
    lines = ["exceptions:"]
    for i in range(EXCEPTIONS):
        lines += [f"  - id: EXC-{i:05d}", f'    account: "{account_id(i % 40)}"',
                  f"    control: {controls[(i // 40) % len(controls)]}",
                  f"    reason: Accepted risk number {i}, pending the replacement of a legacy integration.",
                  "    owner: platform@example.com", "    approver: ciso@example.com",
                  f"    ticket: RISK-{i:05d}", "    expires: 2027-12-31"]
    path = root / "exceptions.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["--exceptions", str(path)]


def run_one(name: str, cap: float) -> dict[str, Any]:
    long_name, exceptions = CONFIGS[name]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        extra = make_inputs(root, long_name, exceptions)
        cmd = [sys.executable, "-m", "rootaudit", "report", str(root / "snapshot"),
               "--out", str(root / "out"), "--quiet", *extra]
        started = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=cap)
        except subprocess.TimeoutExpired:
            return {"config": name, "status": "-", "seconds": None, "zip_mib": None,
                    "outcome": f"stopped at the cap ({cap:.0f} s)"}
        seconds = time.perf_counter() - started
        zips = sorted((root / "out").glob("*.zip"))
        err = [line for line in done.stderr.splitlines() if line.startswith("rootaudit:")]
        return {"config": name, "status": done.returncode, "seconds": seconds,
                "zip_mib": zips[0].stat().st_size / 2**20 if zips else None,
                "outcome": "pack written" if zips else f"no pack: {err[-1] if err else done.stderr[-200:]}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=600.0, help="seconds allowed per configuration")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), help="configurations to run")
    args = parser.parse_args()
    rows = [run_one(name, args.cap) for name in (args.only or CONFIGS)]
    print(f"{'configuration':<18} | {'exit':>4} | {'seconds':>8} | {'zip MiB':>7} | outcome")
    for r in rows:
        secs = f"{r['seconds']:8.2f}" if r["seconds"] is not None else f"{'-':>8}"
        mib = f"{r['zip_mib']:7.2f}" if r["zip_mib"] is not None else f"{'-':>7}"
        print(f"{r['config']:<18} | {r['status']!s:>4} | {secs} | {mib} | {r['outcome']}")
    base = next((r for r in rows if r["config"] == "baseline" and r["seconds"] is not None), None)
    if base:
        for r in rows:
            if r is not base and r["seconds"] is not None:
                print(f"{r['config']}: {r['seconds'] / base['seconds']:.2f}x the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
