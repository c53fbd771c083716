"""The reliability suite's fixtures: the whole pipeline (collect → evaluate → pack) on the simulated
organization in server mode, its outputs read back as an auditor would (PDF text, workbook cells), and
the counts that `pytest -m reliability` prints at the end (cases, inputs fuzzed, secrets scanned)."""

from __future__ import annotations

import io
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.controls import evaluate, exit_status
from rootaudit.controls.results import Results
from rootaudit.period import Period, parse_period
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.snapshot import Snapshot, save_snapshot

# Two frameworks between them map every signal (CIS 7.0.0 and NIST 800-53, which adds CloudTrail
# coverage and pack integrity); rendering all sixteen would triple each case's time and prove nothing more.
FRAMEWORKS = ["cis-aws-7.0.0", "nist-800-53-r5"]
ACCOUNTS = 16
SEED = 7
PERIOD = "2026-Q3"

# What `pytest -m reliability` reports at the end; the tests add to it as they run.
TALLY: dict[str, int] = {"cases": 0, "inputs_fuzzed": 0, "secrets_scanned": 0, "files_scanned": 0}


def squash(text: str) -> str:
    """Whitespace folded to single spaces: the PDF's text wraps lines anywhere."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Outcome:
    """One run of the pipeline and what it left on disk."""

    snapshot: Snapshot
    results: Results
    status: int
    paths: PackPaths | None

    @property
    def control_results(self) -> pd.DataFrame:
        return self.results.control_results

    def statuses(self, account_id: str | None) -> dict[tuple[str, str], str]:
        """(framework, control id) -> status for one account, or the organization (None)."""
        cr = self.control_results
        rows = cr[cr["account_id"].isna()] if account_id is None else cr[cr["account_id"] == account_id]
        return {(r.framework, r.control_id): str(r.status) for r in rows.itertuples()}

    def per_account(self, exclude: set[str]) -> pd.DataFrame:
        """Every account-level result except those of `exclude`, in a stable order."""
        cr = self.control_results
        keep = cr[cr["account_id"].notna() & ~cr["account_id"].isin(exclude)]
        cols = ["framework", "control_id", "account_id", "status", "exception_status"]
        return keep[cols].sort_values(cols[:3]).reset_index(drop=True)

    def root_row(self, account_id: str) -> dict[str, Any]:
        rc = self.snapshot["root_credentials"].set_index("account_id", drop=False)
        return rc.loc[account_id].to_dict()

    @cached_property
    def pdf_text(self) -> str:
        from pypdf import PdfReader

        assert self.paths is not None, "this run rendered no pack"
        reader = PdfReader(self.paths.folder / "evidence.pdf")
        return squash(" ".join(page.extract_text() or "" for page in reader.pages))

    @cached_property
    def workbook_cells(self) -> list[str]:
        """Every non-empty cell of every sheet, as text."""
        from openpyxl import load_workbook

        assert self.paths is not None, "this run rendered no pack"
        data = (self.paths.folder / "evidence.xlsx").read_bytes()
        wb = load_workbook(io.BytesIO(data), read_only=True)
        cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                 for v in row if v is not None]
        wb.close()
        return cells

    @cached_property
    def _pdf_dense(self) -> str:
        return re.sub(r"\s+", "", self.pdf_text)

    def in_pdf(self, fragment: str) -> bool:
        """Whether the PDF's text shows `fragment`; spaces are ignored, as the PDF breaks lines (and long
        words) wherever the column ends."""
        return re.sub(r"\s+", "", fragment) in self._pdf_dense

    def in_workbook(self, fragment: str) -> bool:
        return any(fragment in cell for cell in self.workbook_cells)


@dataclass
class Pipeline:
    """Runs collect → evaluate → write_pack against an open simulation, each run in a new folder."""

    sim: Any
    root: Path
    runs: int = 0
    period: Period = field(default_factory=lambda: parse_period(PERIOD))

    def settings(self, **changes: Any) -> CollectSettings:
        s = self.sim.scenario
        values: dict[str, Any] = {
            "period": self.period, "regions": list(s.regions),
            "cloudtrail": f"s3://{s.trail.bucket}/{s.trail.prefix}", "fallback_role": s.audit_role_name,
            "workers": 8, "report_wait_seconds": 20.0, "account_timeout_seconds": 30.0}
        values.update(changes)
        return CollectSettings(**values)

    def collect(self, max_attempts: int = 4, read_timeout: float = 5.0, **changes: Any) -> Snapshot:
        with self.sim.environ():
            ctx = AwsContext(AwsSettings(region=self.sim.scenario.region, max_attempts=max_attempts,
                                         read_timeout=read_timeout, connect_timeout=2.0))
            return collect(ctx, self.settings(**changes))

    def run(self, render: bool = True, **changes: Any) -> Outcome:
        snapshot = self.collect(**changes)
        return self.report(snapshot, render=render)

    def report(self, snapshot: Snapshot, render: bool = True) -> Outcome:
        self.runs += 1
        out = self.root / f"run-{self.runs}"
        save_snapshot(snapshot, out / "snapshot")
        results = evaluate(snapshot, frameworks=FRAMEWORKS)
        paths = write_pack(snapshot, results, out) if render else None
        return Outcome(snapshot, results, int(exit_status(results)), paths)


def reliability_scenario(accounts: int = ACCOUNTS, seed: int = SEED) -> Any:
    """The suite's organization: every special case, four clean accounts, the last of them CLOSED
    (no session of the seeded history targets it)."""
    from rootaudit.simulate import build_scenario

    scenario = build_scenario(accounts, seed=seed, period=parse_period(PERIOD))
    clean = [a for a in scenario.members() if a.kind == "clean"]
    clean[-1].state = "CLOSED"
    return scenario


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="module")
def organization() -> Iterator[Any]:
    """One simulated organization (server mode) per module; tests add faults and the `faults` fixture
    takes them away again."""
    from rootaudit.simulate import SimulatedOrganization

    with SimulatedOrganization(reliability_scenario(), mode="server") as sim:
        yield sim


@pytest.fixture(scope="module")
def pipeline(organization: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    root = tmp_path_factory.mktemp("packs")
    yield Pipeline(organization, root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def baseline(pipeline: Pipeline) -> Outcome:
    """The fault-free run of the module's organization, every case is compared with."""
    return pipeline.run()


@pytest.fixture
def faults(organization: Any) -> Iterator[Any]:
    yield organization.faults
    organization.reset_faults()


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """This test's counts. They travel on its report (user_properties), so the summary adds them up in the
    process that prints it, with or without pytest-xdist's workers."""
    counts: dict[str, int] = defaultdict(int)
    yield counts
    request.node.user_properties.append(("reliability_tally", dict(counts)))


@pytest.fixture
def others_unchanged() -> Callable[[Outcome, Outcome, set[str]], None]:
    def check(run: Outcome, base: Outcome, affected: set[str]) -> None:
        pd.testing.assert_frame_equal(run.per_account(affected), base.per_account(affected),
                                      obj=f"results of the accounts other than {sorted(affected)}")
        assert set(run.control_results["account_id"].dropna()) == set(base.control_results["account_id"]
                                                                       .dropna())

    return check


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and "::test_case_" in report.nodeid:
        TALLY["cases"] += 1
    if report.when == "teardown":
        for name, counts in report.user_properties:
            if name == "reliability_tally":
                for key, n in counts.items():
                    TALLY[key] = TALLY.get(key, 0) + n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(TALLY.values()):
        return
    terminalreporter.write_sep("-", "reliability")
    terminalreporter.write_line(
        f"fault cases passed: {TALLY['cases']}; inputs fuzzed: {TALLY['inputs_fuzzed']}; "
        f"secrets scanned for: {TALLY['secrets_scanned']} across {TALLY['files_scanned']} files and logs")
