"""Benchmark: the evidence pack of a large organization, on the product's path.

    PYTHONPATH=. python bench/render.py                            # baseline, target, and all frameworks
    PYTHONPATH=. python bench/render.py --one 5000 20 200 default  # one configuration, in this process

The product's path is what `rootaudit report` does: the project's evaluator (`rootaudit.controls.evaluate`)
with the frameworks it evaluates by default (the current version of each framework family), then
`write_pack`. The target: 5,000 member accounts, all clean but 20, with 200 AssumeRoot sessions; the
baseline is 40 accounts (4 not clean, 6 sessions) from the same run; the same 5,000 accounts evaluated
against every framework shipped (`--frameworks all`) are measured for information.

Each configuration runs in its own process so that its peak memory (ru_maxrss, which includes the
evaluation) is its own. Printed per configuration: the evaluation's time, the PDF's time and pages, the
workbook's time, the whole pack's time (write_pack: every file, the zip, all written to disk), the zip's
size and the peak resident memory.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = {"pack_seconds": 20.0, "pdf_pages": 30, "peak_mib": 1024.0}
# (member accounts, accounts not clean, sessions, frameworks): "default" is what `rootaudit report`
# evaluates when no framework is named; "all" is every mapping file shipped.
BASELINE = (40, 4, 6, "default")
TARGET = (5000, 20, 200, "default")
FOR_INFORMATION = (5000, 20, 200, "all")
CONFIGS = [BASELINE, TARGET, FOR_INFORMATION]


def measure(accounts: int, not_clean: int, sessions: int, frameworks: str) -> dict[str, Any]:
    import pypdf

    from rootaudit.controls import evaluate
    from rootaudit.render.model import build_report
    from rootaudit.render.pack import write_pack
    from rootaudit.render.pdf import render_html, render_pdf
    from rootaudit.render.xlsx import render_xlsx
    from tests.support.sample import COLLECTED_AT, sample_snapshot

    # the sample adds one account with only residue (an inactive key) after those with credentials
    snapshot = sample_snapshot(
        accounts=accounts,
        with_credentials=not_clean - 1,
        not_assessed=0,
        sessions=sessions,
        full_coverage=True,
    )
    t = time.perf_counter()
    results = evaluate(snapshot, None if frameworks == "default" else [frameworks])
    evaluate_s = time.perf_counter() - t

    t = time.perf_counter()
    pdf = render_pdf(render_html(build_report(snapshot, results)), {}, COLLECTED_AT, b"bench")
    pdf_s = time.perf_counter() - t
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)

    t = time.perf_counter()
    xlsx = render_xlsx(snapshot, results)
    xlsx_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = write_pack(snapshot, results, Path(tmp))
        pack_s = time.perf_counter() - t
        zip_mib = paths.zip.stat().st_size / 2**20
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {
        "frameworks": f"{frameworks} ({len(results.frameworks)})",
        "accounts": accounts,
        "not_clean": not_clean,
        "sessions": sessions,
        "control_results": len(results.control_results),
        "evaluate_s": evaluate_s,
        "pdf_s": pdf_s,
        "pdf_pages": pages,
        "pdf_kib": len(pdf) / 1024,
        "xlsx_s": xlsx_s,
        "xlsx_kib": len(xlsx) / 1024,
        "pack_s": pack_s,
        "zip_mib": zip_mib,
        "peak_mib": peak_mib,
    }


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--one":
        print(json.dumps(measure(*(int(a) for a in sys.argv[2:5]), sys.argv[5])))
        return 0
    rows = []
    for accounts, not_clean, sessions, frameworks in CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(accounts), str(not_clean), str(sessions), frameworks],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cols = [
        "frameworks",
        "accounts",
        "not_clean",
        "sessions",
        "control_results",
        "evaluate_s",
        "pdf_s",
        "pdf_pages",
        "xlsx_s",
        "pack_s",
        "zip_mib",
        "peak_mib",
    ]
    print(" | ".join(f"{c:>15}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]:>15.2f}" if isinstance(r[c], float) else f"{r[c]:>15}" for c in cols))
    base, target, info = rows
    print(
        f"\nproduct path (default frameworks): baseline ({base['accounts']} accounts) -> "
        f"target ({target['accounts']} accounts): "
        f"pack {base['pack_s']:.2f}s -> {target['pack_s']:.2f}s, pages {base['pdf_pages']} -> "
        f"{target['pdf_pages']}, peak {base['peak_mib']:.0f} -> {target['peak_mib']:.0f} MiB"
    )
    for name, row in (("target (default frameworks)", target), ("for information (all frameworks)", info)):
        print(f"{name}:")
        checks = {
            "pack under 20 s": row["pack_s"] < TARGETS["pack_seconds"],
            "PDF under 30 pages": row["pdf_pages"] < TARGETS["pdf_pages"],
            "peak memory under 1 GiB": row["peak_mib"] < TARGETS["peak_mib"],
        }
        for check, met in checks.items():
            print(f"  {'met   ' if met else 'MISSED'} {check}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
