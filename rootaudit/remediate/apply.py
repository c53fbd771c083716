"""The guarded removal of member root credentials, one account at a time, as a plan names them.

    select_accounts(plan, phase=None, accounts=None) -> the plan's account entries to work on (pure)
    remove_credentials(plan, accounts, read_ctx, change_ctx, progress) -> the record's account entries

For each account, in order:
1. re-read its root credentials in a root session with the audit task policy (`read_ctx`, read-only),
   exactly as collection does (`rootaudit.collectors.root_session`);
2. compare with the state the plan was made from: any difference (a credential new, gone, or used
   since) skips the account, reported with what changed;
3. open a root session with IAMDeleteRootUserCredentials (`change_ctx`, whose clients enforce the
   credential-removal allowlist) and make the plan's deletes for that account, and nothing else;
4. re-read (audit task policy again): the state after, for the record.
The run stops at the first unexpected error (a refused AssumeRoot, a failed delete, a credential still
there after its delete): that account is reported with the error and the accounts after it are not
touched. The management account is never worked on, whatever the plan says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name

from rootaudit.aws import AwsContext, Credentials, error_text
from rootaudit.collectors.root_common import Deadline
from rootaudit.collectors.root_session import fetch_root_session, open_root_session, root_session_outcome
from rootaudit.remediate.allowlist import DELETE_TASK_POLICY
from rootaudit.remediate.calls import removal_calls
from rootaudit.remediate.plan import Plan
from rootaudit.remediate.state import Credential, changes, credential_state, state_digest
from rootaudit.snapshot import utc_iso

ACCOUNT_SECONDS = 300.0  # one account's re-reads; the deletes are a handful of calls

# An account's outcome in the record.
REMEDIATED = "remediated"
SKIPPED_CHANGED = "skipped_changed"
FAILED = "failed"
NOT_ATTEMPTED = "not_attempted"

Progress = Callable[[str], None]


class SelectionError(ValueError):
    """A --phase or --accounts the plan does not allow; nothing was done."""


class RemediationStopped(RuntimeError):
    """Remediation cannot start (wrong organization, management account named); nothing was changed."""


def select_accounts(plan: Plan, phase: str | None = None,
                    accounts: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The plan's entries for one phase (an OU path, exactly), or for the accounts named, or all."""
    if phase is not None and accounts:
        raise SelectionError("give --phase or --accounts, not both")
    if phase is not None:
        found = next((p for p in plan.phases() if p["ou_path"] == phase), None)
        if found is None:
            raise SelectionError(f"--phase {phase!r} is not a phase of the plan (phases: "
                                 + (", ".join(p["ou_path"] for p in plan.phases()) or "none") + ")")
        return list(found["accounts"])
    if accounts:
        chosen = []
        for account_id in dict.fromkeys(accounts):
            entry = plan.account(account_id)
            if entry is None:
                left = plan.left_out(account_id)
                why = f"the plan leaves it out: {left['reason']}" if left else "the plan does not name it"
                raise SelectionError(f"--accounts {account_id}: {why}")
            chosen.append(entry)
        return chosen
    return plan.accounts()


def _now() -> str:
    return utc_iso(datetime.now(UTC)) or ""


def read_root_state(ctx: AwsContext, account_id: str, purpose: str,
                    seconds: float = ACCOUNT_SECONDS) -> tuple[list[Credential], dict[str, Any]]:
    """The account's root credentials, read in an audit root session; and that session, for the record."""
    raw: dict[str, Any] = {}
    requested = _now()
    creds = open_root_session(ctx, account_id, raw)
    with ctx.session_scope(creds, account_id):
        started = fetch_root_session(ctx, Deadline.after(seconds), raw)
    outcome = root_session_outcome(account_id, raw, started)
    return credential_state(outcome.items), _session(purpose, raw["assume_root"]["TaskPolicyArn"], creds,
                                                     requested)


def _session(purpose: str, task_policy_arn: str, creds: Credentials, requested: str) -> dict[str, Any]:
    return {"purpose": purpose, "task_policy": task_policy_arn.rsplit("/", 1)[-1],
            "access_key_id": creds.access_key_id, "requested_at": requested,
            "expires_at": utc_iso(creds.expiration)}


def _delete(ctx: AwsContext, account_id: str, planned: Sequence[Credential],
            sessions: list[dict[str, Any]]) -> None:
    requested = _now()
    creds = ctx.assume_root(account_id, task_policy_arn=DELETE_TASK_POLICY)
    sessions.append(_session("delete", DELETE_TASK_POLICY, creds, requested))
    with ctx.session_scope(creds, account_id):
        iam = ctx.session_client("iam")
        for call in removal_calls(planned):
            getattr(iam, xform_name(call.operation))(**call.params)


def remove_credentials(plan: Plan, accounts: Sequence[Mapping[str, Any]], read_ctx: AwsContext,
                       change_ctx: AwsContext, progress: Progress = lambda _: None) -> list[dict[str, Any]]:
    """Work through `accounts` (plan entries) in order; one record entry per account."""
    management = {plan.management_account_id, check_organization(read_ctx, plan)}
    log = change_ctx.call_log
    if read_ctx.call_log is not log:
        raise ValueError("the read and change contexts must share one call log, for the record")
    entries: list[dict[str, Any]] = []
    stopped = False
    for account in accounts:
        aid = str(account["account_id"])
        if aid in management:
            raise RemediationStopped(f"{aid} is the management account: its root cannot be managed "
                                     "centrally, and rootaudit never works on it")
        planned: list[Credential] = list(account["credentials"])
        entry: dict[str, Any] = {
            "account_id": aid, "name": account["name"], "ou_path": account["ou_path"],
            "status": NOT_ATTEMPTED, "reason": "", "planned": planned,
            "planned_state_digest": account["state_digest"], "before": None, "after": None,
            "sessions": [], "calls": []}
        entries.append(entry)
        if stopped:
            entry["reason"] = "the run stopped at an earlier account; nothing was done here"
            continue
        mark = len(log.rows())
        doing = "re-reading its root credentials (audit task policy)"
        try:
            before, session = read_root_state(read_ctx, aid, "read_before")
            entry["sessions"].append(session)
            entry["before"], entry["before_state_digest"] = before, state_digest(before)
            changed = changes(planned, before)
            if changed:
                entry["status"] = SKIPPED_CHANGED
                entry["reason"] = "root credentials changed since the plan: " + "; ".join(changed)
                progress(f"{aid} SKIPPED: {entry['reason']}")
                continue
            doing = "removing its root credentials (IAMDeleteRootUserCredentials)"
            _delete(change_ctx, aid, planned, entry["sessions"])
            doing = "re-reading its root credentials after the removal"
            after, session = read_root_state(read_ctx, aid, "read_after")
            entry["sessions"].append(session)
            entry["after"], entry["after_state_digest"] = after, state_digest(after)
            left = [c for c in after if (c["kind"], c["id"]) in {(p["kind"], p["id"]) for p in planned}]
            if left:
                raise RuntimeError("still present after their delete: "
                                   + ", ".join(f"{c['kind']} {c['id']}" for c in left))
            entry["status"] = REMEDIATED
            entry["reason"] = (f"removed {len(planned)} credential(s)"
                               + (f"; present now and not in the plan: {len(after)}" if after else ""))
            progress(f"{aid} {entry['reason']}")
        except Exception as exc:  # the first unexpected error stops the run, naming the account
            entry["status"] = FAILED
            entry["reason"] = f"stopped while {doing}: {error_text(exc)}"
            progress(f"{aid} FAILED: {entry['reason']}; the run stops here")
            stopped = True
        finally:
            entry["calls"] = log.rows()[mark:]
    return entries


def check_organization(ctx: AwsContext, plan: Plan) -> str:
    """The organization's management account as AWS says now; the plan must be for this organization."""
    org = ctx.client("organizations").describe_organization()["Organization"]
    if plan.data["organization_id"] and org["Id"] != plan.data["organization_id"]:
        raise RemediationStopped(f"the plan is for organization {plan.data['organization_id']}, but the "
                                 f"caller is in {org['Id']}: nothing was done")
    return str(org["MasterAccountId"])

