"""The fallback method: the account's credential report, account summary and virtual MFA devices.

Used for the management account (whose root cannot be managed centrally) with the caller's own
credentials, and for a member account through the read-only fallback role when AssumeRoot cannot be used.
`fetch_report_method` calls IAM; `report_outcome` is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from rootaudit.aws import AwsContext, error_matches, paginate, redact
from rootaudit.collectors.credential_report import ReportParse, RootRow, parse_credential_report
from rootaudit.collectors.root_common import (
    ASSESSED,
    CREDENTIAL_REPORT,
    SYSTEM_CLOCK,
    AccountOutcome,
    Clock,
    Deadline,
    ReportNotReady,
    not_assessed,
    now_iso,
)
from rootaudit.snapshot import utc_iso

# Both spellings: the wire codes and botocore's shape names.
REPORT_NOT_READY = (
    "ReportInProgress", "CredentialReportNotReadyException", "ReportNotPresent",
    "CredentialReportNotPresentException", "ReportExpired", "CredentialReportExpiredException",
)

METHOD_LIMITS = ("the credential report cannot say whether root has a password (AccountPasswordPresent of "
                 "GetAccountSummary is used; where it is missing, unknown), does not give access key or "
                 "certificate ids, and counts hardware MFA devices as one")


def fetch_report_method(ctx: AwsContext, in_session: bool, deadline: Deadline, wait_seconds: float,
                        raw: dict[str, Any], poll_seconds: float = 2.0) -> None:
    """Credential report (generated, waited for within the bounds, fetched), summary and virtual MFA list.

    `in_session`: with the role session of the current `ctx.session_scope`; otherwise with the caller's
    own credentials (the management account read from itself).
    """
    iam = ctx.session_client("iam") if in_session else ctx.client("iam")
    report = wait_for_report(iam, deadline, wait_seconds, raw, poll_seconds)
    raw["get_credential_report"] = {
        "GeneratedTime": utc_iso(report.get("GeneratedTime")),
        "ReportFormat": report.get("ReportFormat"),
        "Content": _text(report.get("Content")),
    }
    deadline.check("iam:GetAccountSummary")
    summary = dict(iam.get_account_summary())
    summary.pop("ResponseMetadata", None)
    raw["get_account_summary"] = redact(summary)
    deadline.check("iam:ListVirtualMFADevices")
    _, raw["list_virtual_mfa_devices"] = paginate(iam, "list_virtual_mfa_devices", "VirtualMFADevices",
                                                  AssignmentStatus="Assigned")


def wait_for_report(iam: Any, deadline: Deadline, wait_seconds: float, raw: dict[str, Any],
                    poll_seconds: float = 2.0, clock: Clock = SYSTEM_CLOCK) -> Mapping[str, Any]:
    """Generate the report and get it once complete, within `wait_seconds` and the account's deadline.

    Polls with GenerateCredentialReport (which reports the state), pausing 0.25 s, doubling up to
    `poll_seconds`."""
    give_up = clock.monotonic() + min(wait_seconds, deadline.remaining())
    state = ""
    generations = 0
    pause = min(0.25, poll_seconds)  # a small account's report is often ready within a second: start short
    while True:
        deadline.check("iam:GenerateCredentialReport")
        generated = dict(iam.generate_credential_report())
        generated.pop("ResponseMetadata", None)
        generations += 1
        raw["generate_credential_report"] = {**generated, "Calls": generations}
        state = str(generated.get("State", ""))
        if state == "COMPLETE":
            try:
                return iam.get_credential_report()
            except ClientError as exc:
                if not error_matches(exc, *REPORT_NOT_READY):
                    raise
                state = f"COMPLETE but GetCredentialReport said {exc.response.get('Error', {}).get('Code')}"
        if clock.monotonic() >= give_up:
            raise ReportNotReady(f"the credential report was still not available after {wait_seconds:g} s "
                                 f"(last state: {state or 'unknown'}); re-run later or raise the report wait")
        clock.sleep(max(0.0, min(pause, give_up - clock.monotonic())))
        pause = min(pause * 2, poll_seconds)


def _text(content: Any) -> str | None:
    if isinstance(content, bytes | bytearray):
        return bytes(content).decode("utf-8", errors="replace")
    return content if isinstance(content, str) else None


def _keys_the_report_cannot_show(summary: Mapping[str, Any], listed: Sequence[Any]) -> int:
    """Root access keys GetAccountSummary counts and the report does not list. The report writes an
    inactive key as `FALSE` with last_rotated `N/A` (IAM user guide), which is also how it writes no key:
    a never-used inactive key is visible only in the summary."""
    present = summary.get("AccountAccessKeysPresent")
    if isinstance(present, bool) or not isinstance(present, int):
        return 0
    return max(0, min(present, 2) - len(listed))


def report_contradictions(summary: Mapping[str, Any], root: RootRow) -> list[str]:
    """Where GetAccountSummary and the report's root row cannot both be true. The summary counting more
    access keys than the report shows is not one (a never-used inactive key is FALSE / N/A in the
    report); the report showing a key or certificate the summary says is absent is, and so is any
    disagreement on MFA. The password is not compared: the report never says (not_supported)."""
    out = []

    def said(name: str) -> int | None:
        value = summary.get(name)
        return None if isinstance(value, bool) or not isinstance(value, int) else value

    keys, certs = said("AccountAccessKeysPresent"), said("AccountSigningCertificatesPresent")
    if keys == 0 and root.access_keys:
        out.append(f"AccountAccessKeysPresent=0, but the report shows {len(root.access_keys)} access key(s)")
    if certs is not None and bool(certs) != bool(root.certificates):
        out.append(f"AccountSigningCertificatesPresent={certs}, but the report shows "
                   f"{len(root.certificates)} signing certificate(s)")
    mfa = said("AccountMFAEnabled")
    if mfa is not None and root.mfa_active is not None and bool(mfa) != root.mfa_active:
        out.append(f"AccountMFAEnabled={mfa}, but the report's mfa_active is {str(root.mfa_active).lower()}")
    return out


def root_arn_matches(arn: Any, account_id: str) -> bool:
    return isinstance(arn, str) and arn.startswith("arn:") and arn.endswith(f":iam::{account_id}:root")


def report_outcome(account_id: str, raw: Mapping[str, Any], context: str = "",
                   collected_at: str | None = None) -> AccountOutcome:
    """Rows from a credential report, summary and virtual MFA list. Pure. `context` prefixes the reason
    (why this method was used)."""
    report = raw.get("get_credential_report") or {}
    parsed: ReportParse = parse_credential_report(report.get("Content"), account_id)
    prefix = f"{context}; " if context else ""
    if not parsed.ok or parsed.root is None:
        return not_assessed(account_id, f"{prefix}credential report unusable: {parsed.rejection}")
    root = parsed.root
    summary = (raw.get("get_account_summary") or {}).get("SummaryMap") or {}
    if root.unknown:
        return not_assessed(account_id, f"{prefix}the credential report's root row could not be read for: "
                                        f"{', '.join(root.unknown)}")
    contradictions = report_contradictions(summary, root)
    if contradictions:
        return not_assessed(account_id, f"{prefix}GetAccountSummary contradicts the credential report: "
                            f"{'; '.join(contradictions)}; what root holds is unknown, so the account is "
                            "not assessed (re-run: a credential changed between the two shows so too)")
    virtual = [d for page in (raw.get("list_virtual_mfa_devices") or []) for d in
               (page.get("VirtualMFADevices") or []) if root_arn_matches((d.get("User") or {}).get("Arn"),
                                                                       account_id)]
    mfa_active = root.mfa_active
    password_present: bool | None
    if "AccountPasswordPresent" in summary:
        password_present = bool(summary["AccountPasswordPresent"])
    else:
        password_present = root.password_enabled  # None for root ("not_supported"): unknown, not absent
    if virtual:
        mfa_kind, mfa_devices = "virtual", len(virtual)
    elif mfa_active:
        mfa_kind, mfa_devices = "hardware", 1
    else:
        mfa_kind, mfa_devices = "none", 0

    items: list[dict[str, Any]] = []
    if password_present:
        items.append({"account_id": account_id, "kind": "password", "id": "root", "status": "present",
                      "last_used_at": root.password_last_used})
    for key in root.access_keys:
        items.append({"account_id": account_id, "kind": "access_key", "id": key.slot,
                      "status": "Active" if key.active else "Inactive", "created_at": key.last_rotated,
                      "last_used_at": key.last_used_at, "last_used_service": key.last_used_service})
    hidden_keys = _keys_the_report_cannot_show(summary, root.access_keys)
    for n in range(hidden_keys):
        items.append({"account_id": account_id, "kind": "access_key", "id": f"unlisted-{n + 1}",
                      "status": "Inactive", "created_at": None, "last_used_at": None})
    for cert in root.certificates:
        items.append({"account_id": account_id, "kind": "signing_certificate", "id": cert.slot,
                      "status": "Active" if cert.active else "Inactive", "created_at": cert.last_rotated})
    for device in virtual:
        items.append({"account_id": account_id, "kind": "mfa_device", "id": device.get("SerialNumber"),
                      "status": "present", "created_at": utc_iso(device.get("EnableDate"))})
    if mfa_kind == "hardware":
        items.append({"account_id": account_id, "kind": "mfa_device", "id": "hardware", "status": "present"})

    notes = [METHOD_LIMITS]
    if password_present is None:
        notes.append("root password presence unknown: GetAccountSummary has no AccountPasswordPresent")
    if parsed.problems:
        notes.append("report notes: " + "; ".join(parsed.problems))
    if hidden_keys:
        notes.append(f"{hidden_keys} inactive root access key(s) the report shows as FALSE / N/A "
                     "(never used): GetAccountSummary counts AccountAccessKeysPresent")
    used = [k.last_used_at for k in root.access_keys if k.last_used_at]
    row = {
        "account_id": account_id,
        "assessment": ASSESSED,
        "method": CREDENTIAL_REPORT,
        "reason": prefix + "; ".join(notes),
        "password_present": password_present,
        "access_keys_active": sum(1 for k in root.access_keys if k.active),
        "access_keys_inactive": sum(1 for k in root.access_keys if not k.active) + hidden_keys,
        "signing_certificates_active": sum(1 for c in root.certificates if c.active),
        "signing_certificates_inactive": sum(1 for c in root.certificates if not c.active),
        "mfa_devices": mfa_devices,
        "mfa_kind": mfa_kind,
        "password_last_used": root.password_last_used,
        "access_key_last_used": max(used) if used else None,
        "source_time": report.get("GeneratedTime"),
        "collected_at": collected_at or now_iso(),
    }
    return AccountOutcome(row=row, items=items)
