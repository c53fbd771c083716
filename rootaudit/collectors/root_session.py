"""The authoritative method: a root session opened with sts:AssumeRoot and IAMAuditRootUserCredentials.

`fetch_root_session` makes the task policy's reads (every IAM call WITHOUT UserName, as a root session
must) and returns their raw responses; `root_session_outcome` turns them into rows without any AWS access.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from rootaudit.aws import (
    AUDIT_TASK_POLICY,
    AwsContext,
    Credentials,
    error_matches,
    error_raw,
    paginate,
    redact,
)
from rootaudit.collectors.root_common import (
    ASSESSED,
    ASSUME_ROOT_AUDIT,
    AccountOutcome,
    Deadline,
    now_iso,
)
from rootaudit.snapshot import utc_iso

NO_SUCH_ENTITY = "NoSuchEntity"


def open_root_session(ctx: AwsContext, account_id: str, raw: dict[str, Any]) -> Credentials:
    """AssumeRoot into the member with the audit task policy; only the key id and expiry are kept."""
    creds = ctx.assume_root(account_id, task_policy_arn=AUDIT_TASK_POLICY)
    raw["assume_root"] = {"TargetPrincipal": account_id, "TaskPolicyArn": AUDIT_TASK_POLICY,
                          "AccessKeyId": creds.access_key_id, "Expiration": utc_iso(creds.expiration)}
    return creds


def fetch_root_session(ctx: AwsContext, deadline: Deadline, raw: dict[str, Any]) -> str:
    """The task policy's reads into `raw` (keys = operation names); returns the time they started.

    Runs inside `ctx.session_scope` of the root session."""
    started = now_iso()
    iam = ctx.session_client("iam")

    def step(name: str) -> None:
        deadline.check(f"iam:{name}")

    step("GetLoginProfile")
    try:
        raw["get_login_profile"] = _plain(iam.get_login_profile())
    except ClientError as exc:
        if not error_matches(exc, NO_SUCH_ENTITY):
            raise
        raw["get_login_profile"] = error_raw(exc)  # NoSuchEntity: root has no password
    step("ListAccessKeys")
    keys, raw["list_access_keys"] = paginate(iam, "list_access_keys", "AccessKeyMetadata")
    for key in keys:
        step("GetAccessKeyLastUsed")
        key_id = str(key["AccessKeyId"])
        raw[f"get_access_key_last_used/{key_id}"] = _plain(iam.get_access_key_last_used(AccessKeyId=key_id))
    step("ListMFADevices")
    _, raw["list_mfa_devices"] = paginate(iam, "list_mfa_devices", "MFADevices")
    step("ListSigningCertificates")
    _, raw["list_signing_certificates"] = paginate(iam, "list_signing_certificates", "Certificates")
    step("GetUser")
    raw["get_user"] = _plain(iam.get_user())
    step("GetAccountSummary")
    raw["get_account_summary"] = _plain(iam.get_account_summary())
    return started


def _plain(resp: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(resp)
    out.pop("ResponseMetadata", None)
    return redact(out)


def _items(pages: Any, key: str) -> list[Mapping[str, Any]]:
    return [item for page in (pages or []) for item in (page.get(key) or [])]


def _time(value: Any) -> str | None:
    if isinstance(value, datetime | str) and value:
        try:
            return utc_iso(value)
        except ValueError:
            return None
    return None


def mfa_kind_from_serials(serials: list[str]) -> str:
    """Root MFA kind from device serials (ListVirtualMFADevices is denied in a root session).

    A virtual device's serial is an ARN of resource type `mfa/`; a FIDO key's is `u2f/`; a hardware TOTP
    token's is the token's serial, not an ARN. The resource type decides, never the device's name.
    With a virtual device among others, the weaker kind (virtual) is reported.
    """
    if not serials:
        return "none"
    kinds = set()
    for serial in serials:
        resource = serial.split(":", 5)[5] if serial.startswith("arn:") and serial.count(":") >= 5 else ""
        if resource.startswith("mfa/"):
            kinds.add("virtual")
        elif resource.startswith("u2f/") or not serial.startswith("arn:"):
            kinds.add("hardware")
        else:
            kinds.add("unknown")
    for kind in ("virtual", "unknown", "hardware"):
        if kind in kinds:
            return kind
    return "unknown"


def root_session_outcome(account_id: str, raw: Mapping[str, Any], source_time: str,
                         collected_at: str | None = None) -> AccountOutcome:
    """Rows from the raw responses of a root session's reads. Pure."""
    login = raw.get("get_login_profile") or {}
    profile = login.get("LoginProfile") if "Error" not in login else None
    user = (raw.get("get_user") or {}).get("User") or {}
    password_last_used = _time(user.get("PasswordLastUsed"))
    items: list[dict[str, Any]] = []
    if profile is not None:
        items.append({"account_id": account_id, "kind": "password", "id": "root", "status": "present",
                      "created_at": _time(profile.get("CreateDate")), "last_used_at": password_last_used})
    keys = _items(raw.get("list_access_keys"), "AccessKeyMetadata")
    key_last_used: list[str] = []
    for key in keys:
        key_id = str(key.get("AccessKeyId"))
        used = (raw.get(f"get_access_key_last_used/{key_id}") or {}).get("AccessKeyLastUsed") or {}
        used_at = _time(used.get("LastUsedDate"))
        if used_at:
            key_last_used.append(used_at)
        service = used.get("ServiceName")
        items.append({"account_id": account_id, "kind": "access_key", "id": key_id,
                      "status": key.get("Status"), "created_at": _time(key.get("CreateDate")),
                      "last_used_at": used_at,
                      "last_used_service": None if service in (None, "", "N/A") else service})
    certs = _items(raw.get("list_signing_certificates"), "Certificates")
    for cert in certs:
        items.append({"account_id": account_id, "kind": "signing_certificate",
                      "id": cert.get("CertificateId"), "status": cert.get("Status"),
                      "created_at": _time(cert.get("UploadDate"))})
    devices = _items(raw.get("list_mfa_devices"), "MFADevices")
    for device in devices:
        items.append({"account_id": account_id, "kind": "mfa_device", "id": device.get("SerialNumber"),
                      "status": "present", "created_at": _time(device.get("EnableDate"))})
    row = {
        "account_id": account_id,
        "assessment": ASSESSED,
        "method": ASSUME_ROOT_AUDIT,
        "reason": _consistency_note(raw, profile is not None, keys, certs, devices),
        "password_present": profile is not None,
        "access_keys_active": sum(1 for k in keys if k.get("Status") == "Active"),
        "access_keys_inactive": sum(1 for k in keys if k.get("Status") != "Active"),
        "signing_certificates_active": sum(1 for c in certs if c.get("Status") == "Active"),
        "signing_certificates_inactive": sum(1 for c in certs if c.get("Status") != "Active"),
        "mfa_devices": len(devices),
        "mfa_kind": mfa_kind_from_serials([str(d.get("SerialNumber", "")) for d in devices]),
        "password_last_used": password_last_used,
        "access_key_last_used": max(key_last_used) if key_last_used else None,
        "source_time": source_time,
        "collected_at": collected_at or now_iso(),
    }
    return AccountOutcome(row=row, items=items)


def _consistency_note(raw: Mapping[str, Any], password: bool, keys: list[Any], certs: list[Any],
                      devices: list[Any]) -> str | None:
    """Where GetAccountSummary disagrees with the listings, say so (the listings are what is reported)."""
    summary = (raw.get("get_account_summary") or {}).get("SummaryMap") or {}
    checks = [("AccountAccessKeysPresent", bool(keys)), ("AccountSigningCertificatesPresent", bool(certs)),
              ("AccountMFAEnabled", bool(devices)), ("AccountPasswordPresent", password)]
    notes = [f"GetAccountSummary {name}={summary[name]} disagrees with the listing"
             for name, listed in checks if name in summary and bool(summary[name]) != listed]
    return "; ".join(notes) or None
