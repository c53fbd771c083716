"""Fixtures for the collect tests: running both collectors on a simulated organization, and the rows the
scenario's seeded root states should give under each method."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from rootaudit.aws import AwsContext, AwsSettings, Credentials
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.organization import collect_organization
from rootaudit.collectors.root_credentials import collect_root_credentials
from rootaudit.period import parse_period
from rootaudit.snapshot import make_frame, utc_iso

# The columns that describe the root user's state (not when or how it was read).
STATE_COLUMNS = [
    "account_id",
    "assessment",
    "method",
    "password_present",
    "access_keys_active",
    "access_keys_inactive",
    "signing_certificates_active",
    "signing_certificates_inactive",
    "mfa_devices",
    "mfa_kind",
    "password_last_used",
    "access_key_last_used",
]


class CapturingContext(AwsContext):
    """An AwsContext that remembers every session credential it obtained, to search outputs for secrets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issued: list[Credentials] = []

    def assume_root(self, *args: Any, **kwargs: Any) -> Credentials:
        creds = super().assume_root(*args, **kwargs)
        self.issued.append(creds)
        return creds

    def assume_role(self, *args: Any, **kwargs: Any) -> Credentials:
        creds = super().assume_role(*args, **kwargs)
        self.issued.append(creds)
        return creds


@dataclass
class Run:
    ctx: CapturingContext
    org: Collected
    creds: Collected

    @property
    def rows(self) -> pd.DataFrame:
        return self.creds.frames["root_credentials"].set_index("account_id", drop=False)

    def row(self, account_id: str) -> dict[str, Any]:
        return self.rows.loc[account_id].to_dict()

    def items(self, account_id: str) -> pd.DataFrame:
        items = self.creds.frames["root_credential_items"]
        return items[items["account_id"] == account_id].reset_index(drop=True)


def collect_on(
    sim: Any,
    *,
    fallback_role: str | None = None,
    workers: int = 4,
    timeout: float = 60.0,
    report_wait: float = 20.0,  # a wait, not a budget under test: generous, so a busy machine never hits it
    read_timeout: float = 10.0,
    max_attempts: int = 8,
    budget_clock: Any = None,
) -> Run:
    """Both collectors against the simulation, as the collect stage runs them."""
    settings = CollectSettings(
        period=sim.scenario.period,
        workers=workers,
        fallback_role=sim.scenario.audit_role_name if fallback_role is None else fallback_role,
        report_wait_seconds=report_wait,
        account_timeout_seconds=timeout,
        budget_clock=budget_clock,
    )
    with sim.environ():
        ctx = CapturingContext(
            AwsSettings(region=sim.scenario.region, read_timeout=read_timeout, max_attempts=max_attempts),
            session=sim.session(),
        )
        org = collect_organization(ctx, workers=workers)
        creds = collect_root_credentials(
            ctx, org.frames["accounts"], org.frames["organization"], settings, poll_seconds=0.1
        )
    return Run(ctx, org, creds)


def _iso(value: datetime | None) -> str | None:
    return utc_iso(value) if value else None


def expected(spec: Any, method: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The row and items the seeded root state should give when read by `method`."""
    root = spec.root
    keys = sorted(root.access_keys, key=lambda k: k.created)
    certs = sorted(root.certificates, key=lambda c: c.uploaded)
    used = [k.last_used for k in keys if k.last_used]
    row = {
        "account_id": spec.account_id,
        "assessment": "assessed",
        "method": method,
        "password_present": root.password,
        "access_keys_active": sum(k.status == "Active" for k in keys),
        "access_keys_inactive": sum(k.status != "Active" for k in keys),
        "signing_certificates_active": sum(c.status == "Active" for c in certs),
        "signing_certificates_inactive": sum(c.status != "Active" for c in certs),
        "mfa_devices": int(root.mfa != "none"),
        "mfa_kind": root.mfa,
        "password_last_used": _iso(root.password_last_used),
        "access_key_last_used": _iso(max(used)) if used else None,
    }
    items: list[dict[str, Any]] = []
    by_session = method == "assume_root_audit"
    if root.password:
        items.append(
            {
                "kind": "password",
                "id": "root",
                "status": "present",
                "created_at": _iso(root.password_created) if by_session else None,
                "last_used_at": _iso(root.password_last_used),
            }
        )
    for n, key in enumerate(keys, start=1):
        items.append(
            {
                "kind": "access_key",
                "id": key.key_id if by_session else f"access_key_{n}",
                "status": key.status,
                "created_at": _iso(key.created),
                "last_used_at": _iso(key.last_used),
                "last_used_service": key.last_used_service or None if key.last_used else None,
            }
        )
    for n, cert in enumerate(certs, start=1):
        items.append(
            {
                "kind": "signing_certificate",
                "id": cert.certificate_id if by_session else f"cert_{n}",
                "status": cert.status,
                "created_at": _iso(cert.uploaded),
            }
        )
    if root.mfa != "none":
        hardware_by_report = root.mfa == "hardware" and not by_session
        items.append(
            {
                "kind": "mfa_device",
                "id": "hardware" if hardware_by_report else root.mfa_serial,
                "status": "present",
                "created_at": None if hardware_by_report else _iso(root.mfa_enabled_at),
            }
        )
    return row, [{"account_id": spec.account_id, **i} for i in items]


def state_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[STATE_COLUMNS].reset_index(drop=True)


def assert_matches_seed(run: Run, spec: Any, method: str) -> None:
    want_row, want_items = expected(spec, method)
    got = state_of(make_frame("root_credentials", [run.row(spec.account_id)]))
    pd.testing.assert_frame_equal(
        got, state_of(make_frame("root_credentials", [want_row])), obj=f"{spec.kind} {spec.account_id}"
    )
    pd.testing.assert_frame_equal(
        run.items(spec.account_id),
        make_frame("root_credential_items", want_items),
        obj=f"{spec.kind} {spec.account_id} items",
    )


@pytest.fixture
def simulated() -> Callable[..., Any]:
    """Opens a simulated organization: `with simulated(accounts, mode=..., **scenario changes) as sim`."""
    from rootaudit.simulate.organization import SimulatedOrganization
    from rootaudit.simulate.scenario import build_scenario

    def open_sim(accounts: int = 14, mode: str = "server", seed: int = 7, **changes: Any) -> Any:
        scenario = build_scenario(accounts, seed=seed, period=parse_period("2026-Q3"))
        for name, value in changes.items():
            setattr(scenario, name, value)
        return SimulatedOrganization(scenario, mode=mode)  # type: ignore[arg-type]

    return open_sim


@pytest.fixture
def collect() -> Callable[..., Run]:
    return collect_on


@pytest.fixture
def matches_seed() -> Callable[[Run, Any, str], None]:
    return assert_matches_seed


@pytest.fixture
def state() -> Callable[[pd.DataFrame], pd.DataFrame]:
    return state_of


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def baseline() -> Run:
    """One clean collection of the 14-account scenario (seed 7), shared by the tests that compare to it."""
    from rootaudit.simulate.organization import SimulatedOrganization
    from rootaudit.simulate.scenario import build_scenario

    with SimulatedOrganization(
        build_scenario(14, seed=7, period=parse_period("2026-Q3")), mode="server"
    ) as sim:
        run = collect_on(sim)
    run.scenario = sim.scenario  # type: ignore[attr-defined]
    return run
