"""From CloudTrail records to the ledger and root activity: pure, shared by every event source.

- An AssumeRoot call (sts.amazonaws.com AssumeRoot, in the caller's account) is a ledger entry,
  successful or refused.
- Every record with userIdentity.type "Root" is root activity, classified by its credentials:
  `root_session` (an ASIA… key; joined to its AssumeRoot by that key, flagged when none matches),
  `long_term_key` (AKIA…), `console_login` (signin ConsoleLogin), `other` (anything else, e.g. calls
  made from a root console session, or by a service on root's behalf).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rootaudit.period import Period

REQUIRED_FIELDS = ("eventTime", "eventID", "eventSource", "eventName", "userIdentity")

FLAG_NO_ASSUME_ROOT = "root session with no AssumeRoot in the period"
FLAG_CONSOLE_SESSION = "root console session (after a console sign-in)"


def is_assume_root(record: Mapping[str, Any]) -> bool:
    return record.get("eventName") == "AssumeRoot" and record.get("eventSource") == "sts.amazonaws.com"


def is_root_identity(record: Mapping[str, Any]) -> bool:
    ident = record.get("userIdentity")
    return isinstance(ident, Mapping) and ident.get("type") == "Root"


def is_relevant(record: Mapping[str, Any]) -> bool:
    return is_assume_root(record) or is_root_identity(record)


def missing_fields(record: Any) -> list[str]:
    """The expected fields a record lacks (an empty list for a well-formed record)."""
    if not isinstance(record, Mapping):
        return ["(not an object)"]
    missing = [f for f in REQUIRED_FIELDS if not record.get(f)]
    if "userIdentity" not in missing and not isinstance(record["userIdentity"], Mapping):
        missing.append("userIdentity (not an object)")
    if "eventTime" not in missing and parse_time(record["eventTime"]) is None:
        missing.append("eventTime (not a time)")
    return missing


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 event time, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_OLD_STYLE = re.compile(r"^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$")


def parse_expiration(value: Any) -> str | None:
    """AssumeRoot's `expiration`, in the old "Oct 25, 2024, 9:07:11 PM" style (UTC) or ISO, as ISO text."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.replace("\u202f", " ").replace("\xa0", " ").split())
    if m := _OLD_STYLE.match(text):
        try:
            moment = datetime.strptime(
                f"{m[1]} {m[2]} {m[3]} {m[4]}:{m[5]}:{m[6]} {m[7]}", "%b %d %Y %I:%M:%S %p"
            ).replace(tzinfo=UTC)
        except ValueError:
            return None
        return _iso(moment)
    iso = parse_time(text)
    return _iso(iso) if iso else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_of(record: Mapping[str, Any]) -> str:
    ident = record.get("userIdentity") or {}
    return str(
        record.get("recipientAccountId")
        or (ident.get("accountId") if isinstance(ident, Mapping) else "")
        or ""
    )


def _obj(value: Any) -> Mapping[str, Any]:
    """A nested record field as an object: anything else (null, a list, text) holds no fields."""
    return value if isinstance(value, Mapping) else {}


def task_policy_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


def ledger_row(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A `privileged_sessions` row for an AssumeRoot record (member actions joined later)."""
    ident = _obj(record.get("userIdentity"))
    params = _obj(record.get("requestParameters"))
    creds = _obj(_obj(record.get("responseElements")).get("credentials"))
    policy = params.get("taskPolicyArn")
    policy_arn = policy.get("arn", "") if isinstance(policy, Mapping) else str(policy or "")
    return {
        "event_id": record["eventID"],
        "event_time": _iso(parse_time(record["eventTime"])),  # type: ignore[arg-type]
        "region": record.get("awsRegion", ""),
        "caller_arn": ident.get("arn", ""),
        "caller_account": str(ident.get("accountId") or account_of(record)),
        "source_ip": record.get("sourceIPAddress", ""),
        "user_agent": record.get("userAgent", ""),
        "target_account": str(params.get("targetPrincipal", "")),
        "task_policy": task_policy_name(policy_arn),
        "error_code": record.get("errorCode", ""),
        "error_message": record.get("errorMessage", ""),
        "session_key_id": creds.get("accessKeyId", "") if not record.get("errorCode") else "",
        "expires_at": parse_expiration(creds.get("expiration")),
        "member_action_count": 0,
        "member_actions": "",
        "justification": "",
        "source": source,
    }


def activity_kind(record: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, flag) of a root record."""
    ident = record.get("userIdentity") or {}
    key = str(ident.get("accessKeyId") or "")
    if record.get("eventName") == "ConsoleLogin" or record.get("eventType") == "AwsConsoleSignIn":
        return "console_login", ""
    if ident.get("invokedBy"):
        return "other", f"invoked by {ident['invokedBy']}"
    if key.startswith("AKIA"):
        return "long_term_key", ""
    if key.startswith("ASIA"):
        if str(ident.get("sessionCredentialFromConsole", "")).lower() == "true":
            return "other", FLAG_CONSOLE_SESSION
        return "root_session", ""
    return "other", f"credentials of unknown kind ({key or 'no access key'})"


def activity_row(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A `root_activity` row for a record whose userIdentity.type is Root."""
    ident = record.get("userIdentity") or {}
    kind, flag = activity_kind(record)
    error = str(record.get("errorCode") or "")
    mfa: bool | None = None
    if kind == "console_login":
        outcome = _obj(record.get("responseElements")).get("ConsoleLogin")
        success = outcome == "Success" and not error
        used = _obj(record.get("additionalEventData")).get("MFAUsed")
        mfa = {"Yes": True, "No": False}.get(str(used)) if used is not None else None
        if not success and not error:
            error = str(record.get("errorMessage") or "Failure")
    else:
        success = not error
    return {
        "event_id": record["eventID"],
        "event_time": _iso(parse_time(record["eventTime"])),  # type: ignore[arg-type]
        "account_id": account_of(record),
        "region": record.get("awsRegion", ""),
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "kind": kind,
        "success": success,
        "error_code": error,
        "mfa_used": mfa,
        "source_ip": record.get("sourceIPAddress", ""),
        "user_agent": record.get("userAgent", ""),
        "access_key_id": str(ident.get("accessKeyId") or ""),
        "session_event_id": "",
        "flag": flag,
        "source": source,
    }


@dataclass
class Findings:
    """The ledger and root activity of one collection, with the counts `sources` reports."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    out_of_period: int = 0
    duplicates: int = 0


def build_findings(records: Iterable[tuple[Mapping[str, Any], str]], period: Period) -> Findings:
    """The ledger and root activity from relevant, well-formed records (each with its source).

    Records outside the period are excluded and counted; the same event seen twice (in two files, or
    by two lookups) is kept once. Root-session calls are joined to their AssumeRoot by access key id.
    """
    found = Findings()
    seen: set[str] = set()
    for record, source in records:
        event_id = str(record["eventID"])
        if event_id in seen:
            found.duplicates += 1
            continue
        seen.add(event_id)
        moment = parse_time(record["eventTime"])
        if moment is None or not period.contains(moment):
            found.out_of_period += 1
            continue
        if is_assume_root(record):
            found.sessions.append(ledger_row(record, source))
        if is_root_identity(record):
            found.activity.append(activity_row(record, source))
    join_sessions(found.sessions, found.activity)
    return found


def _action_label(row: Mapping[str, Any]) -> str:
    return f"{row['event_name']} ({row['error_code']})" if row.get("error_code") else str(row["event_name"])


def join_sessions(sessions: list[dict[str, Any]], activity: list[dict[str, Any]]) -> None:
    """Fill member_actions on the ledger and session_event_id / flag on root-session activity, in place."""
    by_key = {s["session_key_id"]: s for s in sessions if s.get("session_key_id")}
    actions: dict[str, list[dict[str, Any]]] = {}
    for row in activity:
        if row["kind"] != "root_session":
            continue
        session = by_key.get(row["access_key_id"])
        if session is None or session["target_account"] not in ("", row["account_id"]):
            row["flag"] = FLAG_NO_ASSUME_ROOT
            continue
        row["session_event_id"] = session["event_id"]
        actions.setdefault(session["event_id"], []).append(row)
    for session in sessions:
        done = sorted(actions.get(session["event_id"], []), key=lambda r: (r["event_time"], r["event_id"]))
        session["member_action_count"] = len(done)
        session["member_actions"] = "; ".join(_action_label(r) for r in done)
