"""Snapshots for the remediation tests, built by hand (no AWS): one member account per case."""

from __future__ import annotations

from typing import Any

from rootaudit.snapshot import Snapshot, make_frame

ORG_ID = "o-remtest0001"
MANAGEMENT = "111111111100"
PERIOD = {"label": "2026-Q3", "start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"}
COLLECTED_AT = "2026-10-02T08:00:00Z"
OLD = "2024-01-15T10:00:00Z"  # long before the period
IN_PERIOD = "2026-08-20T12:00:00Z"

# id -> (name, OU path, state)
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    MANAGEMENT: ("management", "Root", "ACTIVE"),
    "111111111101": ("clean", "Root/Prod", "ACTIVE"),
    "111111111102": ("password-mfa", "Root/Prod", "ACTIVE"),
    "111111111103": ("old-key", "Root/Prod", "ACTIVE"),
    "111111111104": ("certificate", "Root/Prod/Payments", "ACTIVE"),
    "111111111105": ("key-used", "Root/NonProd", "ACTIVE"),
    "111111111106": ("console-used", "Root/NonProd", "ACTIVE"),
    "111111111107": ("suspended", "Root/Suspended", "SUSPENDED"),
    "111111111108": ("refused", "Root/Sandbox", "ACTIVE"),
    "111111111109": ("report-only", "Root/Sandbox", "ACTIVE"),
    "111111111110": ("two-keys", "Root/NonProd", "ACTIVE"),
}


def item(account: str, kind: str, cid: str, status: str = "present", created: str = OLD,
         used: str | None = None) -> dict[str, Any]:
    return {"account_id": account, "kind": kind, "id": cid, "status": status, "created_at": created,
            "last_used_at": used}


ITEMS = [
    item(MANAGEMENT, "password", "root"),
    item(MANAGEMENT, "mfa_device", "GAHT12345678"),
    item("111111111102", "mfa_device", "arn:aws:iam::111111111102:mfa/root-account-mfa-device"),
    item("111111111102", "password", "root", used="2025-03-01T00:00:00Z"),
    item("111111111103", "access_key", "AKIAOLDKEY0000000001", "Inactive", used="2025-01-01T00:00:00Z"),
    item("111111111104", "signing_certificate", "CERT0000000000000000000000000001", "Active"),
    item("111111111105", "access_key", "AKIAUSEDKEY000000001", "Active", used=IN_PERIOD),
    item("111111111106", "password", "root"),
    item("111111111110", "access_key", "AKIATWOKEYS000000002", "Active"),
    item("111111111110", "access_key", "AKIATWOKEYS000000001", "Inactive"),
]


def _creds_row(account: str) -> dict[str, Any]:
    own = [i for i in ITEMS if i["account_id"] == account]
    row: dict[str, Any] = {
        "account_id": account, "assessment": "assessed", "method": "assume_root_audit",
        "password_present": any(i["kind"] == "password" for i in own),
        "access_keys_active": sum(i["kind"] == "access_key" and i["status"] == "Active" for i in own),
        "access_keys_inactive": sum(i["kind"] == "access_key" and i["status"] != "Active" for i in own),
        "signing_certificates_active": sum(i["kind"] == "signing_certificate" for i in own),
        "signing_certificates_inactive": 0, "mfa_devices": sum(i["kind"] == "mfa_device" for i in own),
        "mfa_kind": "none", "source_time": COLLECTED_AT, "collected_at": COLLECTED_AT}
    if account == MANAGEMENT:
        row["method"] = "credential_report"
    if ACCOUNTS[account][2] != "ACTIVE":
        row = {"account_id": account, "assessment": "not_assessed", "method": "none",
               "reason": "account is SUSPENDED, not ACTIVE", "collected_at": COLLECTED_AT}
    if account == "111111111108":
        row = {"account_id": account, "assessment": "not_assessed", "method": "none",
               "reason": "sts:AssumeRoot was refused (AccessDenied)", "collected_at": COLLECTED_AT}
    if account == "111111111109":
        row.update(method="credential_report", password_present=None,
                   reason="AssumeRoot refused; assessed from the credential report")
    return row


def build_snapshot(**changes: Any) -> Snapshot:
    """The hand-made organization; `changes` replace whole frames' rows or the organization row's fields."""
    accounts = [{"account_id": a, "name": n, "email": f"{n}@example.com", "state": st,
                 "joined_method": "CREATED", "ou_path": ou, "is_management": a == MANAGEMENT,
                 "is_delegated_admin": False}
                for a, (n, ou, st) in ACCOUNTS.items()]
    items = changes.pop("items", ITEMS)
    org = {"organization_id": ORG_ID, "management_account_id": MANAGEMENT, "feature_set": "ALL",
           "iam_trusted_access": True, "root_credentials_management": True, "root_sessions": True,
           "delegated_admins": "", "caller_arn": "arn:aws:sts::111111111100:assumed-role/Audit/a",
           "caller_account": MANAGEMENT, "features_status": "assessed"}
    org.update(changes.pop("organization", {}))
    row_changes = changes.pop("credentials", {})
    activity = changes.pop("root_activity", [
        {"event_id": "evt-console-1", "event_time": "2026-08-03T09:00:00Z", "account_id": "111111111106",
         "event_source": "signin.amazonaws.com", "event_name": "ConsoleLogin", "kind": "console_login",
         "success": True, "mfa_used": False},
        {"event_id": "evt-failed-1", "event_time": "2026-08-04T09:00:00Z", "account_id": "111111111102",
         "event_source": "signin.amazonaws.com", "event_name": "ConsoleLogin", "kind": "console_login",
         "success": False, "mfa_used": False},
        {"event_id": "evt-session-1", "event_time": "2026-08-05T09:00:00Z", "account_id": "111111111103",
         "event_source": "iam.amazonaws.com", "event_name": "ListAccessKeys", "kind": "root_session",
         "success": True},
    ])
    assert not changes, f"unknown changes {sorted(changes)}"
    frames = {
        "accounts": make_frame("accounts", accounts),
        "organization": make_frame("organization", [org]),
        "root_credentials": make_frame("root_credentials",
                                       [_creds_row(a) | row_changes.get(a, {}) for a in ACCOUNTS]),
        "root_credential_items": make_frame("root_credential_items", items),
        "root_activity": make_frame("root_activity", activity),
    }
    meta = {"organization_id": ORG_ID, "management_account_id": MANAGEMENT, "period": PERIOD,
            "collected_at": COLLECTED_AT, "home_region": "eu-west-1", "caller_arn": org["caller_arn"]}
    return Snapshot(meta=meta, frames=frames)
