"""Guarded removal on the simulated organization (in process): an account changed since the plan is
skipped and reported, a refused AssumeRoot or a failed delete stops the run naming the account and
touching nothing after it, the management account and another organization are refused, and the
record's call log holds nothing outside the two allowlists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rootaudit.aws import AwsSettings
from rootaudit.readonly import READ_ONLY
from rootaudit.remediate import apply
from rootaudit.remediate.allowlist import CREDENTIAL_REMOVAL, DELETE_TASK_POLICY
from rootaudit.remediate.plan import Plan, load_plan
from rootaudit.remediate.run import apply_plan, contexts
from rootaudit.simulate.registry import REGISTRY
from rootaudit.simulate.sessions import root_session
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX
from tests.remediate.simulated import (
    NONPROD,
    PROD,
    LiveEvents,
    collect_snapshot,
    event_mark,
    open_sim,
    plan_of,
    root_states,
    write_plan,
)

CHANGE = {"ticket": "CHG-1", "approved_by": "cab@example.com"}


@pytest.fixture(scope="module")
def plan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One plan for the whole module: every fresh simulation of the seed is the same organization."""
    with open_sim("inprocess") as sim:
        return write_plan(plan_of(collect_snapshot(sim)), tmp_path_factory.mktemp("plan"))


@pytest.fixture
def sim() -> Iterator[Any]:
    with open_sim("inprocess") as opened:
        yield opened


def run(sim: Any, plan_path: Path, phase: str | None = None, accounts: list[str] | None = None) -> Any:
    plan = load_plan(plan_path)
    chosen = apply.select_accounts(plan, phase, accounts)
    with sim.environ():
        return apply_plan(plan, plan_path, chosen, CHANGE, {"phase": phase, "accounts": accounts},
                          AwsSettings(region=sim.scenario.region), session=sim.session())


def prod(plan_path: Path) -> list[str]:
    return [a["account_id"] for a in apply.select_accounts(load_plan(plan_path), PROD)]


def test_an_account_changed_since_the_plan_is_skipped_and_reported(sim: Any, plan_path: Path) -> None:
    changed, other = prod(plan_path)
    # Someone recovers the root password of `changed` after the plan was made.
    recovery = root_session(sim, changed, TASK_POLICY_PREFIX + "IAMCreateRootUserPassword")
    iam = sim.client("iam", session=recovery)
    iam.create_login_profile()  # in a root session the password is omitted: recovery sets it
    before = root_states(sim)
    result = run(sim, plan_path, PROD)
    assert result.exit_status == 1 and result.record["outcome"] == "completed_with_skips"
    entries = {a["account_id"]: a for a in result.record["accounts"]}
    assert entries[changed]["status"] == "skipped_changed"
    assert "password root is new" in entries[changed]["reason"]
    assert [s["purpose"] for s in entries[changed]["sessions"]] == ["read_before"]
    assert not any(c["operation"].startswith(("Delete", "Deactivate")) for c in entries[changed]["calls"])
    assert root_states(sim)[changed] == before[changed]  # nothing was removed from it
    assert entries[other]["status"] == "remediated" and not sim.root_state(other).has_credentials
    assert result.record["counts"] == {"remediated": 1, "skipped_changed": 1, "failed": 0, "not_attempted": 0}


def test_a_key_used_since_the_plan_is_a_change(sim: Any, plan_path: Path) -> None:
    (account,) = [a["account_id"] for a in apply.select_accounts(load_plan(plan_path), NONPROD)]
    with REGISTRY.lock:  # the owner signs a request with the key: AWS records its last use
        REGISTRY.root_state(account).access_keys[0].last_used = datetime.now(UTC).replace(microsecond=0)
    result = run(sim, plan_path, accounts=[account])
    (entry,) = result.record["accounts"]
    assert entry["status"] == "skipped_changed" and "last_used_at was 2025-" in entry["reason"]
    assert sim.root_state(account).access_keys, "the key the owner still uses is kept"


def test_a_refused_assume_root_stops_the_run_and_changes_nothing(sim: Any, plan_path: Path) -> None:
    first, second = prod(plan_path)
    sim.faults.deny_assume_root(first)
    before, mark = root_states(sim), event_mark()
    result = run(sim, plan_path, PROD)
    assert result.exit_status == 2 and result.record["outcome"] == "stopped"
    entries = {a["account_id"]: a for a in result.record["accounts"]}
    assert entries[first]["status"] == "failed"
    assert "re-reading its root credentials" in entries[first]["reason"]
    assert "AccessDenied" in entries[first]["reason"] and "sts:AssumeRoot" in entries[first]["reason"]
    assert entries[second]["status"] == "not_attempted" and entries[second]["calls"] == []
    assert root_states(sim) == before
    live = LiveEvents.after(mark)
    assert {e.target_account for e in live.assume_root} == {first} and live.actions == []
    assert all(e.error_code == "AccessDenied" for e in live.assume_root)


def test_management_account_and_another_organization_are_refused(sim: Any, plan_path: Path) -> None:
    plan = load_plan(plan_path)
    management = {"account_id": plan.management_account_id, "name": "management", "ou_path": "Root",
                  "credentials": [{"kind": "password", "id": "root", "status": "present", "created_at": None,
                                   "last_used_at": None}], "state_digest": "0" * 64}
    with sim.environ():
        read_ctx, change_ctx = contexts(AwsSettings(region=sim.scenario.region), CREDENTIAL_REMOVAL,
                                        sim.session())
        with pytest.raises(apply.RemediationStopped, match="management account"):
            apply.remove_credentials(plan, [management], read_ctx, change_ctx)
        assert "AssumeRoot" not in {r["operation"] for r in read_ctx.call_log.rows()}
        foreign = Plan({**plan.data, "organization_id": "o-someoneelse"})
        with pytest.raises(apply.RemediationStopped, match="o-someoneelse"):
            apply.remove_credentials(foreign, plan.accounts(), read_ctx, change_ctx)
    assert {r["operation"] for r in read_ctx.call_log.rows()} <= {"DescribeOrganization", "GetCallerIdentity"}


def test_the_run_calls_nothing_outside_its_allowlists(sim: Any, plan_path: Path) -> None:
    result = run(sim, plan_path)  # every phase at once: every kind of credential
    assert result.exit_status == 0
    calls = [c for a in result.record["accounts"] for c in a["calls"]]
    assert {c["operation"] for c in calls} >= {"DeleteLoginProfile", "DeleteAccessKey",
                                               "DeleteSigningCertificate", "DeactivateMFADevice"}
    for call in calls:
        op, params = (call["service"], call["operation"]), json.loads(call["parameters"])
        # Each call was allowed by one of the two allowlists, parameters included.
        assert READ_ONLY.refusal(*op, params) is None or CREDENTIAL_REMOVAL.refusal(*op, params) is None, call
        assert call["outcome"] in ("ok", "error")
    deletes = [c for c in calls if c["operation"].startswith(("Delete", "Deactivate"))]
    assert all("UserName" not in json.loads(c["parameters"]) for c in deletes)
    sessions = [json.loads(c["parameters"])["TaskPolicyArn"]["arn"] for c in calls
                if c["operation"] == "AssumeRoot"]
    assert sessions.count(DELETE_TASK_POLICY) == len(result.record["accounts"])
    # Every credential of every planned account is gone; every other account is as seeded.
    planned = {a["account_id"] for a in load_plan(plan_path).accounts()}
    for account_id, spec in sim.scenario.accounts.items():
        state = sim.root_state(account_id)
        assert (not state.has_credentials) if account_id in planned else (
            state.has_credentials == spec.root.has_credentials), account_id


@pytest.fixture
def server_sim() -> Iterator[Any]:
    with open_sim("server") as opened:
        yield opened


def test_a_failed_delete_stops_the_run_at_that_account(server_sim: Any, plan_path: Path) -> None:
    first, second = prod(plan_path)
    server_sim.faults.error("ConcurrentModification", 409, service="iam",
                            operation="DeleteSigningCertificate")
    before = root_states(server_sim)
    result = run(server_sim, plan_path, PROD)
    entries = {a["account_id"]: a for a in result.record["accounts"]}
    assert result.exit_status == 2
    assert entries[first]["status"] == "failed" and "ConcurrentModification" in entries[first]["reason"]
    assert "removing its root credentials" in entries[first]["reason"]
    assert entries[second]["status"] == "not_attempted"
    assert root_states(server_sim) == before  # the refused delete changed nothing; the next was not tried
