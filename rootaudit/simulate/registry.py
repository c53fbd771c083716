"""The simulation's live state that moto itself has no place for.

moto's backends are one per process, so is this registry: root credential states per account, the
root sessions handed out by AssumeRoot, the IAM organization features, and the scenario's refusals and
backend-level faults. `SimulatedOrganization` resets it on entry and exit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from rootaudit.simulate.rootstate import RootState
from rootaudit.simulate.taskpolicies import TaskPolicy


@dataclass
class RootSession:
    """Credentials from one successful AssumeRoot: they act as `account_id`'s root user."""

    access_key_id: str
    account_id: str
    task: TaskPolicy
    expiration: datetime
    caller_account: str
    caller_arn: str
    # The secret parts handed out, kept only so that tests can search outputs for them.
    secret_access_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)


@dataclass
class SimRegistry:
    lock: threading.RLock = field(default_factory=threading.RLock)
    root_states: dict[str, RootState] = field(default_factory=dict)
    root_sessions: dict[str, RootSession] = field(default_factory=dict)
    # Long-term root access keys (AKIA…) that can sign requests: key id -> account id.
    root_keys: dict[str, str] = field(default_factory=dict)
    # IAM organization features enabled, per organization id.
    features: dict[str, set[str]] = field(default_factory=dict)
    # Refusals that stand for SCPs or missing trust in the member (scenario-declared).
    assume_root_refused: set[str] = field(default_factory=set)
    assume_role_refused: set[str] = field(default_factory=set)
    # Credential reports: when each account's report was generated; accounts whose report never completes.
    reports_generated: dict[str, datetime] = field(default_factory=dict)
    report_stuck: set[str] = field(default_factory=set)
    # Sessions given a SourceIdentity (AssumeRole's parameter): access key id -> source identity. AssumeRoot
    # returns one only when its caller's session has one.
    source_identities: dict[str, str] = field(default_factory=dict)
    # Whether a task policy's feature must be enabled for AssumeRoot (a setting: AWS does not document it).
    require_task_feature: bool = True
    # Account id -> name of the run's AssumeRoot caller region etc. could go here; kept minimal.

    def reset(self) -> None:
        with self.lock:
            self.root_states.clear()
            self.root_sessions.clear()
            self.root_keys.clear()
            self.features.clear()
            self.assume_root_refused.clear()
            self.assume_role_refused.clear()
            self.reports_generated.clear()
            self.report_stuck.clear()
            self.source_identities.clear()
            self.require_task_feature = True

    def root_state(self, account_id: str, created: datetime | None = None) -> RootState:
        """The account's live root state; an account the scenario never described has no credentials."""
        with self.lock:
            state = self.root_states.get(account_id)
            if state is None:
                from datetime import UTC
                state = RootState(account_id=account_id, created=created or datetime.now(UTC))
                self.root_states[account_id] = state
            return state


REGISTRY = SimRegistry()
