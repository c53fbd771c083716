"""The inputs a person would write for the demo: session justifications and risk acceptances.

They are not evidence (nothing here is read from AWS); they stand for the change tickets and risk
register an organization keeps. Made from the scenario so that the demo shows each case: justified
sessions and one left unjustified, an active risk acceptance and an expired one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from rootaudit.simulate import events
from rootaudit.simulate.scenario import Scenario
from rootaudit.snapshot import utc_iso


@dataclass(frozen=True)
class DemoInputs:
    exceptions: Path
    justifications: Path


def justifications(scenario: Scenario) -> list[dict[str, Any]]:
    """Every AssumeRoot call of the period justified by its event id, except the last one."""
    calls = sorted((e for e in scenario.in_period() if isinstance(e, events.AssumeRootCall)),
                   key=lambda e: e.time)
    entries = []
    for n, call in enumerate(calls[:-1], start=1):
        task = call.task_policy_arn.rsplit("/", 1)[-1]
        entries.append({"id": f"J-DEMO-{n:03d}", "ticket": f"CHG-{4400 + n}",
                        "approver": "head-of-platform@example.com",
                        "reason": f"{task} in {scenario.account(call.target_account).name}",
                        "event_id": call.event_id})
    return entries


def exceptions(scenario: Scenario) -> list[dict[str, Any]]:
    """An active acceptance for the account holding only an inactive root key, and an expired one for
    the account whose root still has a signing certificate."""
    collected = scenario.period.end
    out: list[dict[str, Any]] = []
    kinds = scenario.kinds()
    if "inactive_root_key" in kinds:
        out.append({"id": "RISK-DEMO-1", "account": scenario.by_kind("inactive_root_key").account_id,
                    "control": "cis-aws-7.0.0:2.4",
                    "reason": "Inactive root key kept until the vendor integration that used it is retired.",
                    "owner": "data-platform@example.com", "approver": "ciso@example.com",
                    "ticket": "RISK-201", "expires": (collected + timedelta(days=365)).date().isoformat()})
    if "signing_certificate" in kinds:
        out.append({"id": "RISK-DEMO-2", "account": scenario.by_kind("signing_certificate").account_id,
                    "reason": "Mainframe bridge certificate accepted until its migration (expired).",
                    "owner": "mainframe@example.com", "approver": "ciso@example.com",
                    "ticket": "RISK-117", "expires": utc_iso(scenario.period.start - timedelta(days=30))})
    return out


def write_demo_inputs(scenario: Scenario, folder: Path,
                      exception_entries: list[dict[str, Any]] | None = None) -> DemoInputs:
    """The two files; `exception_entries` replace the scenario's own risk acceptances when given (the
    demo's earlier period keeps the register as the later one has it, plus the acceptance withdrawn since)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = DemoInputs(exceptions=folder / "exceptions.yaml", justifications=folder / "justifications.yaml")
    header = "# Made by `rootaudit demo` from the simulated scenario: an example of what you would write.\n"
    register = exceptions(scenario) if exception_entries is None else exception_entries
    for path, key, entries in ((paths.exceptions, "exceptions", register),
                               (paths.justifications, "justifications", justifications(scenario))):
        path.write_text(header + yaml.safe_dump({key: entries}, sort_keys=False), encoding="utf-8")
    return paths
