"""The simulated AWS Organization: moto plus the project's own extensions, seeded from a scenario.

Public API: `build_scenario`, `Scenario` and its parts, `SimulatedOrganization`.
"""

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
