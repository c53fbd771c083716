"""The remediation record: what `remediate --apply` did, as evidence for the change board and the next audit.

A JSON file written beside the plan, `<plan>.record-<UTC time>.json`, with its SHA-256 beside it
(`….json.sha256`, in `sha256sum -c` format) and its own digest inside (`record_digest`, over the
record without that field), so that a copy inside an evidence pack still proves itself. Per account:
the state the plan was made from, the state re-read before the change and after it, every root
session opened (purpose, task policy, access key id, when requested, when it expires) and every call
made with its outcome. No secret is in it: sessions are named by their access key id only, and the
calls' parameters come from the call log, which redacts secrets.

`report --remediation-records FILE…` turns a record into justifications of the sessions it opened
(`record_justifications`): the next pack's ledger then shows each deletion session, and each audit
session around it, justified by the change ticket and approver the record names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rootaudit import __version__
from rootaudit.atomic import write_file_atomically
from rootaudit.bounded import JSON_LIMIT, InputTooLarge, read_bounded
from rootaudit.controls.justifications import Justification
from rootaudit.remediate.plan import Plan

RECORD_FORMAT = "rootaudit-remediation-record"
RECORD_FORMAT_VERSION = 1
CREDENTIAL_REMOVAL = "credential_removal"
FEATURE_ENABLEMENT = "feature_enablement"


class RecordError(ValueError):
    """A record that cannot be relied on: unreadable, of another format, or changed since it was written."""


def _digest(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "record_digest"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_record(kind: str, plan: Plan, plan_path: Path, change: Mapping[str, str], caller: Mapping[str, str],
               selection: Mapping[str, Any]) -> dict[str, Any]:
    """The record's head, before anything is done: the plan it follows, the approved change, the caller."""
    plan_bytes = Path(plan_path).read_bytes()
    return {
        "format": RECORD_FORMAT, "format_version": RECORD_FORMAT_VERSION, "tool_version": __version__,
        "kind": kind,
        "organization_id": plan.data["organization_id"],
        "management_account_id": plan.management_account_id,
        "plan": {"file": Path(plan_path).name, "sha256": hashlib.sha256(plan_bytes).hexdigest(),
                 "plan_digest": plan.digest, "snapshot_digest": plan.data["snapshot"]["digest"]},
        "change": {"ticket": change.get("ticket", ""), "approved_by": change.get("approved_by", "")},
        "caller": {"arn": caller.get("Arn", ""), "account": caller.get("Account", "")},
        "selection": dict(selection),
        "started_at": now_iso(),
    }


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The record as written: pretty JSON with its digest inside."""
    body = {**record, "record_digest": _digest(record)}
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return (text + "\n").encode("utf-8")


def record_path(plan_path: Path, started_at: str) -> Path:
    stamp = started_at.replace("-", "").replace(":", "")
    plan_path = Path(plan_path)
    return plan_path.with_name(f"{plan_path.stem}.record-{stamp}.json")


def write_record(record: Mapping[str, Any], path: Path) -> tuple[Path, Path]:
    """The record and its `.sha256` beside it; returns both paths."""
    data = record_bytes(record)
    write_file_atomically(path, data)
    checksum = path.with_name(path.name + ".sha256")
    write_file_atomically(checksum, f"{hashlib.sha256(data).hexdigest()}  {path.name}\n".encode())
    return path, checksum


def parse_record(data: bytes, name: str) -> dict[str, Any]:
    """A record's content, once its own digest has been checked."""
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise RecordError(f"{name} is not a JSON remediation record ({exc})") from exc
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise RecordError(f"{name} is not a rootaudit remediation record (no format {RECORD_FORMAT!r})")
    if record.get("format_version") != RECORD_FORMAT_VERSION:
        raise RecordError(f"{name}: record format version {record.get('format_version')!r}; this rootaudit "
                          f"reads version {RECORD_FORMAT_VERSION}")
    if record.get("record_digest") != _digest(record):
        raise RecordError(f"{name} was changed after it was written (its record_digest does not match)")
    return record


def read_record(path: Path) -> bytes:
    """A record file's bytes, checked against the `.sha256` beside it when there is one."""
    path = Path(path)
    try:
        data = read_bounded(path, JSON_LIMIT, "remediation record")
    except FileNotFoundError as exc:
        raise RecordError(f"no such remediation record: {path}") from exc
    except InputTooLarge as exc:
        raise RecordError(str(exc)) from None
    checksum = path.with_name(path.name + ".sha256")
    if checksum.is_file():
        words = checksum.read_text(encoding="utf-8").split()
        expected = words[0] if words else ""
        if hashlib.sha256(data).hexdigest() != expected:
            raise RecordError(f"{path} does not match {checksum.name}: the record was changed")
    parse_record(data, path.name)
    return data


def record_justifications(record: Mapping[str, Any], name: str) -> list[Justification]:
    """One justification per root session the record opened, matched to the ledger by its access key id."""
    digest = str(record["record_digest"])
    change = record.get("change") or {}
    out = []
    for account in record.get("accounts") or []:
        for session in account.get("sessions") or []:
            key = str(session.get("access_key_id") or "")
            if not key:
                continue
            plan_digest = str(record["plan"]["plan_digest"])
            reason = (f"{session['purpose']} session ({session['task_policy']}) of rootaudit remediation "
                      f"record {name} (record digest {digest[:12]}, plan {plan_digest[:12]}): "
                      f"{account['account_id']} {account['status']}")
            out.append(Justification(id=f"REM-{digest[:12]}", ticket=str(change.get("ticket") or ""),
                                     approver=str(change.get("approved_by") or ""), reason=reason,
                                     session_key_id=key))
    return out
