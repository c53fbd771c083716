"""From finding to zero on the simulated organization, through the command line: collect, plan, a dry run
that changes nothing, `--apply --yes --phase` on one OU, then a new collection and pack in which exactly
those accounts are clean and the ledger's deletion sessions are justified by the remediation record."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rootaudit.cli import main
from rootaudit.readonly import READ_ONLY_OPERATIONS
from rootaudit.remediate.allowlist import CREDENTIAL_REMOVAL, DELETE_TASK_POLICY
from rootaudit.remediate.plan import Plan
from rootaudit.snapshot import Snapshot, load_snapshot, save_snapshot
from tests.remediate.simulated import (
    PROD,
    LiveEvents,
    collect_snapshot,
    event_mark,
    open_sim,
    plan_of,
    root_states,
    since,
    write_plan,
)

pytestmark = pytest.mark.slow
MUTATING = {("sts", "AssumeRoot"), ("iam", "DeleteLoginProfile"), ("iam", "DeleteAccessKey"),
            ("iam", "DeleteSigningCertificate"), ("iam", "DeactivateMFADevice")}


@dataclass
class Rollout:
    plan: Plan
    plan_path: Path
    states_before: dict[str, Any]
    states_after_dry_run: dict[str, Any]
    events_after_dry_run: LiveEvents
    dry_run_output: str
    dry_run_status: int
    apply_status: int
    apply_output: str
    states_after: dict[str, Any]
    events: LiveEvents
    record_path: Path
    record: dict[str, Any]
    secrets: set[str]
    next_snapshot: Snapshot
    pack: Path
    report_status: int
    verify_status: int


@pytest.fixture(scope="module")
def rollout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rollout]:
    from rootaudit.collectors.cloudtrail import lookup

    saved = lookup.REQUEST_INTERVAL
    lookup.REQUEST_INTERVAL = 0.0  # the 2/s pacing has its own test
    folder = tmp_path_factory.mktemp("rollout")
    try:
        with open_sim() as sim:
            plan = plan_of(collect_snapshot(sim))
            plan_path = write_plan(plan, folder)
            before, mark = root_states(sim), event_mark()
            start = datetime.now(UTC).replace(microsecond=0)  # CloudTrail times are to the second
            out = io.StringIO()
            with sim.environ(), contextlib.redirect_stdout(out):
                dry_status = main(["remediate", "--plan", str(plan_path), "--phase", PROD])
            dry_out = out.getvalue()
            after_dry, events_dry = root_states(sim), LiveEvents.after(mark)
            out = io.StringIO()
            with sim.environ(), contextlib.redirect_stdout(out):
                apply_status = main(["remediate", "--plan", str(plan_path), "--phase", PROD, "--apply",
                                     "--yes", "--change", "CHG-4411", "--approved-by", "cab@example.com"])
            states_after, events = root_states(sim), LiveEvents.after(mark)
            (record_path,) = sorted(folder.glob("plan.record-*.json"))
            next_snapshot = collect_snapshot(sim, since(start), "lookup")
            secrets = sim.issued_secrets()
        snapshot_dir = save_snapshot(next_snapshot, folder / "next-snapshot")
        with contextlib.redirect_stdout(io.StringIO()):
            report_status = main(["report", str(snapshot_dir), "--out", str(folder / "pack"),
                                  "--remediation-records", str(record_path)])
        (pack,) = [p for p in (folder / "pack").iterdir() if p.is_dir()]
        with contextlib.redirect_stdout(io.StringIO()):
            verify_status = main(["verify", str(pack)])
        yield Rollout(plan, plan_path, before, after_dry, events_dry, dry_out, dry_status, apply_status,
                      out.getvalue(), states_after, events, record_path, json.loads(record_path.read_bytes()),
                      secrets, next_snapshot, pack, report_status, verify_status)
    finally:
        lookup.REQUEST_INTERVAL = saved


def prod_accounts(r: Rollout) -> set[str]:
    (phase,) = [p for p in r.plan.phases() if p["ou_path"] == PROD]
    return {a["account_id"] for a in phase["accounts"]}


def test_the_plan_has_a_prod_phase_and_other_work_left(rollout: Rollout) -> None:
    assert len(prod_accounts(rollout)) == 2
    assert set(a["account_id"] for a in rollout.plan.accounts()) - prod_accounts(rollout), \
        "another phase must remain, to show that apply touches only the one approved"


def test_the_dry_run_shows_each_call_and_changes_nothing(rollout: Rollout) -> None:
    assert rollout.dry_run_status == 0
    assert rollout.states_after_dry_run == rollout.states_before
    assert rollout.events_after_dry_run.assume_root == [] and rollout.events_after_dry_run.actions == []
    for account in rollout.plan.accounts():
        shown = account["account_id"] in rollout.dry_run_output
        assert shown == (account["ou_path"] == PROD)
    assert "aws iam delete-signing-certificate --certificate-id" in rollout.dry_run_output
    assert "aws iam delete-login-profile" in rollout.dry_run_output
    assert "dry run: nothing was changed" in rollout.dry_run_output


def test_apply_cleans_exactly_the_phase_and_nothing_else(rollout: Rollout) -> None:
    assert rollout.apply_status == 0, rollout.apply_output
    prod = prod_accounts(rollout)
    for account_id, state in rollout.states_after.items():
        if account_id in prod:
            assert not (state["password"] or state["access_keys"] or state["certificates"]
                        or state["mfa"] != "none"), account_id
        else:
            assert state == rollout.states_before[account_id], account_id
    management = rollout.plan.management_account_id
    assert rollout.states_before[management]["password"]  # it had credentials, and still has them
    # Root sessions were opened into the phase's accounts only, the deletes with the delete task only.
    assert {e.target_account for e in rollout.events.assume_root} == prod
    assert {e.account_id for e in rollout.events.actions} == prod
    deletes = [(e.account_id, e.event_name) for e in rollout.events.actions
               if not e.event_name.startswith(("Get", "List"))]
    planned = [(a["account_id"], c["operation"]) for a in rollout.plan.accounts() if a["account_id"] in prod
               for c in a["calls"][1:]]
    assert sorted(deletes) == sorted(planned)
    assert all(not e.error_code for e in rollout.events.actions if not e.event_name.startswith("Get"))


def test_the_record_holds_states_sessions_and_calls_and_no_secret(rollout: Rollout) -> None:
    record, data = rollout.record, rollout.record_path.read_bytes()
    checksum = rollout.record_path.with_name(rollout.record_path.name + ".sha256").read_text()
    assert checksum == f"{hashlib.sha256(data).hexdigest()}  {rollout.record_path.name}\n"
    assert record["outcome"] == "completed" and record["change"] == {"ticket": "CHG-4411",
                                                                    "approved_by": "cab@example.com"}
    assert record["plan"]["plan_digest"] == rollout.plan.digest
    assert record["plan"]["sha256"] == hashlib.sha256(rollout.plan_path.read_bytes()).hexdigest()
    assert {a["account_id"] for a in record["accounts"]} == prod_accounts(rollout)
    for account in record["accounts"]:
        assert account["status"] == "remediated"
        assert account["before"] == account["planned"] and account["after"] == []
        assert [s["purpose"] for s in account["sessions"]] == ["read_before", "delete", "read_after"]
        assert [s["task_policy"] for s in account["sessions"]] == [
            "IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials", "IAMAuditRootUserCredentials"]
        assert all(s["access_key_id"].startswith("ASIA") and s["expires_at"] for s in account["sessions"])
        ops = [(c["service"], c["operation"]) for c in account["calls"]]
        assert set(ops) <= READ_ONLY_OPERATIONS | CREDENTIAL_REMOVAL.operations
        assert all(c["outcome"] in ("ok", "error") for c in account["calls"])
        changing = [c for c in account["calls"] if (c["service"], c["operation"]) in MUTATING
                    and not (c["operation"] == "AssumeRoot" and "IAMAudit" in c["parameters"])]
        planned = next(a for a in rollout.plan.accounts() if a["account_id"] == account["account_id"])
        assert [(c["operation"], json.loads(c["parameters"])) for c in changing] == [
            (c["operation"], c["params"]) for c in planned["calls"]]
        assert DELETE_TASK_POLICY in changing[0]["parameters"]
    for secret in rollout.secrets:
        assert secret.encode() not in data


def test_the_next_pack_shows_the_phase_clean_and_the_sessions_justified(rollout: Rollout) -> None:
    prod = prod_accounts(rollout)
    creds = rollout.next_snapshot["root_credentials"].set_index("account_id")
    items = rollout.next_snapshot["root_credential_items"]
    for account_id in prod:
        assert creds.loc[account_id, "assessment"] == "assessed"
        assert creds.loc[account_id, "method"] == "assume_root_audit"
        assert not (items["account_id"] == account_id).any()
    others = {a["account_id"] for a in rollout.plan.accounts()} - prod
    assert all((items["account_id"] == a).any() for a in others), "the other phases are still to do"
    assert rollout.report_status in (0, 1, 2) and rollout.verify_status == 4  # consistent, unsigned
    pack = load_snapshot(rollout.pack)
    ledger = _ledger(rollout.pack)
    digest = rollout.record["record_digest"][:12]
    recorded = {s["access_key_id"]: (a["account_id"], s["purpose"]) for a in rollout.record["accounts"]
                for s in a["sessions"]}
    by_key = {r["session_key_id"]: r for r in ledger}
    assert set(recorded) <= set(by_key), "every session of the record is in the next ledger"
    for key, (account_id, purpose) in recorded.items():
        row = by_key[key]
        assert row["target_account"] == account_id
        assert f"REM-{digest}: CHG-4411 approved by cab@example.com" in row["justification"]
        assert purpose in row["justification"]
        if purpose == "delete":
            assert row["task_policy"] == "IAMDeleteRootUserCredentials"
            planned = next(a for a in rollout.plan.accounts() if a["account_id"] == account_id)
            assert sorted(row["member_actions"].split("; ")) == sorted(
                c["operation"] for c in planned["calls"][1:])
    # The next collection's own audit sessions are not the record's: it does not claim them.
    assert all(not r["justification"] for k, r in by_key.items() if k not in recorded)
    assert pack.meta["organization_id"] == rollout.plan.data["organization_id"]
    assert (rollout.pack / "inputs" / "remediation" / rollout.record_path.name).read_bytes() == \
        rollout.record_path.read_bytes()


def _ledger(pack: Path) -> list[dict[str, str]]:
    """The ledger as the auditor reads it: the workbook's Privileged sessions sheet."""
    import openpyxl

    sheet = openpyxl.load_workbook(pack / "evidence.xlsx", read_only=True)["Privileged sessions"]
    head, *rows = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    # read-only openpyxl ends a row at its last written cell: empty trailing cells are not there
    return [dict(zip(head, row + [""] * (len(head) - len(row)), strict=True)) for row in rows]
