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
from rootaudit.signing import sign_snapshot_folder
from rootaudit.signing.kms import KmsSigner
from rootaudit.simulate import SimulatedOrganization, build_scenario
from rootaudit.simulate.demo_inputs import write_demo_inputs
from rootaudit.simulate.scenario import Scenario
from rootaudit.snapshot import Snapshot, save_snapshot

log = logging.getLogger(__name__)


DEMO_PUBLIC_KEY = "signing-key.pub.pem"


def _collect(scenario: Scenario) -> Snapshot:
    # `auto`, the default of `rootaudit run`: the organization trail is found with DescribeTrails
    settings = CollectSettings(period=scenario.period, regions=list(scenario.regions), cloudtrail=AUTO,
                               fallback_role=scenario.audit_role_name)
    return collect(AwsContext(AwsSettings(region=scenario.trail.home_region)), settings)


def collect_scenario(scenario: Scenario) -> Snapshot:
    """Serve the scenario's organization and collect it as `rootaudit run` would."""
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        return _collect(scenario)


def _signing_key(sim: SimulatedOrganization, folder: Path) -> KmsSigner:
    """The simulated organization's KMS signing key; its public key is written beside the pack, as the
    key's owner would hand it to the auditor."""
    signer = KmsSigner(sim.create_signing_key(region=sim.scenario.trail.home_region))
    signer.prepare()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_PUBLIC_KEY).write_text(signer.public_key, encoding="ascii")
    return signer


def run_demo(accounts: int, seed: int, out: Path, period: Period) -> tuple[PackPaths, Results]:
    """Collect the simulated organization, sign the snapshot with its KMS key as `run --sign-with` does,
    and write the pack; `<out>/signing-key.pub.pem` is the key `verify --public-key` checks it with."""
    scenario = build_scenario(accounts=accounts, seed=seed, period=period)
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        signer = _signing_key(sim, out)
        snapshot = _collect(scenario)
        out.mkdir(parents=True, exist_ok=True)
        save_snapshot(snapshot, out / "snapshot")
        sign_snapshot_folder(out / "snapshot", snapshot, signer)
    inputs = write_demo_inputs(scenario, out / "inputs")
    results = evaluate(snapshot, exceptions_path=inputs.exceptions, justifications_path=inputs.justifications)
    paths = write_pack(snapshot, results, out, replace=True)
    return paths, results
