"""From CloudTrail records to the ledger and root activity: pure, shared by every event source.

- An AssumeRoot call (sts.amazonaws.com AssumeRoot, in the caller's account) is a ledger entry,
  successful or refused.
- Every record with userIdentity.type "Root" is root activity, classified by its credentials:
  `console_login` (any console sign-in event: ConsoleLogin, PasswordUpdated, CheckMfa,
  CredentialChallenge, CredentialVerification…), `root_session` (an AssumeRoot session: marked by
  `sessionContext.assumedRoot`, or an ASIA… key with no console marker; joined to its AssumeRoot by that
  key, flagged when none matches), `long_term_key` (AKIA…), `other` (anything else: calls made from a root
  console session, marked by `sessionCredentialFromConsole`; calls a service made on root's behalf; keys of
  no known kind). Nothing is dropped, and `basis` says what each classification rests on.
- Success is read from each event's own fields: `errorCode` / `errorMessage`, then the outcome the event
  writes under its own name (`responseElements.ConsoleLogin`, `responseElements.PasswordUpdated`,
  `serviceEventDetails.CredentialVerification`…). An outcome the classifier does not know is unknown, not
  a failure: only a real failure is a failed attempt.
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
SIGNIN_SOURCE = "signin.amazonaws.com"
# Where an event writes its own outcome, under its own name (ConsoleLogin: Success | Failure).
OUTCOME_FIELDS = ("responseElements", "serviceEventDetails", "additionalEventData")
_ACCOUNT_IN_PRINCIPAL = re.compile(r"^arn:[\w-]+:[\w-]*:[\w-]*:(\d{12}):")


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


def is_true(value: Any) -> bool:
    """CloudTrail writes its flags as the text "true" (sometimes as JSON true)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def target_account_of(principal: Any) -> str:
    """AssumeRoot's targetPrincipal, an account id or the member's principal ARN, as the account id
    (what cannot be read as either is kept as written)."""
    text = str(principal or "").strip()
    if text.isdigit() and len(text) == 12:
        return text
    match = _ACCOUNT_IN_PRINCIPAL.match(text)
    return match.group(1) if match else text


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
        "target_account": target_account_of(params.get("targetPrincipal")),
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


def is_console_signin(record: Mapping[str, Any]) -> bool:
    """A console sign-in event (AWS spells the type both AwsConsoleSignIn and AwsConsoleSignin)."""
    return (str(record.get("eventType") or "").lower() == "awsconsolesignin"
            or record.get("eventSource") == SIGNIN_SOURCE)


def outcome(record: Mapping[str, Any]) -> tuple[bool | None, str]:
    """(success, error) from the event's own fields: True, False with the error, or None when the event
    writes an outcome this classifier does not know (then the error text names it)."""
    code, message = str(record.get("errorCode") or ""), str(record.get("errorMessage") or "")
    if code or message:
        return False, code or message
    name = str(record.get("eventName") or "")
    for where in OUTCOME_FIELDS:
        value = _obj(record.get(where)).get(name)
        if not isinstance(value, str):
            continue
        text = str(value).strip().lower()
        if text == "success":
            return True, ""
        if text in ("failure", "failed"):
            return False, "Failure"
        return None, f"{where}.{name} is {value!r}"
    return True, ""


def mfa_used(record: Mapping[str, Any]) -> bool | None:
    """additionalEventData.MFAUsed as AWS writes it (Yes, YES, No, NO); None when absent or unreadable."""
    used = _obj(record.get("additionalEventData")).get("MFAUsed")
    return {"yes": True, "no": False}.get(str(used).strip().lower()) if used is not None else None


def console_marker(record: Mapping[str, Any]) -> str:
    """The field that marks a call made from a console session, or "" when the record has none.
    `sessionCredentialFromConsole` is a top-level field (record contents, since eventVersion 1.08);
    some writers put it inside userIdentity, which is read too."""
    if is_true(record.get("sessionCredentialFromConsole")):
        return "sessionCredentialFromConsole"
    if is_true(_obj(record.get("userIdentity")).get("sessionCredentialFromConsole")):
        return "userIdentity.sessionCredentialFromConsole"
    return ""


def _context_of(record: Mapping[str, Any], ident: Mapping[str, Any]) -> str:
    """What else the record says about its client, for a classification no marker settles."""
    parts = [f"userAgent {record.get('userAgent')!r}" if record.get("userAgent") else "no userAgent",
             f"invokedBy {ident.get('invokedBy')!r}" if ident.get("invokedBy") else "no invokedBy"]
    return ", ".join(parts)


def classify_root(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, flag, basis) of a root record; `basis` says which fields the classification rests on."""
    ident = _obj(record.get("userIdentity"))
    key = str(ident.get("accessKeyId") or "")
    context = _obj(ident.get("sessionContext"))
    if is_console_signin(record):
        return "console_login", "", (f"console sign-in event ({record.get('eventSource')}, "
                                     f"eventType {record.get('eventType')!r})")
    if ident.get("invokedBy"):
        return "other", f"invoked by {ident['invokedBy']}", "userIdentity.invokedBy"
    if is_true(context.get("assumedRoot")):
        return "root_session", "", "userIdentity.sessionContext.assumedRoot is true"
    if marker := console_marker(record):
        return "other", FLAG_CONSOLE_SESSION, f"{marker} is true (key {key or 'none'})"
    if key.startswith("AKIA"):
        return "long_term_key", "", "AKIA… access key: a long-term root access key"
    if key.startswith("ASIA"):
        return "root_session", "", ("ASIA… temporary key with neither sessionCredentialFromConsole nor "
                                    "sessionContext.assumedRoot: read as an AssumeRoot session if one in the "
                                    f"ledger issued the key ({_context_of(record, ident)})")
    described = key or "no access key"
    return "other", f"credentials of unknown kind ({described})", (
        f"access key {described!r} is neither AKIA… nor ASIA…"
        + (", with a session context" if context else "") + f" ({_context_of(record, ident)})")


def activity_kind(record: Mapping[str, Any]) -> tuple[str, str]:
    """(kind, flag) of a root record."""
    kind, flag, _ = classify_root(record)
    return kind, flag


def activity_row(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A `root_activity` row for a record whose userIdentity.type is Root."""
    ident = _obj(record.get("userIdentity"))
    kind, flag, basis = classify_root(record)
    success, error = outcome(record)
    if success is None:
        basis = f"{basis}; outcome not recognised: {error}"
        error = ""
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
        "mfa_used": mfa_used(record),
        "source_ip": record.get("sourceIPAddress", ""),
        "user_agent": record.get("userAgent", ""),
        "access_key_id": str(ident.get("accessKeyId") or ""),
        "session_event_id": "",
        "flag": flag,
        "source": source,
        "basis": basis,
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
