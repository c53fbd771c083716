"""Benchmark: `rootaudit demo` for its 40 accounts, end to end, with the time of each stage.

    PYTHONPATH=. .venv/bin/python bench/demo.py              # 3 rounds, each in a fresh process
    PYTHONPATH=. .venv/bin/python bench/demo.py --compare TREE   # and the demo of another source tree
    PYTHONPATH=. .venv/bin/python bench/demo.py --one DIR    # one round in this process (what a round runs)

Each round is a new process running `rootaudit demo --out DIR --period 2026-Q3` through the command line's
own `main` (imports included, as a person waits for them), with the stages timed by wrapping the
functions `rootaudit.demo.run_demo` calls: starting the simulated organization (building and seeding
it, and its server), collection, the snapshot written, the evaluation, and the pack (and within it the
PDF and the workbook). The target: the whole demo under 15 s on a 2-core machine. The baseline, measured
in the same run: the same demo with the PDF and workbook rendered one after the other in the demo's own
process (`ROOTAUDIT_SERIAL_RENDER=1`), as before this benchmark. `--compare TREE` adds a column: the
same demo run from another checkout (e.g. a worktree of main: `git worktree add /tmp/main main`), with
this environment's packages, its rounds interleaved with the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_SECONDS = 15.0
ROUNDS = 3


def one(out: Path) -> dict[str, float]:
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t
        return wrapper

    from rootaudit import demo
    from rootaudit.cli import main
    from rootaudit.render import pack

    stages["imports"] = time.perf_counter() - started
    sim_class = demo.SimulatedOrganization

    class TimedSimulation(sim_class):  # type: ignore[misc, valid-type]
        def __enter__(self) -> Any:
            t = time.perf_counter()
            try:
                return super().__enter__()
            finally:
                stages["simulation start"] = time.perf_counter() - t

    demo.SimulatedOrganization = TimedSimulation  # type: ignore[misc]
    demo.collect = timed("collect", demo.collect)
    demo.save_snapshot = timed("snapshot written", demo.save_snapshot)
    demo.evaluate = timed("evaluate", demo.evaluate)
    demo.write_pack = timed("pack", demo.write_pack)
    pack.render_pdf = timed("  PDF", pack.render_pdf)
    pack.render_xlsx = timed("  workbook", pack.render_xlsx)
    status = main(["demo", "--out", str(out), "--period", "2026-Q3", "--quiet"])
    stages["total"] = time.perf_counter() - started
    stages["exit status"] = float(status)
    return stages


HERE = Path(__file__).resolve().parents[1]  # this source tree


def _round(serial: bool, tree: Path = HERE) -> dict[str, float]:
    load = os.getloadavg()[0]  # other work on the machine, as the round starts
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        if serial:
            env["ROOTAUDIT_SERIAL_RENDER"] = "1"
        else:
            env.pop("ROOTAUDIT_SERIAL_RENDER", None)
        done = subprocess.run([sys.executable, __file__, "--one", tmp], capture_output=True, text=True,
                              env=env, check=True)
        stages: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        stages["load before"] = load
        return stages


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(Path(sys.argv[2]))))
        return
    compare = Path(sys.argv[sys.argv.index("--compare") + 1]).resolve() if "--compare" in sys.argv else None
    runs: dict[str, list[dict[str, float]]] = {"baseline (serial render)": [], "rootaudit demo": []}
    other = f"demo of {compare}" if compare else ""
    if compare:
        runs[other] = []
    for _ in range(ROUNDS):  # interleaved, so the machine's load falls on all alike
        runs["baseline (serial render)"].append(_round(serial=True))
        runs["rootaudit demo"].append(_round(serial=False))
        if compare:
            runs[other].append(_round(serial=False, tree=compare))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min) "
          f"on {os.cpu_count()} CPUs; best of {ROUNDS} rounds per stage\n")
    loads = [r.pop("load before") for rounds in runs.values() for r in rounds]
    print(f"load average (1 min) as each round started: {min(loads):.2f} to {max(loads):.2f}")
    names = list(runs["rootaudit demo"][0])
    print(f"| stage | {' | '.join(runs)} |")
    print("|---|" + "---:|" * len(runs))
    for name in names:
        cells = []
        for rounds in runs.values():
            value = min(r.get(name, 0.0) for r in rounds)
            cells.append(f"{value:.0f}" if name == "exit status" else f"{value:.2f} s")
        print(f"| {name} | {' | '.join(cells)} |")
    best = min(r["total"] for r in runs["rootaudit demo"])
    print(f"\ntarget: under {TARGET_SECONDS:g} s: {'met' if best < TARGET_SECONDS else 'NOT met'} "
          f"({best:.2f} s)")


if __name__ == "__main__":
    main()
