"""Snapshots for the controls tests: a small organization with one member account of each kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rootaudit.snapshot import Snapshot, make_frame

ORG_ID = "o-testorg001"
MANAGEMENT = "111111111100"
PERIOD_START, PERIOD_END = "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"
COLLECTED_AT = "2026-10-02T08:00:00Z"
LISTED = "list_accounts,ou_walk"  # both of the organization's complete listings named the account

NO_CREDS = {"password_present": False, "access_keys_active": 0, "access_keys_inactive": 0,
            "signing_certificates_active": 0, "signing_certificates_inactive": 0, "mfa_devices": 0,
            "mfa_kind": "none"}

# kind -> (account id, account state, root_credentials row fields)
KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "clean_rcm": ("111111111101", "ACTIVE", {}),
    "password_virtual_mfa": ("111111111102", "ACTIVE",
                             {"password_present": True, "mfa_devices": 1, "mfa_kind": "virtual"}),
    "password_hardware_mfa": ("111111111103", "ACTIVE",
                              {"password_present": True, "mfa_devices": 1, "mfa_kind": "hardware"}),
    "active_key": ("111111111104", "ACTIVE", {"access_keys_active": 1}),
    "inactive_key_only": ("111111111105", "ACTIVE", {"access_keys_inactive": 1}),
    "signing_certificate": ("111111111106", "ACTIVE", {"signing_certificates_active": 1}),
    "password_no_mfa": ("111111111107", "ACTIVE", {"password_present": True}),
    # as the collector leaves a member that is not ACTIVE: listed, not read
    "suspended": ("111111111108", "SUSPENDED", {
        "assessment": "not_assessed", "method": "none",
        "reason": "account is SUSPENDED, not ACTIVE: rootaudit does not assume into it",
        "password_present": None, "access_keys_active": None, "access_keys_inactive": None,
        "signing_certificates_active": None, "signing_certificates_inactive": None, "mfa_devices": None,
        "mfa_kind": "unknown"}),
    "not_assessed": ("111111111109", "ACTIVE", {
        "assessment": "not_assessed", "method": "none",
        "reason": "sts:AssumeRoot refused (AccessDenied): grant the audit role sts:AssumeRoot",
        "password_present": None, "access_keys_active": None, "access_keys_inactive": None,
        "signing_certificates_active": None, "signing_certificates_inactive": None, "mfa_devices": None,
        "mfa_kind": "unknown"}),
    "credential_report_unknown_password": ("111111111110", "ACTIVE", {
        "method": "credential_report", "password_present": None,
        "reason": "credential report: password_enabled is not_supported for root"}),
}
ACCOUNT_OF = {kind: spec[0] for kind, spec in KINDS.items()}


def account_row(aid: str, state: str, management: bool = False, contact: str = "registered") -> dict:
    return {"account_id": aid, "name": f"acct-{aid[-3:]}", "email": f"root+{aid}@example.com", "state": state,
            "joined_method": "CREATED", "joined_at": "2024-01-01T00:00:00Z",
            "ou_path": "r-ab12/ou-ab12-11111111", "is_management": management, "is_delegated_admin": False,
            "security_contact": contact, "security_contact_reason": None, "listed_by": LISTED}


def creds_row(aid: str, **fields: Any) -> dict:
    row = {"account_id": aid, "assessment": "assessed", "method": "assume_root_audit", "reason": None,
           **NO_CREDS, "source_time": "2026-10-02T07:59:00Z", "collected_at": COLLECTED_AT}
    row.update(fields)
    return row


def org_row(**fields: Any) -> dict:
    row = {"organization_id": ORG_ID, "management_account_id": MANAGEMENT, "feature_set": "ALL",
           "iam_trusted_access": True, "root_credentials_management": True, "root_sessions": True,
           "delegated_admins": None, "caller_arn": f"arn:aws:iam::{MANAGEMENT}:role/Audit",
           "caller_account": MANAGEMENT, "features_status": "assessed", "features_reason": None}
    row.update(fields)
    return row


def trail_row(**fields: Any) -> dict:
    row = {"account_id": MANAGEMENT, "region": "us-east-1",
           "trail_arn": f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-trail",
           "is_organization_trail": True, "is_multi_region": True, "is_logging": True,
           "management_events": True, "log_file_validation": True, "log_group": "org-trail",
           "metric_filter": "RootUsage", "filter_pattern": "{ $.userIdentity.type = \"Root\" }",
           "matches_cis_pattern": "exact", "alarm": "RootUsageAlarm", "alarm_subscribers": 1,
           "eventbridge_rule": None, "status": "assessed", "reason": None}
    row.update(fields)
    return row


def source_row(**fields: Any) -> dict:
    row = {"source": "s3://org-trail-bucket/", "account_id": None, "region": None, "item": "*",
           "status": "read", "period_start": PERIOD_START, "period_end": PERIOD_END,
           "covered_start": PERIOD_START, "covered_end": PERIOD_END, "files_read": 100, "pages_read": 0,
           "events_read": 1000, "events_in_period": 1000, "events_out_of_period": 0, "events_matched": 3,
           "reason": None}
    row.update(fields)
    return row


def validated_sources(accounts: list[dict]) -> list[dict]:
    """The trail's files read for every account, each validated against CloudTrail's digests (a file
    source: what LOG_FILE_INTEGRITY needs to pass)."""
    return [source_row(account_id=a["account_id"], region="us-east-1", files_validated=100, digests_read=24,
                       digests_validated=24) for a in accounts]


def session_row(event_id: str, target: str, task: str = "IAMAuditRootUserCredentials",
                time: str = "2026-08-03T10:00:00Z", **fields: Any) -> dict:
    row = {"event_id": event_id, "event_time": time, "region": "us-east-1",
           "caller_arn": f"arn:aws:sts::{MANAGEMENT}:assumed-role/Admin/alice", "caller_account": MANAGEMENT,
           "source_ip": "198.51.100.10", "user_agent": "aws-cli/2.17.0", "target_account": target,
           "task_policy": task, "error_code": None, "error_message": None,
           "session_key_id": "ASIAEXAMPLE" + event_id[-4:].upper(), "expires_at": None,
           "member_action_count": 1, "member_actions": "ListAccessKeys", "justification": None,
           "source": "s3://org-trail-bucket/"}
    row.update(fields)
    return row


def activity_row(event_id: str, account: str, kind: str, **fields: Any) -> dict:
    row = {"event_id": event_id, "event_time": "2026-08-10T12:00:00Z", "account_id": account,
           "region": "us-east-1", "event_source": "signin.amazonaws.com" if kind == "console_login"
           else "iam.amazonaws.com", "event_name": "ConsoleLogin" if kind == "console_login" else "ListUsers",
           "kind": kind, "success": True, "error_code": None, "mfa_used": False, "source_ip": "203.0.113.7",
           "user_agent": "Mozilla/5.0", "access_key_id": None, "session_event_id": None, "flag": None,
           "source": "s3://org-trail-bucket/"}
    row.update(fields)
    return row


def build(kinds: list[str] | None = None, *, org: dict | None = None, sources: list[dict] | None = None,
          monitoring: list[dict] | None = None, sessions: list[dict] = (), activity: list[dict] = (),
          management_creds: dict | None = None, meta: dict | None = None) -> Snapshot:
    kinds = list(KINDS) if kinds is None else kinds
    accounts = [account_row(MANAGEMENT, "ACTIVE", management=True)]
    creds = [creds_row(MANAGEMENT, **(management_creds if management_creds is not None else
                                      {"password_present": True, "mfa_devices": 1, "mfa_kind": "hardware"}))]
    for kind in kinds:
        aid, state, fields = KINDS[kind]
        accounts.append(account_row(aid, state))
        creds.append(creds_row(aid, **fields))
    frames = {
        "accounts": make_frame("accounts", accounts),
        "organization": make_frame("organization", [org if org is not None else org_row()]),
        "root_credentials": make_frame("root_credentials", creds),
        "monitoring": make_frame("monitoring", monitoring if monitoring is not None else [trail_row()]),
        "sources": make_frame("sources", sources if sources is not None else validated_sources(accounts)),
        "privileged_sessions": make_frame("privileged_sessions", list(sessions)),
        "root_activity": make_frame("root_activity", list(activity)),
    }
    base_meta = {"organization_id": ORG_ID, "collected_at": COLLECTED_AT,
                 "period": {"label": "2026-Q3", "start": PERIOD_START, "end": PERIOD_END}}
    base_meta.update(meta or {})
    return Snapshot(meta=base_meta, frames=frames)


@pytest.fixture(scope="session")
def snapshot_of() -> Callable[..., Snapshot]:
    return build


@pytest.fixture(scope="session")
def helpers() -> Any:
    import types

    return types.SimpleNamespace(account_row=account_row, creds_row=creds_row, org_row=org_row,
                                 trail_row=trail_row, source_row=source_row, session_row=session_row,
                                 activity_row=activity_row, ACCOUNT_OF=ACCOUNT_OF, MANAGEMENT=MANAGEMENT,
                                 KINDS=KINDS, COLLECTED_AT=COLLECTED_AT)
