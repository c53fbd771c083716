"""The simulated AWS Organization: moto plus the project's own extensions, seeded from a scenario.

Public API: `build_scenario`, `Scenario` and its parts (`AccountSpec`, `TrailSpec`, `RootState`,
`RootAccessKey`, `RootSigningCertificate`), `SimulatedOrganization` and its `FaultPlan`.

Names are imported lazily, so `rootaudit.simulate.events` (plain dataclasses) can be imported without
moto installed; moto is needed only once the simulation itself is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FaultPlan": "rootaudit.simulate.faults",
    "Rule": "rootaudit.simulate.faults",
    "ACCESS_KEY_ID": "rootaudit.simulate.organization",
    "SECRET_ACCESS_KEY": "rootaudit.simulate.organization",
    "SimulatedOrganization": "rootaudit.simulate.organization",
    "RootAccessKey": "rootaudit.simulate.rootstate",
    "RootSigningCertificate": "rootaudit.simulate.rootstate",
    "RootState": "rootaudit.simulate.rootstate",
    "AUDIT_ROLE_NAME": "rootaudit.simulate.scenario",
    "MANAGEMENT_ACCOUNT_ID": "rootaudit.simulate.scenario",
    "SPECIAL_KINDS": "rootaudit.simulate.scenario",
    "AccountSpec": "rootaudit.simulate.scenario",
    "Scenario": "rootaudit.simulate.scenario",
    "TrailSpec": "rootaudit.simulate.scenario",
    "build_scenario": "rootaudit.simulate.scenario",
    "TASK_NAMES": "rootaudit.simulate.taskpolicies",
    "TASK_POLICY_PREFIX": "rootaudit.simulate.taskpolicies",
}

__all__ = [
    "ACCESS_KEY_ID",
    "AUDIT_ROLE_NAME",
    "MANAGEMENT_ACCOUNT_ID",
    "SECRET_ACCESS_KEY",
    "SPECIAL_KINDS",
    "TASK_NAMES",
    "TASK_POLICY_PREFIX",
    "AccountSpec",
    "FaultPlan",
    "RootAccessKey",
    "RootSigningCertificate",
    "RootState",
    "Rule",
    "Scenario",
    "SimulatedOrganization",
    "TrailSpec",
    "build_scenario",
]

if TYPE_CHECKING:
    from rootaudit.simulate.faults import FaultPlan, Rule
    from rootaudit.simulate.organization import ACCESS_KEY_ID, SECRET_ACCESS_KEY, SimulatedOrganization
    from rootaudit.simulate.rootstate import RootAccessKey, RootSigningCertificate, RootState
    from rootaudit.simulate.scenario import (
        AUDIT_ROLE_NAME,
        MANAGEMENT_ACCOUNT_ID,
        SPECIAL_KINDS,
        AccountSpec,
        Scenario,
        TrailSpec,
        build_scenario,
    )
    from rootaudit.simulate.taskpolicies import TASK_NAMES, TASK_POLICY_PREFIX


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rootaudit.simulate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
