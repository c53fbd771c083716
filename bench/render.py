"""Benchmark: render the evidence pack of a large organization.

    PYTHONPATH=. python bench/render.py            # baseline (40 accounts) and target (5,000 accounts)
    PYTHONPATH=. python bench/render.py --one 5000 20 200   # one configuration, in this process

Each configuration runs in its own process so that its peak memory (ru_maxrss) is its own. The target:
5,000 member accounts, all clean but 20, with 200 AssumeRoot sessions. Printed per configuration: the
PDF's time and pages, the workbook's time, the whole pack's time (write_pack: every file, the zip, all
written to disk), and the peak resident memory.
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

TARGETS = {"pack_seconds": 20.0, "pdf_pages": 30, "peak_mib": 1024.0}
# (member accounts, accounts not clean, sessions, evaluator): "sample" is rootaudit.render.sample's
# one-framework stand-in; "controls" is the project's evaluator with every framework it ships.
CONFIGS = [
    (40, 4, 6, "sample"),
    (5000, 20, 200, "sample"),
    (40, 4, 6, "controls"),
    (5000, 20, 200, "controls"),
]


def measure(accounts: int, not_clean: int, sessions: int, evaluator: str) -> dict[str, float]:
    import pypdf

    from rootaudit.render.model import build_report
    from rootaudit.render.pack import write_pack
    from rootaudit.render.pdf import render_html, render_pdf
    from rootaudit.render.sample import COLLECTED_AT, sample_results, sample_snapshot
    from rootaudit.render.xlsx import render_xlsx

    t = time.perf_counter()
    # the sample adds one account with only residue (an inactive key) after those with credentials
    snapshot = sample_snapshot(
        accounts=accounts,
        with_credentials=not_clean - 1,
        not_assessed=0,
        sessions=sessions,
        full_coverage=True,
    )
    if evaluator == "controls":
        from rootaudit.controls import evaluate

        results = evaluate(snapshot)
    else:
        results = sample_results(snapshot)
    build_s = time.perf_counter() - t

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
        "evaluator": evaluator,
        "accounts": accounts,
        "not_clean": not_clean,
        "sessions": sessions,
        "control_results": len(results.control_results),
        "evaluate_s": build_s,
        "sample_build_s": build_s,
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
    for accounts, not_clean, sessions, evaluator in CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(accounts), str(not_clean), str(sessions), evaluator],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cols = [
        "evaluator",
        "accounts",
        "not_clean",
        "sessions",
        "control_results",
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
    for evaluator in ("sample", "controls"):
        base, target = [r for r in rows if r["evaluator"] == evaluator]
        print(
            f"\n{evaluator}: baseline ({base['accounts']} accounts) -> "
            f"target ({target['accounts']} accounts): "
            f"pack {base['pack_s']:.2f}s -> {target['pack_s']:.2f}s, pages {base['pdf_pages']} -> "
            f"{target['pdf_pages']}, peak {base['peak_mib']:.0f} -> {target['peak_mib']:.0f} MiB"
        )
        checks = {
            "pack under 20 s": target["pack_s"] < TARGETS["pack_seconds"],
            "PDF under 30 pages": target["pdf_pages"] < TARGETS["pdf_pages"],
            "peak memory under 1 GiB": target["peak_mib"] < TARGETS["peak_mib"],
        }
        for name, met in checks.items():
            print(f"  {'met   ' if met else 'MISSED'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
