"""Risk acceptances: an exceptions file marks FAIL results as accepted, never as PASS.

    exceptions:
      - id: EXC-2026-004
        account: "222222222222"          # scope: an account, a control, or both
        control: cis-aws-7.0.0:2.4       # <framework id>:<control id>
        reason: Legacy billing integration still signs with the root key; replacement in CHG-88
        owner: payments-platform@example.com
        approver: ciso@example.com
        ticket: RISK-123
        expires: 2026-12-31              # a date (valid through that day, UTC) or a UTC timestamp

Expiry is judged at the snapshot's collection time, not the wall clock, so the same snapshot always
gives the same results. A malformed or expired entry does not apply; it is reported with its problem in
the `exceptions` frame, as is an entry that matched no FAIL (unused).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from rootaudit.controls.mappings import MappingError, load_yaml
from rootaudit.snapshot import utc_iso

REQUIRED = ("id", "reason", "owner", "approver", "ticket", "expires")
ALLOWED = {*REQUIRED, "account", "control"}


class ExceptionsFileError(ValueError):
    """The exceptions file as a whole cannot be read (not YAML, wrong shape)."""


@dataclass(frozen=True)
class RiskException:
    id: str
    account: str
    control: str  # "<framework id>:<control id>" or ""
    reason: str
    owner: str
    approver: str
    ticket: str
    expires: str  # as written
    status: str  # active | expired | malformed (unused is decided after matching)
    problem: str
    expires_at: datetime | None = None
    line: int = 0  # where the entry starts in its file, for messages on the console

    def matches(self, framework_id: str, control_id: str, account_id: str) -> bool:
        if self.status != "active":
            return False
        if self.account and self.account != account_id:
            return False
        return not self.control or self.control == f"{framework_id}:{control_id}"

    def row(self, used: bool) -> dict[str, Any]:
        status, problem = self.status, self.problem
        if status == "active" and not used:
            status, problem = "unused", problem or "matched no FAIL result in the frameworks evaluated"
        return {"exception_id": self.id, "account_id": self.account or None, "control": self.control or None,
                "reason": self.reason or None, "owner": self.owner or None, "approver": self.approver or None,
                "ticket": self.ticket or None, "expires": self.expires or None, "status": status,
                "problem": problem or None}


def _expiry(value: Any) -> datetime:
    """The moment an exception stops applying: the end of a date's day, or the timestamp given."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=UTC)
    text = str(value).strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _entry(node: Any, index: int, name: str, collected_at: datetime | None,
           seen: set[str]) -> RiskException:
    line = getattr(node, "line", 0)
    if not isinstance(node, dict):
        return RiskException(f"#{index + 1}", "", "", "", "", "", "", "", "malformed",
                             f"{name}:{line}: entry #{index + 1} is not a mapping", line=line)

    def text(key: str) -> str:
        v = node.get(key)
        if isinstance(v, datetime):
            return utc_iso(v) or ""
        return "" if v is None else (v.isoformat() if isinstance(v, date) else str(v)).strip()

    problems = []
    eid = text("id") or f"#{index + 1}"
    missing = [k for k in REQUIRED if not text(k)]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    unknown = sorted(map(str, set(node) - ALLOWED))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}")
    if not text("account") and not text("control"):
        problems.append("no scope: give an account, a control, or both")
    account = text("account")
    if account and not (account.isdigit() and len(account) == 12):
        problems.append(f"account {account!r} is not a 12-digit account id (quote it in YAML)")
    control = text("control")
    if control and (control.count(":") != 1 or not all(control.split(":"))):
        problems.append(f"control {control!r} must be <framework id>:<control id>, e.g. cis-aws-7.0.0:2.4")
    if eid in seen:
        problems.append(f"id {eid} is used by an earlier entry")
    seen.add(eid)
    expires_at = None
    if text("expires"):
        try:
            expires_at = _expiry(node["expires"])
        except (ValueError, TypeError):
            problems.append(f"expires {text('expires')!r} is not a date (YYYY-MM-DD) or UTC timestamp")
    base = RiskException(eid, account, control, text("reason"), text("owner"), text("approver"),
                         text("ticket"), text("expires"), "active", "", expires_at, line)
    if problems:
        return replace(base, status="malformed", problem=f"{name}:{line}: " + "; ".join(problems))
    if collected_at is None:
        return replace(base, status="malformed",
                       problem="the snapshot records no collection time, so expiry cannot be judged")
    assert expires_at is not None
    if expires_at < collected_at:
        return replace(base, status="expired", problem=(
            f"expired {expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}, before the snapshot was collected "
            f"({collected_at.strftime('%Y-%m-%dT%H:%M:%SZ')})"))
    return base


def parse_exceptions(data: bytes, name: str, collected_at: datetime | None) -> list[RiskException]:
    """Every entry of an exceptions file, each active, expired or malformed (with its problem)."""
    try:
        doc = load_yaml(data, name)
    except MappingError as exc:
        raise ExceptionsFileError(str(exc)) from exc
    if doc is None:
        return []
    entries = doc.get("exceptions") if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and set(doc) - {"exceptions"}:
        raise ExceptionsFileError(f"{name}:{doc.line}: unknown top-level key(s) "
                                  f"{', '.join(sorted(map(str, set(doc) - {'exceptions'})))}; "
                                  f"expected 'exceptions:' with a list of entries")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ExceptionsFileError(f"{name}: 'exceptions' must be a list of entries")
    seen: set[str] = set()
    return [_entry(node, i, name, collected_at, seen) for i, node in enumerate(entries)]
