"""The plan's own scripts, run as a person would run them, against the simulated organization: the bash
block with the real AWS CLI (over HTTP, server mode), and the boto3 snippet (in process). Each removes
exactly its account's root credentials, with the delete task policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rootaudit.remediate.plan import Plan
from tests.remediate.simulated import (
    NONPROD,
    PROD,
    LiveEvents,
    collect_snapshot,
    event_mark,
    open_sim,
    plan_of,
)

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent  # the AWS CLI is a test extra, beside the interpreter


@pytest.fixture(scope="module")
def plan() -> Plan:
    with open_sim("inprocess") as sim:
        return plan_of(collect_snapshot(sim))


def _entry(plan: Plan, ou: str, name: str) -> dict:
    return next(a for p in plan.phases() if p["ou_path"] == ou for a in p["accounts"] if a["name"] == name)


def test_the_cli_script_removes_the_accounts_credentials(plan: Plan) -> None:
    accounts = [_entry(plan, PROD, "payments-prod"), _entry(plan, NONPROD, "data-lake-dev")]
    script = "\n".join(line for a in accounts for line in a["cli"])
    with open_sim("server") as sim:
        mark = event_mark()
        with sim.environ():
            env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                       AWS_PAGER="", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        for account in accounts:
            assert not sim.root_state(account["account_id"]).has_credentials, account["name"]
        live = LiveEvents.after(mark)
        assert [(e.target_account, e.task_policy_arn.rsplit("/", 1)[-1], e.error_code)
                for e in live.assume_root] == [(a["account_id"], "IAMDeleteRootUserCredentials", "")
                                               for a in accounts]
        assert [(e.account_id, e.event_name, e.error_code) for e in live.actions] == [
            (a["account_id"], c["operation"], "") for a in accounts for c in a["calls"][1:]]
        # The caller's own credentials were never replaced outside the subshells.
        assert all(e.caller_account == sim.scenario.management_account_id for e in live.assume_root)


def test_the_boto3_script_removes_the_accounts_credentials(plan: Plan) -> None:
    account = _entry(plan, PROD, "mainframe-bridge")
    with open_sim("inprocess") as sim, sim.environ():
        mark = event_mark()
        exec(compile(account["boto3"], f"boto3 steps of {account['account_id']}", "exec"), {})
        assert not sim.root_state(account["account_id"]).has_credentials
        live = LiveEvents.after(mark)
        tasks = [e.task_policy_arn.rsplit("/", 1)[-1] for e in live.assume_root]
        assert tasks == ["IAMDeleteRootUserCredentials"]
        assert [e.event_name for e in live.actions] == [c["operation"] for c in account["calls"][1:]]
