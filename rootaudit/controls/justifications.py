"""Session justifications: which change ticket and approver account for each use of root.

    justifications:
      - id: J-2026-031
        ticket: CHG-4411
        approver: head-of-platform@example.com
        reason: Remove the legacy root password of the billing account
        event_id: 4f1c…                        # one AssumeRoot event (or a root sign-in / root call)
      - id: J-2026-032
        ticket: CHG-4420
        approver: head-of-platform@example.com
        account: "333333333333"                 # or: every AssumeRoot into this account
        task: IAMDeleteRootUserCredentials      #     with this task policy
        window: {start: 2026-08-03T09:00:00Z, end: 2026-08-03T11:00:00Z}   # inside this window

A remediation record (`report --remediation-records`) justifies the root sessions it opened, matched by
their access key id (`session_key_id`, see rootaudit/remediate/record.py).

Matching fills `privileged_sessions.justification`; the event ids of root sign-ins and root calls
named by `event_id` are justified too (NO_ROOT_CONSOLE_LOGIN and NO_ROOT_API_CALLS accept them).
A malformed entry is an error naming the file and line: a justification that silently matched nothing
would turn into an unexplained FAIL, and one that matched too much would hide a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from rootaudit.controls.mappings import MappingError, load_yaml

ALLOWED = {"id", "ticket", "approver", "reason", "event_id", "account", "task", "window"}


class JustificationsFileError(ValueError):
    pass


@dataclass(frozen=True)
class Justification:
    id: str
    ticket: str
    approver: str
    reason: str
    event_id: str = ""
    account: str = ""
    task: str = ""
    start: str = ""  # UTC ISO-8601 with Z, comparable as text with the frames' times
    end: str = ""
    session_key_id: str = ""  # one root session by its ASIA… key (from a remediation record)
    line: int = 0  # where the entry starts in its file, for messages on the console

    def label(self) -> str:
        text = f"{self.id}: {self.ticket} approved by {self.approver}"
        return text + (f" ({self.reason})" if self.reason else "")

    def matches_session(self, row: dt_row) -> bool:
        if self.session_key_id:
            return self.session_key_id == _s(row.get("session_key_id"))
        if self.event_id:
            return self.event_id == _s(row.get("event_id"))
        task = _s(row.get("task_policy")).rsplit("/", 1)[-1]
        return (self.account == _s(row.get("target_account")) and self.task == task
                and self.start <= _s(row.get("event_time")) <= self.end)


dt_row = dict[str, Any]


def _s(value: Any) -> str:
    missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
    return "" if missing else str(value)


def _utc(value: Any, where: str) -> str:
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(
            str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise JustificationsFileError(f"{where}: {value!r} is not a UTC timestamp") from exc
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(node: Any, index: int, name: str, seen: set[str]) -> Justification:
    where = f"{name}:{getattr(node, 'line', 0)} (entry #{index + 1})"
    if not isinstance(node, dict):
        raise JustificationsFileError(f"{where}: an entry must be a mapping")
    unknown = sorted(map(str, set(node) - ALLOWED))
    if unknown:
        raise JustificationsFileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    text = {k: _s(node.get(k)).strip() for k in ("id", "ticket", "approver", "reason", "event_id",
                                                    "account", "task")}
    missing = [k for k in ("id", "ticket", "approver") if not text[k]]
    if missing:
        raise JustificationsFileError(f"{where}: missing {', '.join(missing)}")
    if text["id"] in seen:
        raise JustificationsFileError(f"{where}: id {text['id']} is used by an earlier entry")
    seen.add(text["id"])
    if text["event_id"]:
        if text["account"] or text["task"] or "window" in node:
            raise JustificationsFileError(f"{where}: give either event_id, or account + task + window")
        return Justification(text["id"], text["ticket"], text["approver"], text["reason"],
                             event_id=text["event_id"], line=getattr(node, "line", 0))
    window = node.get("window")
    if not (text["account"] and text["task"] and isinstance(window, dict)
            and set(window) == {"start", "end"}):
        raise JustificationsFileError(f"{where}: give either event_id, or account + task + "
                                      f"window: {{start, end}}")
    start, end = _utc(window["start"], where), _utc(window["end"], where)
    if end < start:
        raise JustificationsFileError(f"{where}: the window ends before it starts")
    return Justification(text["id"], text["ticket"], text["approver"], text["reason"],
                         account=text["account"], task=text["task"].rsplit("/", 1)[-1], start=start, end=end,
                         line=getattr(node, "line", 0))


def parse_justifications(data: bytes, name: str) -> list[Justification]:
    try:
        doc = load_yaml(data, name)
    except MappingError as exc:
        raise JustificationsFileError(str(exc)) from exc
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) != {"justifications"}:
        raise JustificationsFileError(f"{name}: expected a mapping with one key, 'justifications:'")
    entries = doc["justifications"] or []
    if not isinstance(entries, list):
        raise JustificationsFileError(f"{name}: 'justifications' must be a list of entries")
    seen: set[str] = set()
    return [_entry(node, i, name, seen) for i, node in enumerate(entries)]


def apply_justifications(sessions: pd.DataFrame, entries: list[Justification]) -> pd.DataFrame:
    """The ledger with `justification` filled: the labels of every entry that matches, "; " joined.

    Whatever the column held before is replaced, so re-evaluating a pack's own ledger gives the same."""
    out = sessions.copy()
    labels = []
    for row in out.to_dict("records"):
        found = [j.label() for j in entries if j.matches_session(row)]
        labels.append("; ".join(found) or pd.NA)
    out["justification"] = pd.array(labels, dtype="string")
    return out


def justified_events(entries: list[Justification]) -> dict[str, str]:
    """Event id -> label, for the entries that name one event (root sign-ins and root calls)."""
    return {j.event_id: j.label() for j in entries if j.event_id}
