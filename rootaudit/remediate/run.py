"""The thin I/O edge of `remediate --apply`: the two contexts, the run, and the record beside the plan.

Two AWS contexts share one call log: the read context enforces the read-only allowlist (the audit
re-reads, DescribeOrganization); the change context enforces one remediation allowlist (credential
removal, or feature enablement), so that no client of the run can make any other call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from rootaudit.allowlist import Allowlist
from rootaudit.aws import AwsContext, AwsSettings, CallLog
from rootaudit.remediate import apply, features, record
from rootaudit.remediate.allowlist import CREDENTIAL_REMOVAL, FEATURE_ENABLEMENT
from rootaudit.remediate.plan import Plan

EXIT_DONE, EXIT_SKIPPED, EXIT_STOPPED = 0, 1, 2


@dataclass(frozen=True)
class RunResult:
    record: dict[str, Any]
    path: Path
    checksum: Path
    exit_status: int

    def summary(self) -> dict[str, Any]:
        return {"record": str(self.path), "sha256_file": str(self.checksum), "kind": self.record["kind"],
                "outcome": self.record["outcome"], "counts": self.record.get("counts", {}),
                "exit_status": self.exit_status}


def contexts(settings: AwsSettings, allowlist: Allowlist,
             session: boto3.Session | None = None) -> tuple[AwsContext, AwsContext]:
    log = CallLog()
    return (AwsContext(settings, call_log=log, session=session),
            AwsContext(settings, call_log=log, session=session, allowlist=allowlist))


def _finish(head: dict[str, Any], plan_path: Path, status: int) -> RunResult:
    head["finished_at"] = record.now_iso()
    path, checksum = record.write_record(head, record.record_path(plan_path, head["started_at"]))
    return RunResult(record.parse_record(path.read_bytes(), path.name), path, checksum, status)


def apply_plan(plan: Plan, plan_path: Path, accounts: Sequence[Mapping[str, Any]], change: Mapping[str, str],
               selection: Mapping[str, Any], settings: AwsSettings, session: boto3.Session | None = None,
               progress: Callable[[str], None] = lambda _: None) -> RunResult:
    read_ctx, change_ctx = contexts(settings, CREDENTIAL_REMOVAL, session)
    head = record.new_record(record.CREDENTIAL_REMOVAL, plan, plan_path, change, read_ctx.caller(), selection)
    entries = apply.remove_credentials(plan, accounts, read_ctx, change_ctx, progress)
    counts = {s: sum(e["status"] == s for e in entries)
              for s in (apply.REMEDIATED, apply.SKIPPED_CHANGED, apply.FAILED, apply.NOT_ATTEMPTED)}
    status = EXIT_STOPPED if counts[apply.FAILED] else (EXIT_SKIPPED if counts[apply.SKIPPED_CHANGED]
                                                        else EXIT_DONE)
    head.update(accounts=entries, counts=counts,
                outcome={EXIT_DONE: "completed", EXIT_SKIPPED: "completed_with_skips",
                         EXIT_STOPPED: "stopped"}[status])
    return _finish(head, plan_path, status)


def apply_features(plan: Plan, plan_path: Path, change: Mapping[str, str], settings: AwsSettings,
                   session: boto3.Session | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> RunResult:
    read_ctx, change_ctx = contexts(settings, FEATURE_ENABLEMENT, session)
    apply.check_organization(read_ctx, plan)
    head = record.new_record(record.FEATURE_ENABLEMENT, plan, plan_path, change, read_ctx.caller(),
                             {"enable_features": True})
    entry = features.enable_features(read_ctx, change_ctx, progress)
    failed = entry["status"] == "failed"
    head.update(features=entry, outcome="stopped" if failed else entry["status"])
    return _finish(head, plan_path, EXIT_STOPPED if failed else EXIT_DONE)
