"""The authoritative method: a root session opened with sts:AssumeRoot and IAMAuditRootUserCredentials.

`fetch_root_session` makes the task policy's reads (every IAM call WITHOUT UserName, as a root session
must) and returns their raw responses; `root_session_outcome` turns them into rows without any AWS access.

Fail closed: an answer without a member its output shape requires (which every context's client
refuses), or a listing truncated without a marker, is an incomplete read (`IncompleteAnswer`), and
listings that GetAccountSummary contradicts leave the account not assessed: either way what root holds
is unknown, and is never reported as "none".
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
    NOT_ASSESSED,
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
    """Rows from the raw responses of a root session's reads. Pure.

    Not assessed (method assume_root_audit, no counts, no items) when GetLoginProfile's answer is
    neither a LoginProfile nor NoSuchEntity, or when GetAccountSummary contradicts the listings."""
    login = raw.get("get_login_profile") or {}
    if "Error" not in login and "LoginProfile" not in login:
        return _unreadable(account_id, source_time, collected_at, "GetLoginProfile answered without "
                           "LoginProfile and without an error: whether root has a password is unknown")
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
    contradictions = summary_contradictions(
        (raw.get("get_account_summary") or {}).get("SummaryMap") or {},
        {"AccountPasswordPresent": int(profile is not None), "AccountAccessKeysPresent": len(keys),
         "AccountSigningCertificatesPresent": len(certs), "AccountMFAEnabled": len(devices)})
    if contradictions:
        return _unreadable(account_id, source_time, collected_at,
                           f"the root session's answers contradict each other: {'; '.join(contradictions)}")
    row = {
        "account_id": account_id,
        "assessment": ASSESSED,
        "method": ASSUME_ROOT_AUDIT,
        "reason": None,
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


# GetAccountSummary's word on each root credential, and the listing that should agree with it.
SUMMARY_LISTINGS: dict[str, str] = {
    "AccountPasswordPresent": "GetLoginProfile",
    "AccountAccessKeysPresent": "ListAccessKeys",
    "AccountSigningCertificatesPresent": "ListSigningCertificates",
    "AccountMFAEnabled": "ListMFADevices",
}


def summary_contradictions(summary: Mapping[str, Any], listed: Mapping[str, int]) -> list[str]:
    """Where GetAccountSummary and a listing disagree on whether root holds a credential (`listed`: how
    many each listing found, by summary key). A key the summary does not give is not compared: AWS
    documents AccountPasswordPresent as newer, so its absence means unknown."""
    out = []
    for name, listing in SUMMARY_LISTINGS.items():
        if name in summary and name in listed and bool(summary[name]) != bool(listed[name]):
            out.append(f"GetAccountSummary {name}={summary[name]}, but {listing} found {listed[name]}")
    return out


def _unreadable(account_id: str, source_time: str, collected_at: str | None, why: str) -> AccountOutcome:
    reason = (f"{why}; what root holds is unknown, so the account is not assessed (re-run: a credential "
              "changed while it was read shows so too; if it persists, raise it with AWS Support)")
    return AccountOutcome(row={"account_id": account_id, "assessment": NOT_ASSESSED,
                               "method": ASSUME_ROOT_AUDIT, "reason": reason, "source_time": source_time,
                               "collected_at": collected_at or now_iso()})
