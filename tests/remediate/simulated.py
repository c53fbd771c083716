"""Helpers for the remediation tests on the simulated organization: collect a snapshot through the real
collectors, make the plan, and look at the simulation's live state and event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rootaudit import resources
from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.period import Period, parse_period
from rootaudit.remediate.plan import Plan, make_plan
from rootaudit.simulate import SimulatedOrganization, build_scenario
from rootaudit.simulate import events as sim_events
from rootaudit.snapshot import Snapshot

PERIOD = parse_period("2026-Q3")
PROD = "Root/Workloads/Prod"
NONPROD = "Root/Workloads/NonProd"


def open_sim(mode: str = "server", **changes: Any) -> SimulatedOrganization:
    """The 14-account scenario of seed 7 (changes: scenario fields, e.g. features=())."""
    scenario = build_scenario(14, seed=7, period=PERIOD)
    for name, value in changes.items():
        setattr(scenario, name, value)
    return SimulatedOrganization(scenario, mode=mode)  # type: ignore[arg-type]


def collect_snapshot(sim: SimulatedOrganization, period: Period = PERIOD,
                     cloudtrail: str | None = None) -> Snapshot:
    """A whole collection, as `rootaudit collect` makes it: the organization trail by default."""
    trail = sim.scenario.trail
    settings = CollectSettings(period=period, regions=list(sim.scenario.regions),
                               cloudtrail=cloudtrail or f"s3://{trail.bucket}/{trail.prefix}",
                               fallback_role=sim.scenario.audit_role_name, workers=4)
    with sim.environ():
        return collect(AwsContext(AwsSettings(region=trail.home_region), session=sim.session()), settings)


def since(start: datetime) -> Period:
    """A period from `start` to now: what happened during a test, which LookupEvents answers for. Its end
    is a whole second, as the snapshot records it: an end with a fraction would be cut to the second in
    snapshot.json, and verify, re-deriving with the period recorded, would leave out the events of the
    collection's last second (which made this test fail whenever an event fell in it)."""
    end = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    return Period("remediation-check", start, end)


def plan_of(snapshot: Snapshot) -> Plan:
    return make_plan(snapshot, frameworks=parse_frameworks(read_mapping_files([resources.mappings_dir()])))


def write_plan(plan: Plan, folder: Path) -> Path:
    path = folder / "plan.json"
    path.write_bytes(plan.to_json())
    return path


def root_states(sim: SimulatedOrganization) -> dict[str, Any]:
    """Every account's live root state, comparable."""
    return {aid: vars(sim.root_state(aid)) | {
        "access_keys": [vars(k) for k in sim.root_state(aid).access_keys],
        "certificates": [vars(c) for c in sim.root_state(aid).certificates]}
        for aid in sim.scenario.accounts}


@dataclass
class LiveEvents:
    """The AssumeRoot calls and root-session actions the simulation logged after `mark`."""

    assume_root: list[sim_events.AssumeRootCall]
    actions: list[sim_events.RootSessionAction]

    @classmethod
    def after(cls, mark: int) -> LiveEvents:
        new = sim_events.EVENT_LOG.events()[mark:]
        return cls([e for e in new if isinstance(e, sim_events.AssumeRootCall)],
                   [e for e in new if isinstance(e, sim_events.RootSessionAction)])


def event_mark() -> int:
    return len(sim_events.EVENT_LOG.events())
