"""A realistic sample organization's snapshot and results, for the renderers' tests and benchmark.

The snapshot holds clean accounts, accounts that still hold root credentials, one that could not be
assessed, AssumeRoot sessions with their member actions, a root console sign-in, monitoring, sources and
API calls. `sample_evaluate` is a small stand-in for `rootaudit.controls.evaluate_inputs`: a pure function
of the snapshot and the input files, so a pack made from it can be re-evaluated by `verify` in tests.
It is not the project's evaluator and decides nothing about a real organization.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from rootaudit import __version__
from rootaudit.controls.results import Results
from rootaudit.period import Period
from rootaudit.snapshot import Snapshot, make_frame, utc_iso
from tests.support.sample_kept import (
    accounts_frame,
    accounts_raw,
    cloudtrail_kept,
    monitoring_frame,
    monitoring_raw,
)
from tests.support.sample_raw import organization_raw, root_credentials_raw

ORG_ID = "o-sample12345"
MANAGEMENT = "100000000001"
DELEGATED_ADMIN = "100000000002"
PERIOD = {"label": "2026-Q3", "start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"}
COLLECTED_AT = "2026-10-02T08:15:00Z"
LISTED = "list_accounts,ou_walk"  # both of the organization's complete listings named the account
CALLER_ARN = f"arn:aws:sts::{DELEGATED_ADMIN}:assumed-role/RootAuditor/alice@example.com"
CIS_FILTER = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }'
)
HOSTILE_NAME = '=HYPERLINK("http://x","y")'
SCRIPT_NAME = "<script>alert(1)</script>"
# A root_credentials row's reading of an account whose root holds nothing, read in a root session.
NO_ROOT_CREDENTIALS: dict[str, Any] = {
    "assessment": "assessed",
    "method": "assume_root_audit",
    "password_present": False,
    "access_keys_active": 0,
    "access_keys_inactive": 0,
    "signing_certificates_active": 0,
    "signing_certificates_inactive": 0,
    "mfa_devices": 0,
    "mfa_kind": "none",
}


def account_id(i: int) -> str:
    return f"{200000000000 + i:012d}"


def sample_snapshot(
    accounts: int = 40,
    with_credentials: int = 4,
    not_assessed: int = 1,
    sessions: int = 6,
    hostile_names: bool = True,
    full_coverage: bool = False,
) -> Snapshot:
    """A snapshot of `accounts` member accounts (plus the management account and delegated admin).

    By default CloudTrail was read with LookupEvents, which misses the first days of the period (so the
    evidence on root use is incomplete, as it would be); `full_coverage` reads an organization trail
    covering every account for the whole period instead."""
    t0 = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)
    members = [account_id(i) for i in range(accounts)]
    dirty = members[:with_credentials]
    unassessed = members[with_credentials : with_credentials + not_assessed]
    residue = members[with_credentials + not_assessed : with_credentials + not_assessed + 1]

    acct_rows: list[dict[str, Any]] = [
        {
            "account_id": MANAGEMENT,
            "name": "Management",
            "email": "aws-root@example.com",
            "state": "ACTIVE",
            "joined_method": "CREATED",
            "joined_at": "2019-01-01T00:00:00Z",
            "ou_path": "r-ab12",
            "is_management": True,
            "is_delegated_admin": False,
            "security_contact": "registered",
            "listed_by": LISTED,
        },
        {
            "account_id": DELEGATED_ADMIN,
            "name": "Security",
            "email": "security@example.com",
            "state": "ACTIVE",
            "joined_method": "CREATED",
            "joined_at": "2019-02-01T00:00:00Z",
            "ou_path": "r-ab12/ou-ab12-sec00001",
            "is_management": False,
            "is_delegated_admin": True,
            "security_contact": "registered",
            "listed_by": LISTED,
        },
    ]
    for i, acct in enumerate(members):
        name = f"workload-{i:05d}"
        if hostile_names and i == 0:
            name = HOSTILE_NAME
        elif hostile_names and i == 1:
            name = SCRIPT_NAME
        acct_rows.append(
            {
                "account_id": acct,
                "name": name,
                "email": f"aws+{i}@example.com",
                "state": "SUSPENDED" if acct in unassessed else "ACTIVE",
                "joined_method": "INVITED" if acct in dirty else "CREATED",
                "joined_at": utc_iso(datetime(2021, 1, 1, tzinfo=UTC) + timedelta(hours=i)),
                "ou_path": f"r-ab12/ou-ab12-work{i % 7:04d}",
                "is_management": False,
                "is_delegated_admin": False,
                "security_contact": "registered" if i % 9 else "none",
                "listed_by": LISTED,
            }
        )

    creds: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for acct in [MANAGEMENT, DELEGATED_ADMIN, *members]:
        row: dict[str, Any] = {
            "account_id": acct,
            **NO_ROOT_CREDENTIALS,
            "source_time": "2026-10-02T08:01:00Z",
            "collected_at": "2026-10-02T08:01:00Z",
        }
        if acct == MANAGEMENT:
            row.update(
                method="credential_report",
                password_present=None,
                mfa_devices=1,
                mfa_kind="hardware",
                reason="management account: AssumeRoot cannot target it; credential report used, "
                "which cannot tell whether root has a password",
                source_time="2026-10-02T06:30:00Z",
                password_last_used="2026-05-12T10:00:00Z",
            )
            items.append(
                {
                    "account_id": acct,
                    "kind": "mfa_device",
                    "id": "hardware",  # the credential report counts a hardware device, without its serial
                    "status": "present",
                }
            )
        elif acct in unassessed:
            row.update(
                assessment="not_assessed",
                method="none",
                password_present=None,
                access_keys_active=None,
                access_keys_inactive=None,
                signing_certificates_active=None,
                signing_certificates_inactive=None,
                mfa_devices=None,
                mfa_kind="unknown",
                reason="AssumeRoot refused (AccessDenied: account is SUSPENDED) and the fallback role "
                "OrganizationAccountAccessRole could not be assumed; re-run once it is reachable",
            )
        elif acct in dirty:
            k = dirty.index(acct)
            row.update(
                password_present=True,
                mfa_devices=1 if k % 2 else 0,
                mfa_kind="virtual" if k % 2 else "none",
                password_last_used="2026-08-14T12:00:00Z",
            )
            items.append(
                {
                    "account_id": acct,
                    "kind": "password",
                    "id": "root",
                    "status": "present",
                    "created_at": "2020-03-01T00:00:00Z",
                    "last_used_at": "2026-08-14T12:00:00Z",
                }
            )
            if k % 2:
                items.append(
                    {
                        "account_id": acct,
                        "kind": "mfa_device",
                        "id": f"arn:aws:iam::{acct}:mfa/root-account-mfa-device",
                        "status": "present",
                        "created_at": "2020-03-02T00:00:00Z",
                    }
                )
            if k % 3 == 0:
                row.update(access_keys_active=1, access_key_last_used="2026-09-01T07:00:00Z")
                items.append(
                    {
                        "account_id": acct,
                        "kind": "access_key",
                        "id": f"AKIA{acct}XMPL",
                        "status": "Active",
                        "created_at": "2020-04-01T00:00:00Z",
                        "last_used_at": "2026-09-01T07:00:00Z",
                        "last_used_service": "s3",
                    }
                )
        elif acct in residue:
            row.update(access_keys_inactive=1)
            items.append(
                {
                    "account_id": acct,
                    "kind": "access_key",
                    "id": f"AKIA{acct}OLD0",
                    "status": "Inactive",
                    "created_at": "2018-06-01T00:00:00Z",
                }
            )
        creds.append(row)

    sess_rows: list[dict[str, Any]] = []
    activity: list[dict[str, Any]] = []
    tasks = ["IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials", "S3UnlockBucketPolicy"]
    for s in range(sessions):
        target = members[(s * 7) % len(members)] if members else MANAGEMENT
        when = t0 + timedelta(hours=11 * s)
        ev = f"ev-assumeroot-{s:05d}"
        task = tasks[s % len(tasks)]
        failed = s % 13 == 5
        key = "" if failed else f"ASIA{s:012d}SESS"
        actions = {
            "IAMAuditRootUserCredentials": ["GetLoginProfile", "ListAccessKeys", "ListMFADevices"],
            "IAMDeleteRootUserCredentials": ["ListAccessKeys", "DeleteAccessKey", "DeleteLoginProfile"],
            "S3UnlockBucketPolicy": ["GetBucketPolicy", "DeleteBucketPolicy"],
        }[task]
        if failed:
            actions = []
        sess_rows.append(
            {
                "event_id": ev,
                "event_time": utc_iso(when),
                "region": "us-east-1",
                "caller_arn": CALLER_ARN,
                "caller_account": DELEGATED_ADMIN,
                "source_ip": "203.0.113.10",
                "user_agent": "aws-cli/2.17.0",
                "target_account": target,
                "task_policy": task,
                "error_code": "AccessDenied" if failed else "",
                "error_message": "not authorized" if failed else "",
                "session_key_id": key,
                "expires_at": "" if failed else utc_iso(when + timedelta(minutes=15)),
                "member_action_count": len(actions),
                "member_actions": "; ".join(actions),
                "source": "lookup",
            }
        )
        for a, action in enumerate(actions):
            activity.append(
                {
                    "event_id": f"ev-member-{s:05d}-{a}",
                    "event_time": utc_iso(when + timedelta(minutes=1 + a)),
                    "account_id": target,
                    "region": "us-east-1",
                    "event_source": "s3.amazonaws.com" if task.startswith("S3") else "iam.amazonaws.com",
                    "event_name": action,
                    "kind": "root_session",
                    "success": True,
                    "source_ip": "203.0.113.10",
                    "user_agent": "aws-cli/2.17.0",
                    "access_key_id": key,
                    "session_event_id": ev,
                    "source": "lookup",
                }
            )
    if dirty:
        activity.append(
            {
                "event_id": "ev-console-0001",
                "event_time": "2026-08-14T12:00:00Z",
                "account_id": dirty[0],
                "region": "us-east-1",
                "event_source": "signin.amazonaws.com",
                "event_name": "ConsoleLogin",
                "kind": "console_login",
                "success": True,
                "mfa_used": False,
                "source_ip": "198.51.100.7",
                "user_agent": "Mozilla/5.0",
                "source": "lookup",
            }
        )
        activity.append(
            {
                "event_id": "ev-rootkey-0001",
                "event_time": "2026-09-01T07:00:00Z",
                "account_id": dirty[0],
                "region": "eu-west-1",
                "event_source": "s3.amazonaws.com",
                "event_name": "ListBuckets",
                "kind": "long_term_key",
                "success": True,
                "source_ip": "198.51.100.7",
                "user_agent": "Boto3/1.34",
                "access_key_id": f"AKIA{dirty[0]}XMPL",
                "source": "lookup",
            }
        )

    monitoring = [
        {
            "account_id": MANAGEMENT,
            "region": "us-east-1",
            "trail_arn": f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-trail",
            "is_organization_trail": True,
            "is_multi_region": True,
            "is_logging": True,
            "management_events": True,
            "log_file_validation": True,
            "log_group": "aws-cloudtrail-org",
            "metric_filter": "RootUsage",
            "filter_pattern": CIS_FILTER,
            "matches_cis_pattern": "exact",
            "alarm": "RootUsageAlarm",
            "alarm_subscribers": 2,
            "status": "assessed",
        },
        {
            "account_id": DELEGATED_ADMIN,
            "region": "us-east-1",
            "eventbridge_rule": "root-activity-to-siem",
            "status": "assessed",
            "matches_cis_pattern": "no",
        },
    ]
    sources = [
        {
            "source": "lookup",
            "account_id": MANAGEMENT,
            "region": "us-east-1",
            "item": "*",
            "status": "read",
            "period_start": PERIOD["start"],
            "period_end": PERIOD["end"],
            "covered_start": "2026-07-04T08:15:00Z",
            "covered_end": PERIOD["end"],
            "pages_read": 12,
            "events_read": 540,
            "events_in_period": 540,
            "events_matched": len(sess_rows),
            "reason": "LookupEvents reaches back 90 days: 2026-07-01 to 2026-07-04 is not covered",
        },
        {
            "source": "lookup",
            "account_id": DELEGATED_ADMIN,
            "region": "us-east-1",
            "item": "*",
            "status": "partial",
            "period_start": PERIOD["start"],
            "period_end": PERIOD["end"],
            "covered_start": "2026-07-04T08:15:00Z",
            "covered_end": PERIOD["end"],
            "pages_read": 30,
            "events_read": 1400,
            "events_in_period": 1400,
            "events_matched": len(sess_rows),
            "reason": "throttled after 30 pages of eu-west-1; retried",
        },
    ]
    if full_coverage:
        trail = f"s3://org-trail-logs/AWSLogs/{ORG_ID}"
        sources = [
            {
                "source": trail,
                "account_id": acct,
                "region": "us-east-1",
                "item": "*",
                "status": "read",
                "period_start": PERIOD["start"],
                "period_end": PERIOD["end"],
                "covered_start": PERIOD["start"],
                "covered_end": PERIOD["end"],
                "files_read": 92,
                "events_read": 400,
                "events_in_period": 400,
                "events_matched": 0,
            }
            for acct in [MANAGEMENT, DELEGATED_ADMIN, *members]
        ]
    calls = [
        {
            "time": "2026-10-02T08:00:00Z",
            "account_id": DELEGATED_ADMIN,
            "region": "us-east-1",
            "service": "organizations",
            "operation": "ListAccounts",
            "parameters": "{}",
            "request_id": "req-0001",
            "outcome": "ok",
        },
        {
            "time": "2026-10-02T08:00:01Z",
            "account_id": DELEGATED_ADMIN,
            "region": "us-east-1",
            "service": "iam",
            "operation": "ListOrganizationsFeatures",
            "parameters": "{}",
            "request_id": "req-0002",
            "outcome": "ok",
        },
    ]
    calls += [
        {
            "time": "2026-10-02T08:01:00Z",
            "account_id": DELEGATED_ADMIN,
            "region": "us-east-1",
            "service": "sts",
            "operation": "AssumeRoot",
            "parameters": json.dumps({"TargetPrincipal": acct}),
            "request_id": f"req-ar-{acct}",
            "outcome": "error" if acct in unassessed else "ok",
            "error_code": "AccessDenied" if acct in unassessed else "",
        }
        for acct in members
    ]
    org = [
        {
            "organization_id": ORG_ID,
            "management_account_id": MANAGEMENT,
            "feature_set": "ALL",
            "iam_trusted_access": True,
            "root_credentials_management": True,
            "root_sessions": True,
            "delegated_admins": DELEGATED_ADMIN,
            "caller_arn": CALLER_ARN,
            "caller_account": DELEGATED_ADMIN,
            "features_status": "assessed",
        }
    ]
    meta = {
        "organization_id": ORG_ID,
        "management_account_id": MANAGEMENT,
        "period": dict(PERIOD),
        "caller_arn": CALLER_ARN,
        "regions": ["eu-west-1", "us-east-1"],
        "cloudtrail_source": "lookup",
        "tool_version": __version__,
        "completed_at": "2026-10-02T08:27:00Z",
        "collected_at": COLLECTED_AT,
    }
    frames = {
        "accounts": make_frame("accounts", acct_rows),
        "organization": make_frame("organization", org),
        "root_credentials": make_frame("root_credentials", creds),
        "root_credential_items": make_frame("root_credential_items", items),
        "privileged_sessions": make_frame("privileged_sessions", sess_rows),
        "root_activity": make_frame("root_activity", activity),
        "monitoring": make_frame("monitoring", monitoring),
        "sources": make_frame("sources", sources),
        "api_calls": make_frame("api_calls", calls),
    }
    # The responses every frame follows from (verify derives them again), and the frames made from them.
    period = Period(PERIOD["label"], *(datetime.fromisoformat(PERIOD[k].replace("Z", "+00:00"))
                                       for k in ("start", "end")))
    raw = {
        **organization_raw(org[0]),
        **root_credentials_raw(creds, items),
        **accounts_raw(acct_rows, "r-ab12"),
        **monitoring_raw(DELEGATED_ADMIN, monitoring[0], str(monitoring[1]["eventbridge_rule"]), "us-east-1"),
    }
    frames["monitoring"] = monitoring_frame(raw)
    if not full_coverage:  # the trail's files are not simulated: that variant's sources are not re-derived
        cloudtrail, kept = cloudtrail_kept(sess_rows, activity, sources, period)
        frames.update(cloudtrail)
        raw.update(kept)
    frames["accounts"] = accounts_frame(raw, frames, MANAGEMENT)
    return Snapshot(meta=meta, frames=frames, raw=raw)


SAMPLE_MAPPING = b"""framework: Sample Benchmark
version: "1.0"
controls:
  - id: R1
    title: No root credentials in member accounts
    signals: [ROOT_CREDS_ABSENT]
    basis: "published: sample vendor guide"
  - id: R2
    title: Root access is managed centrally
    signals: [RCM_ENABLED]
    basis: "rationale: reasoned from the IAM documentation"
"""


def sample_inputs(snapshot: Snapshot) -> dict[str, bytes]:
    """The input files of a sample evaluation: one mapping, exceptions (active, expired, malformed)
    and justifications for the first AssumeRoot sessions."""
    creds = snapshot["root_credentials"]
    holders = [a for a, p in zip(creds["account_id"], creds["password_present"], strict=True) if _true(p)]
    accepted = holders[-1] if holders else account_id(0)
    exceptions = (
        "exceptions:\n"
        f"  - id: EXC-001\n    account_id: '{accepted}'\n    control: R1\n"
        "    reason: Legacy payer integration needs root password until migration\n"
        "    owner: cloud-platform@example.com\n    approver: ciso@example.com\n"
        "    ticket: RISK-42\n    expires: '2027-03-31'\n"
        f"  - id: EXC-002\n    account_id: '{account_id(7)}'\n    control: R1\n"
        "    reason: Old acceptance\n    owner: team@example.com\n    approver: ciso@example.com\n"
        "    ticket: RISK-7\n    expires: '2026-01-31'\n"
        "  - id: EXC-003\n    control: R1\n    reason: missing account and approver\n"
    ).encode()
    sessions = snapshot["privileged_sessions"]
    just = "justifications:\n" + "".join(
        f"  - event_id: {ev}\n    text: CHG-{i:04d} quarterly root credential audit\n"
        for i, ev in enumerate(list(sessions["event_id"])[: max(0, len(sessions) - 1)])
    )
    return {
        "mappings/sample-1.0.yaml": SAMPLE_MAPPING,
        "exceptions.yaml": exceptions,
        "justifications.yaml": just.encode(),
    }


def _true(value: Any) -> bool:
    return value is not pd.NA and value is not None and bool(value)


def _posture_fail(row: pd.Series) -> bool:
    def n(v: Any) -> int:
        return 0 if v is pd.NA or v is None else int(v)

    return (
        _true(row["password_present"])
        or n(row["access_keys_active"]) > 0
        or n(row["access_keys_inactive"]) > 0
        or n(row["signing_certificates_active"]) > 0
        or n(row["mfa_devices"]) > 0
    )


def sample_evaluate(snapshot: Snapshot, inputs: dict[str, bytes]) -> Results:
    """Deterministic sample results from a snapshot and the files `sample_inputs` gives."""
    text = inputs.get("exceptions.yaml", b"").decode()
    accepted_acct = ""
    if "EXC-001" in text:
        accepted_acct = text.split("EXC-001\n    account_id: '", 1)[1].split("'", 1)[0]
    just: dict[str, str] = {}
    for line_ev, line_text in zip(
        *[iter(inputs.get("justifications.yaml", b"").decode().splitlines()[1:])] * 2, strict=False
    ):
        just[line_ev.split("event_id: ", 1)[1]] = line_text.split("text: ", 1)[1]

    accounts = snapshot["accounts"]
    management = set(accounts.loc[accounts["is_management"].fillna(False).astype(bool), "account_id"])
    creds = snapshot["root_credentials"]
    results: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    holders = 0
    residue = 0
    not_assessed = 0
    for _, row in creds.iterrows():
        acct = row["account_id"]
        if acct in management:
            continue
        if row["assessment"] != "assessed":
            status, why = "NOT_ASSESSED", str(row["reason"])
            not_assessed += 1
        elif _posture_fail(row):
            status, why = "FAIL", "root holds credentials (see Root credentials)"
            active = _true(row["password_present"]) or int(row["access_keys_active"] or 0) > 0
            holders += int(active)
            residue += int(not active)
        else:
            status, why = "PASS", "no root password, keys, certificates or MFA devices"
        signals.append(
            {
                "scope": "account",
                "account_id": acct,
                "signal": "ROOT_CREDS_ABSENT",
                "value": status,
                "evidence": why,
            }
        )
        exc = "EXC-001" if status == "FAIL" and acct == accepted_acct else ""
        results.append(
            {
                "framework": "Sample Benchmark",
                "version": "1.0",
                "control_id": "R1",
                "title": "No root credentials in member accounts",
                "scope": "member_accounts",
                "account_id": acct,
                "status": status,
                "rationale": why,
                "basis": "published: sample vendor guide",
                "exception_id": exc,
                "exception_status": "accepted" if exc else "",
            }
        )
    org_status = "NOT_ASSESSED" if not_assessed else ("FAIL" if holders + residue else "PASS")
    results.append(
        {
            "framework": "Sample Benchmark",
            "version": "1.0",
            "control_id": "R1",
            "title": "No root credentials in member accounts",
            "scope": "organization",
            "status": org_status,
            "rationale": f"{holders + residue} accounts hold root credentials; {not_assessed} not assessed",
            "basis": "published: sample vendor guide",
        }
    )
    org = snapshot["organization"].iloc[0]
    rcm = "PASS" if _true(org["root_credentials_management"]) else "FAIL"
    results.append(
        {
            "framework": "Sample Benchmark",
            "version": "1.0",
            "control_id": "R2",
            "title": "Root access is managed centrally",
            "scope": "organization",
            "status": rcm,
            "rationale": "RootCredentialsManagement enabled" if rcm == "PASS" else "not enabled",
            "basis": "rationale: reasoned from the IAM documentation",
        }
    )
    signals.append(
        {"scope": "organization", "signal": "RCM_ENABLED", "value": rcm, "evidence": "iam features"}
    )
    exceptions = make_frame(
        "exceptions",
        [
            {
                "exception_id": "EXC-001",
                "account_id": accepted_acct,
                "control": "R1",
                "reason": "Legacy payer integration needs root password until migration",
                "owner": "cloud-platform@example.com",
                "approver": "ciso@example.com",
                "ticket": "RISK-42",
                "expires": "2027-03-31",
                "status": "active",
            },
            {
                "exception_id": "EXC-002",
                "account_id": account_id(7),
                "control": "R1",
                "reason": "Old acceptance",
                "owner": "team@example.com",
                "approver": "ciso@example.com",
                "ticket": "RISK-7",
                "expires": "2026-01-31",
                "status": "expired",
                "problem": "expired on 2026-01-31, before the period ended",
            },
            {
                "exception_id": "EXC-003",
                "control": "R1",
                "reason": "missing account and approver",
                "status": "malformed",
                "problem": "no account_id, owner, approver, ticket or expires",
            },
        ]
        if accepted_acct
        else [],
    )
    sessions = snapshot["privileged_sessions"].copy()
    sessions["justification"] = [just.get(ev, pd.NA) for ev in sessions["event_id"]]
    member_total = int((~accounts["is_management"].fillna(False).astype(bool)).sum())
    headline: dict[str, Any] = {
        "member_accounts": member_total,
        "assessed": member_total - not_assessed,
        "not_assessed": not_assessed,
        "with_active_root_credentials": holders,
        "other_residue": residue,
    }
    if not not_assessed and not holders:
        headline["claim"] = f"0 of {member_total} member accounts have active root credentials"
    return Results(
        signals=make_frame("signals", signals),
        control_results=make_frame("control_results", results),
        exceptions=exceptions,
        privileged_sessions=make_frame("privileged_sessions", sessions.to_dict("records")),
        frameworks=[
            {
                "framework": "Sample Benchmark",
                "version": "1.0",
                "file": "mappings/sample-1.0.yaml",
                "controls": 2,
            }
        ],
        headline=headline,
        inputs=dict(inputs),
    )


def sample_results(snapshot: Snapshot) -> Results:
    return sample_evaluate(snapshot, sample_inputs(snapshot))
