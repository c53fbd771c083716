"""`rootaudit demo`: the whole pipeline against the simulated organization, for two consecutive periods.

The simulation is served over HTTP on loopback and reached through `AWS_ENDPOINT_URL`, so collection
goes through boto3 and the real collectors exactly as it would against AWS; every number in the pack
comes from a response the collectors received. Only the inputs a person would write (session
justifications, risk acceptances) are made up, from the scenario, and the pack records them as inputs.

The period before the one asked for is collected and packed first, then the period itself: both packs are
recorded in the demo's history (rootaudit-history.sqlite in --out), so the second pack shows what changed
since the first and the trend of its headline, and `rootaudit history` and `rootaudit diff` have two packs
to show (`rootaudit.simulate.quarters` says what changes between them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail.discover import AUTO
from rootaudit.controls import evaluate
from rootaudit.controls.results import Results
from rootaudit.history.pack_view import history_view
from rootaudit.history.recorder import record_pack
from rootaudit.history.store import DEFAULT_NAME, HistoryStore
from rootaudit.period import Period
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.simulate import SimulatedOrganization
from rootaudit.simulate.demo_inputs import exceptions, write_demo_inputs
from rootaudit.simulate.quarters import two_quarters
from rootaudit.simulate.scenario import Scenario
from rootaudit.snapshot import Snapshot, save_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoRun:
    paths: PackPaths  # the pack of the period asked for
    results: Results
    earlier: PackPaths  # the pack of the period before
    history: Path


def collect_scenario(scenario: Scenario) -> Snapshot:
    """Serve the scenario's organization and collect it as `rootaudit run` would."""
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        trail = scenario.trail
        # `auto`, the default of `rootaudit run`: the organization trail is found with DescribeTrails
        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions), cloudtrail=AUTO,
                                   fallback_role=scenario.audit_role_name)
        ctx = AwsContext(AwsSettings(region=trail.home_region))
        return collect(ctx, settings)


def _one_period(scenario: Scenario, label: str, out: Path, store: HistoryStore,
                exception_entries: list[dict[str, Any]] | None) -> tuple[PackPaths, Results]:
    snapshot = collect_scenario(scenario)
    save_snapshot(snapshot, out / f"snapshot{label}")
    inputs = write_demo_inputs(scenario, out / f"inputs{label}", exception_entries)
    results = evaluate(snapshot, exceptions_path=inputs.exceptions, justifications_path=inputs.justifications)
    view = history_view(store, snapshot, results.control_results, results.exceptions)
    paths = write_pack(snapshot, results, out, replace=True, history=view)
    record_pack(store, paths.folder)
    return paths, results


def run_demo(accounts: int, seed: int, out: Path, period: Period) -> DemoRun:
    quarters = two_quarters(accounts=accounts, seed=seed, period=period)
    out.mkdir(parents=True, exist_ok=True)
    history = out / DEFAULT_NAME
    # The demo replaces its packs, and so its history: a rootaudit history there is started again (any
    # other file is refused by the store, unchanged).
    HistoryStore.open(history).close()
    history.unlink()
    with HistoryStore.open(history) as store:
        register = exceptions(quarters.later) + quarters.earlier_exceptions()
        earlier, _ = _one_period(quarters.earlier, f"-{quarters.earlier.period.label}", out, store, register)
        paths, results = _one_period(quarters.later, "", out, store, None)
    return DemoRun(paths=paths, results=results, earlier=earlier, history=history)
