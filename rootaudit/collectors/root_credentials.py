"""Every account's root credential posture: one `root_credentials` row each, and its credentials as items.

Per account, in a bounded pool (`settings.workers`), each account bounded in time
(`settings.account_timeout_seconds`):
- a member account, ACTIVE: AssumeRoot with IAMAuditRootUserCredentials and the task's reads
  (method `assume_root_audit`); when AssumeRoot cannot be used (refused, features off) and a fallback
  role is set, the credential report through that role (method `credential_report`, with why);
- the management account: its credential report with the caller's own credentials (its root cannot be
  managed centrally);
- an account that is not ACTIVE (PENDING_ACTIVATION, SUSPENDED, PENDING_CLOSURE, CLOSED, or no state
  given): not assumed into, not_assessed with its state (its root user may still sign in: see
  `inactive_reason`);
- an account the organization's listings disagree about (`population_reason`): not read, not_assessed
  with the disagreement;
- anything that fails, or answers incompletely (`rootaudit.aws.IncompleteAnswer`: a 200 without a
  required member, a listing truncated without its marker): not_assessed, method `none`, with a reason
  a person can act on (a root session that answers incompletely tries the fallback role first, named in
  the reason); listings that GetAccountSummary contradicts: not_assessed with both sides.
One account's failure never touches another's result.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from rootaudit import progress
from rootaudit.aws import AUDIT_TASK_POLICY, AwsContext, IncompleteAnswer, error_text
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.report_method import fetch_report_method, report_outcome
from rootaudit.collectors.root_common import (
    AccountOutcome,
    AccountTimedOut,
    Deadline,
    ReportNotReady,
    failure_reason,
    is_access_denied,
    is_throttling,
    is_timeout,
    not_assessed,
    now_iso,
)
from rootaudit.collectors.root_session import fetch_root_session, open_root_session, root_session_outcome
from rootaudit.snapshot import make_frame

log = logging.getLogger(__name__)

TASK_POLICY_NAME = AUDIT_TASK_POLICY.rsplit("/", 1)[-1]


def _flag(row: Mapping[str, Any], column: str) -> bool | None:
    value = row.get(column)
    if value is None or value is pd.NA:
        return None
    try:
        return bool(value)
    except TypeError:
        return None


def assume_root_blocker(org: Mapping[str, Any]) -> str:
    """Why AssumeRoot cannot be used in this organization, or "" when it may be (or is not known not to)."""
    if _flag(org, "iam_trusted_access") is False:
        return "AssumeRoot not used: IAM trusted access is not enabled in AWS Organizations"
    if _flag(org, "root_credentials_management") is False:
        return "AssumeRoot not used: the organization has not enabled RootCredentialsManagement"
    return ""


def inactive_reason(state: str) -> str:
    """Why a member that is not ACTIVE is not assessed, and why that is not "out of scope".

    No state but ACTIVE takes an account's root user out of the question: AWS documents that the root
    user of a closed account can still sign in during the 90-day post-closure period ("Close an AWS
    account", AWS Account Management Reference Guide,
    https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-closing.html), that a closed
    account is reinstated through AWS Support within that period (CloseAccount, AWS Organizations API
    Reference), and the states themselves ("Monitor the state of your AWS accounts",
    https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_account_state.html)
    say nothing of the root user's credentials being gone."""
    return (f"account is {state}, not ACTIVE: rootaudit does not assume into it, so its root credentials "
            f"were not read; its root user may still sign in (AWS keeps a closed account's root sign-in "
            f"for the 90-day post-closure period), so it is counted as not assessed, never as clean or "
            f"out of scope")


class _AccountCollector:
    def __init__(self, ctx: AwsContext, org: Mapping[str, Any], settings: CollectSettings,
                 poll_seconds: float) -> None:
        self.ctx = ctx
        self.settings = settings
        self.blocker = assume_root_blocker(org)
        self.management_id = str(org.get("management_account_id") or "")
        self.caller = ctx.caller()
        self.poll_seconds = poll_seconds

    def run(self, account_id: str, deadline: Deadline) -> AccountOutcome:
        raw: dict[str, Any] = {}
        try:
            if account_id == self.management_id:
                outcome = self._management(account_id, deadline, raw)
            else:
                outcome = self._member(account_id, deadline, raw)
        except Exception as exc:
            outcome = not_assessed(account_id, self._reason(exc, "reading root credentials"))
            outcome.warning = str(exc)
        outcome.raw = {**raw, **outcome.raw}
        return outcome

    def _reason(self, exc: BaseException, doing: str) -> str:
        if isinstance(exc, ReportNotReady | AccountTimedOut):
            return str(exc)
        return failure_reason(exc, doing, self.ctx.settings.max_attempts)

    def _management(self, account_id: str, deadline: Deadline, raw: dict[str, Any]) -> AccountOutcome:
        context = ("the management account's root cannot be managed centrally (AssumeRoot cannot target it); "
                   "assessed from its own credential report")
        if self.caller["Account"] == account_id:
            fetch_report_method(self.ctx, False, deadline, self.settings.report_wait_seconds, raw,
                                self.poll_seconds)
            return report_outcome(account_id, raw, context)
        if not self.settings.fallback_role:
            return not_assessed(account_id, "the management account's root can be read only with its "
                                f"own credentials; the caller is in {self.caller['Account']} and no "
                                "fallback role is set")
        role = self.settings.fallback_role
        return self._fallback(account_id, deadline, raw, f"{context} through role {role}")

    def _member(self, account_id: str, deadline: Deadline, raw: dict[str, Any]) -> AccountOutcome:
        why_not_root = self.blocker
        if not why_not_root:
            try:
                return self._assume_root(account_id, deadline, raw)
            except (ClientError, BotoCoreError) as exc:
                if is_throttling(exc) or is_timeout(exc):
                    return not_assessed(account_id,
                                        self._reason(exc, "reading root credentials with AssumeRoot"))
                why_not_root = self._assume_root_reason(account_id, exc)
            except IncompleteAnswer as exc:
                # The root session's answer cannot be read as "none"; the credential report is another
                # read of the same facts, so it is tried like a refused AssumeRoot.
                why_not_root = self._reason(exc, "reading root credentials in the root session")
        if not self.settings.fallback_role:
            return not_assessed(account_id, f"{why_not_root}; no fallback role is set")
        try:
            return self._fallback(account_id, deadline, raw, f"{why_not_root}; assessed from the credential "
                                  f"report through role {self.settings.fallback_role}")
        except (ClientError, BotoCoreError, ReportNotReady, IncompleteAnswer) as exc:
            return not_assessed(account_id, f"{why_not_root}; fallback failed: {self._fallback_reason(exc)}")

    def _assume_root(self, account_id: str, deadline: Deadline, raw: dict[str, Any]) -> AccountOutcome:
        deadline.check("sts:AssumeRoot")
        creds = open_root_session(self.ctx, account_id, raw)
        with self.ctx.session_scope(creds, account_id):
            started = fetch_root_session(self.ctx, deadline, raw)
        return root_session_outcome(account_id, raw, started)

    def _assume_root_reason(self, account_id: str, exc: BaseException) -> str:
        op = getattr(exc, "operation_name", "")
        if op == "AssumeRoot" and is_access_denied(exc):
            return (f"sts:AssumeRoot into {account_id} with task policy {TASK_POLICY_NAME} was refused "
                    f"({error_text(exc)}); allow sts:AssumeRoot for {self.caller['Arn']} with that task "
                    "policy, and check that no SCP or RCP denies it")
        if op == "AssumeRoot":
            return f"sts:AssumeRoot into {account_id} failed: {self._reason(exc, 'opening a root session')}"
        return (f"the root session's {self._reason(exc, 'reading root credentials')}; the task policy "
                f"{TASK_POLICY_NAME} should allow it: check SCPs and RCPs on the account")

    def _fallback(self, account_id: str, deadline: Deadline, raw: dict[str, Any],
                  context: str) -> AccountOutcome:
        deadline.check("sts:AssumeRole")
        creds = self.ctx.assume_role(account_id, self.settings.fallback_role)
        raw["assume_role"] = {"RoleName": self.settings.fallback_role, "AccessKeyId": creds.access_key_id}
        with self.ctx.session_scope(creds, account_id):
            fetch_report_method(self.ctx, True, deadline, self.settings.report_wait_seconds, raw,
                                self.poll_seconds)
        return report_outcome(account_id, raw, context)

    def _fallback_reason(self, exc: BaseException) -> str:
        role = self.settings.fallback_role
        if getattr(exc, "operation_name", "") == "AssumeRole" and is_access_denied(exc):
            return (f"role {role} could not be assumed ({self._reason(exc, 'assuming the role')}); create it "
                    f"in the account or allow {self.caller['Arn']} sts:AssumeRole on it")
        return self._reason(exc, f"reading the credential report through role {role}")


def collect_root_credentials(ctx: AwsContext, accounts: pd.DataFrame, organization: pd.DataFrame,
                             settings: CollectSettings, poll_seconds: float = 2.0) -> Collected:
    """Frames `root_credentials` (one row per listed account) and `root_credential_items`; raw responses
    under `root_credentials/<account>/<operation>`."""
    org: Mapping[str, Any] = organization.iloc[0].to_dict() if len(organization) else {}
    collector = _AccountCollector(ctx, org, settings, poll_seconds)
    outcomes: dict[str, AccountOutcome] = {}
    to_read: list[str] = []
    for account in accounts.to_dict("records"):
        account_id = str(account["account_id"])
        state = "UNKNOWN" if pd.isna(account.get("state")) else str(account["state"])
        disagreement = account.get("population_reason")
        if isinstance(disagreement, str) and disagreement:
            outcomes[account_id] = not_assessed(account_id, disagreement)
        elif state != "ACTIVE":
            outcomes[account_id] = not_assessed(account_id, inactive_reason(state))
        elif settings.checkpoint is not None and account_id in settings.checkpoint.reused:
            outcomes[account_id] = settings.checkpoint.reused[account_id]  # read before the interruption
        else:
            to_read.append(account_id)
    outcomes.update(_run_pool(collector, to_read, settings))

    raw: dict[str, Any] = {}
    rows, items = [], []
    for account_id in sorted(outcomes):
        outcome = outcomes[account_id]
        rows.append(outcome.row)
        items.extend(outcome.items)
        for key, value in outcome.raw.items():
            raw[f"root_credentials/{account_id}/{key}"] = value
    frames = {"root_credentials": make_frame("root_credentials", rows),
              "root_credential_items": make_frame("root_credential_items", items)}
    counts = pd.Series([r["assessment"] for r in rows]).value_counts().to_dict() if rows else {}
    meta = {"assessment_counts": {str(k): int(v) for k, v in counts.items()},
            "fallback_role": settings.fallback_role}
    return Collected(frames=frames, raw=raw, meta=meta)


def _log_warning(account_id: str, outcome: AccountOutcome) -> None:
    # Logged where the result is accepted, not in the worker: a timed-out account's thread may finish long
    # after the run, and its warning would then land in whatever the process is doing next.
    if outcome.warning:
        log.warning("root credentials of %s not assessed: %s", account_id, outcome.warning)


def _run_pool(collector: _AccountCollector, account_ids: list[str], settings: CollectSettings
              ) -> dict[str, AccountOutcome]:
    """Each account in a bounded pool; an account still running past its budget is recorded as timed out
    and its late result ignored (its thread is left to finish its current call).

    Results come back through a queue, so waiting costs the same for the thousandth account as for the
    first (waiting on all pending futures at once would cost O(accounts) on every completion)."""
    budget = settings.account_timeout_seconds
    running: dict[str, Deadline] = {}  # account -> its deadline, while a worker is on it

    def clock_of(account_id: str) -> Callable[[], float]:
        if settings.budget_clock is None:
            return time.monotonic
        return functools.partial(settings.budget_clock, account_id)
    lock = threading.Lock()
    done: queue.SimpleQueue[tuple[str, AccountOutcome]] = queue.SimpleQueue()

    def one(account_id: str) -> None:
        deadline = Deadline.after(budget, clock_of(account_id))
        with lock:
            running[account_id] = deadline
        try:
            outcome = collector.run(account_id, deadline)
        except Exception as exc:  # run() already turns errors into rows; this is the last guard
            outcome = not_assessed(account_id, f"internal error: {type(exc).__name__}: {exc}")
        done.put((account_id, outcome))

    pool = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="rootaudit-root")
    results: dict[str, AccountOutcome] = {}
    with progress.task("root credentials", total=len(account_ids), unit="accounts") as task:
        try:
            for account_id in account_ids:
                pool.submit(one, account_id)
            while len(results) < len(account_ids):
                try:
                    account_id, outcome = done.get(timeout=0.25)
                    if account_id not in results:  # a timed-out account's late result: ignored, silent
                        results[account_id] = outcome
                        _log_warning(account_id, outcome)
                        if settings.checkpoint is not None:
                            settings.checkpoint.add(account_id, outcome)
                    with lock:
                        running.pop(account_id, None)
                except queue.Empty:
                    pass
                with lock:
                    overdue = [a for a, deadline in running.items() if deadline.remaining() <= 0]
                    for account_id in overdue:
                        del running[account_id]
                for account_id in overdue:
                    if account_id not in results:
                        results[account_id] = not_assessed(
                            account_id, f"timed out: the account's collection took longer than {budget:g} s "
                            "(settings.account_timeout_seconds); re-run or raise the time-out")
                if len(results) != task.done:
                    task.advance(len(results) - task.done)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    for outcome in results.values():
        outcome.row.setdefault("collected_at", now_iso())
    return results
