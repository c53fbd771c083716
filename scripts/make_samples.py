"""samples/: the sample pack made by the demo, and the summary its currency is checked by.

    .venv/bin/python scripts/make_samples.py    # regenerate samples/ after a change to the pack

Writes samples/<pack>.zip (the demo's pack for 2026-Q3, seed 7, 40 accounts), samples/signing-key.pub.pem
(the public key of the simulated KMS key that signed its snapshot) and
samples/sample-pack-summary.json: what a reader of the pack relies on (its files, each data file's
columns, every organization-level result's status, the result counts per framework and status, the
headline, the population, the exceptions' statuses), without what changes on every run (collection
times, request ids, digests). tests/test_samples.py regenerates the demo and compares its summary with
this one: when it fails, the pack's meaning changed; run this script and commit samples/.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SUMMARY = SAMPLES / "sample-pack-summary.json"
PUBLIC_KEY = "signing-key.pub.pem"
DEMO_ARGS = ["--period", "2026-Q3", "--seed", "7", "--accounts", "40"]


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def summary_of(files: dict[str, bytes]) -> dict[str, Any]:
    """The meaningful content of a pack (relative path -> bytes)."""
    results = _rows(files["data/control_results.csv"])
    meta = json.loads(files["snapshot.json"])
    raw = sorted(p for p in files if p.startswith("data/raw/"))
    return {
        "files": sorted(p for p in files if not p.startswith("data/raw/")),
        "raw_responses": len(raw),
        "columns": {p: list(_rows(files[p])[0]) if _rows(files[p]) else
                    next(csv.reader(io.StringIO(files[p].decode("utf-8"))), [])
                    for p in sorted(files) if p.startswith("data/") and p.endswith(".csv")},
        "snapshot_keys": sorted(meta),
        "period": meta.get("period"),
        "population": meta.get("population"),
        "cloudtrail_source": meta.get("cloudtrail_source"),
        "organization_results": sorted(
            f"{r['framework']} {r['version']} {r['control_id']}: {r['status']}"
            + (f" ({r['exception_status']})" if r.get("exception_status") else "")
            for r in results if not r["account_id"]),
        "result_counts": dict(sorted(Counter(f"{r['framework']} {r['version']}: {r['status']}"
                                             for r in results).items())),
        "exceptions": {r["exception_id"]: r["status"] for r in _rows(files["data/exceptions.csv"])},
        "sessions": len(_rows(files["data/privileged_sessions.csv"])),
        "root_activity": len(_rows(files["data/root_activity.csv"])),
    }


def zip_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {str(PurePosixPath(*PurePosixPath(i.filename).parts[1:])): zf.read(i)
                for i in zf.infolist() if not i.is_dir()}


def make_demo_pack(out: Path) -> Path:
    """Run the demo into `out`; the zip of the pack of the demo's period."""
    from rootaudit.cli import main

    status = main(["demo", "--out", str(out), "--quiet", *DEMO_ARGS])
    if status != 0:
        raise SystemExit(f"rootaudit demo exited {status}")
    # the demo packs the period before too (for its history): the sample is the period's own pack
    [zip_path] = sorted(out.glob(f"rootaudit-*-{DEMO_ARGS[1]}.zip"))
    return zip_path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        made = make_demo_pack(Path(tmp))
        for old in SAMPLES.glob("rootaudit-*.zip"):
            old.unlink()
        target = SAMPLES / made.name
        target.write_bytes(made.read_bytes())
        # the simulated KMS key's public key, which signed the sample's snapshot: verify --public-key
        (SAMPLES / PUBLIC_KEY).write_bytes((Path(tmp) / PUBLIC_KEY).read_bytes())
    SUMMARY.write_text(json.dumps(summary_of(zip_files(target)), indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)} and {SUMMARY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
