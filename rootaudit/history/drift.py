"""Drift inside the period: the root-credential changes CloudTrail recorded in member accounts, as a
timeline per account, from the snapshot's root activity (calls made in root sessions or by root).

A pack states each account's root credentials at collection. An account clean then may still have held a
credential during the period: a password created and deleted again, or a key deleted in a clean-up. Any
successful creation or deletion of a password, access key or signing certificate in the period means the
account held one at some time in it; such an account is "not clean throughout the period", and the
controls that speak of root credentials say so in their rationale (`note_period_drift`) rather than
passing silently. A failed call is shown in the timeline but proves nothing held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rootaudit.snapshot import Snapshot

# CloudTrail event name -> (credential kind, change).
CREDENTIAL_CHANGES: dict[str, tuple[str, str]] = {
    "CreateLoginProfile": ("password", "created"),
    "UpdateLoginProfile": ("password", "changed"),
    "DeleteLoginProfile": ("password", "deleted"),
    "CreateAccessKey": ("access_key", "created"),
    "UpdateAccessKey": ("access_key", "changed"),
    "DeleteAccessKey": ("access_key", "deleted"),
    "UploadSigningCertificate": ("signing_certificate", "created"),
    "UpdateSigningCertificate": ("signing_certificate", "changed"),
    "DeleteSigningCertificate": ("signing_certificate", "deleted"),
    "CreateVirtualMFADevice": ("mfa_device", "created"),
    "EnableMFADevice": ("mfa_device", "created"),
    "DeactivateMFADevice": ("mfa_device", "deleted"),
    "DeleteVirtualMFADevice": ("mfa_device", "deleted"),
}
# The kinds the headline counts as active root credentials: holding one means not clean.
HELD_KINDS = frozenset({"password", "access_key", "signing_certificate"})
NOT_CLEAN_THROUGHOUT = "not clean throughout the period"
EVENTS_IN_RATIONALE = 4


@dataclass(frozen=True)
class DriftEvent:
    event_time: str
    event_id: str
    event_name: str
    kind: str  # password | access_key | signing_certificate | mfa_device
    change: str  # created | changed | deleted
    success: bool
    error_code: str
    how: str  # root_session | console_login | long_term_key | other (root_activity.kind)
    session_event_id: str  # the AssumeRoot call the root session came from
    task_policy: str
    caller_arn: str

    def text(self) -> str:
        outcome = "" if self.success else f" (failed: {self.error_code or 'error'})"
        by = (
            f" in AssumeRoot session {self.session_event_id} ({self.task_policy})"
            if self.session_event_id
            else f" by root ({self.how})"
        )
        return f"{self.event_time} {self.event_name}{outcome}{by}"


@dataclass(frozen=True)
class AccountDrift:
    account_id: str
    name: str
    events: tuple[DriftEvent, ...]
    at_collection: str  # clean | active | not_assessed | unknown

    @property
    def held_during_period(self) -> bool:
        return any(
            e.success and e.kind in HELD_KINDS and e.change in ("created", "deleted") for e in self.events
        )

    @property
    def not_clean_throughout(self) -> bool:
        """Clean at collection, yet a credential was held at some time in the period."""
        return self.at_collection == "clean" and self.held_during_period

    def summary(self) -> str:
        shown = "; ".join(e.text() for e in self.events if e.success)[:600]
        return f"{NOT_CLEAN_THROUGHOUT}: clean at collection, but {shown}"


def _rows(frame: Any) -> list[dict[str, str]]:
    from rootaudit.history.record import rows

    return rows(frame)


def at_collection(headline: Mapping[str, Any], account_id: str) -> str:
    if account_id in (headline.get("not_assessed_accounts") or {}):
        return "not_assessed"
    if account_id in (headline.get("active_root_credentials") or {}):
        return "active"
    if account_id in (headline.get("password_unknown_accounts") or {}):
        return "unknown"
    return "clean"


def period_drift(snapshot: Snapshot, headline: Mapping[str, Any] | None = None) -> list[AccountDrift]:
    """Every member account with a root-credential change in the period's root activity, by account id."""
    from rootaudit.controls.signals import headline as compute_headline

    headline = headline if headline is not None else compute_headline(snapshot)
    management = str(snapshot.meta.get("management_account_id") or "")
    sessions = {s["event_id"]: s for s in _rows(snapshot["privileged_sessions"])}
    names = {a["account_id"]: a["name"] for a in _rows(snapshot["accounts"])}
    managers = {a["account_id"] for a in _rows(snapshot["accounts"]) if a["is_management"] == "true"}
    if management:
        managers.add(management)
    by_account: dict[str, list[DriftEvent]] = {}
    for row in _rows(snapshot["root_activity"]):
        change = CREDENTIAL_CHANGES.get(row["event_name"])
        if change is None or row["account_id"] in managers or not row["account_id"]:
            continue
        session = sessions.get(row["session_event_id"], {})
        by_account.setdefault(row["account_id"], []).append(
            DriftEvent(
                event_time=row["event_time"],
                event_id=row["event_id"],
                event_name=row["event_name"],
                kind=change[0],
                change=change[1],
                success=row["success"] != "false" and not row["error_code"],
                error_code=row["error_code"],
                how=row["kind"],
                session_event_id=row["session_event_id"],
                task_policy=session.get("task_policy", ""),
                caller_arn=session.get("caller_arn", ""),
            )
        )
    return [
        AccountDrift(
            aid,
            names.get(aid, ""),
            tuple(sorted(evs, key=lambda e: (e.event_time, e.event_id))),
            at_collection(headline, aid),
        )
        for aid, evs in sorted(by_account.items())
    ]


def speaks_of_credentials(signals: Iterable[str]) -> bool:
    """Whether any of `signals` is one the controls compute from the account's root credentials."""
    # imported here: rootaudit.controls imports this module while it loads
    from rootaudit.controls.signals import CREDENTIAL_SIGNALS

    return not CREDENTIAL_SIGNALS.keys().isdisjoint(signals)


def note_period_drift(rows: list[dict[str, Any]], controls: Iterable[Any], drift: list[AccountDrift]) -> None:
    """Say, in the rationale of each control that rests on root-credential signals, which accounts were
    not clean throughout the period: on the account's own row, and on the control's organization row.
    Statuses are unchanged: they state the credentials at collection."""
    flagged = {d.account_id: d for d in drift if d.not_clean_throughout}
    if not flagged:
        return
    speaking = {
        c.id
        for c in controls
        if speaks_of_credentials(c.rule.signals + (c.management_rule.signals if c.management_rule else ()))
    }
    for row in rows:
        if row["control_id"] not in speaking:
            continue
        account = row.get("account_id")
        if account and account in flagged:
            row["rationale"] = f"{row['rationale']} | {flagged[account].summary()}"
        elif not account:
            ids = sorted(flagged)
            row["rationale"] = (
                f"{row['rationale']} Not clean throughout the period: {len(ids)} member "
                f"account(s) clean at collection held a root credential during it "
                f"({', '.join(ids[: EVENTS_IN_RATIONALE * 5])}); see the period's credential "
                "timeline."
            )
