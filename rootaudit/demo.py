"""`rootaudit demo`: the whole pipeline against the simulated organization.

The simulation is served over HTTP on loopback and reached through `AWS_ENDPOINT_URL`, so collection
goes through boto3 and the real collectors exactly as it would against AWS; every number in the pack
comes from a response the collectors received. Only the inputs a person would write (session
justifications, risk acceptances) are made up, from the scenario, and the pack records them as inputs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail.discover import AUTO
from rootaudit.controls import evaluate
from rootaudit.controls.results import Results
from rootaudit.period import Period
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.simulate import SimulatedOrganization, build_scenario
from rootaudit.simulate.demo_inputs import write_demo_inputs
from rootaudit.simulate.scenario import Scenario
from rootaudit.snapshot import Snapshot, save_snapshot

log = logging.getLogger(__name__)


def collect_scenario(scenario: Scenario) -> Snapshot:
    """Serve the scenario's organization and collect it as `rootaudit run` would."""
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        trail = scenario.trail
        # `auto`, the default of `rootaudit run`: the organization trail is found with DescribeTrails
        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions), cloudtrail=AUTO,
                                   fallback_role=scenario.audit_role_name)
        ctx = AwsContext(AwsSettings(region=trail.home_region))
        return collect(ctx, settings)


def run_demo(accounts: int, seed: int, out: Path, period: Period) -> tuple[PackPaths, Results]:
    scenario = build_scenario(accounts=accounts, seed=seed, period=period)
    snapshot = collect_scenario(scenario)
    out.mkdir(parents=True, exist_ok=True)
    save_snapshot(snapshot, out / "snapshot")
    inputs = write_demo_inputs(scenario, out / "inputs")
    results = evaluate(snapshot, exceptions_path=inputs.exceptions, justifications_path=inputs.justifications)
    paths = write_pack(snapshot, results, out, replace=True)
    return paths, results
