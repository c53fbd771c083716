"""What a pack shows from the history and from the period's drift: "Since the last pack" (the changes
from the previous recorded pack of the same organization), the trend of the headline across the recorded
periods, and the timeline of root-credential changes inside the period. Plain rows, the same for the
PDF, the HTML page and the workbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rootaudit.history.diff import PackDiff, diff_packs
from rootaudit.history.diff_render import credential_line, headline_changes
from rootaudit.history.drift import AccountDrift, period_drift
from rootaudit.history.record import PackRecord, ledger_of, record_of
from rootaudit.history.render import pack_row
from rootaudit.history.store import HistoryStore
from rootaudit.snapshot import Snapshot

SINCE_COLUMNS = ["area", "account_id", "name", "change", "detail"]
DRIFT_COLUMNS = [
    "account_id",
    "name",
    "at_collection",
    "not_clean_throughout",
    "event_time",
    "event_name",
    "kind",
    "change",
    "success",
    "error_code",
    "how",
    "session_event_id",
    "task_policy",
    "caller_arn",
    "event_id",
]
TREND_PACKS = 8  # the most recent packs the trend chart shows
TREND_SERIES = (
    ("with_active_root_credentials", "Active root credentials", "active_credentials"),
    ("not_assessed", "Not assessed", "not_assessed"),
    ("clean", "Clean", "clean"),
)


@dataclass(frozen=True)
class HistoryView:
    """The history as the pack being made sees it."""

    previous: PackRecord | None = None
    diff: PackDiff | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)  # pack rows, oldest first, this pack last


def history_view(
    store: HistoryStore, snapshot: Snapshot, control_results: Any, exceptions: Any,
    inputs: Mapping[str, bytes] | None = None,
) -> HistoryView:
    """The previous recorded pack of this organization, what changed since, and the trend up to this pack.
    `inputs`: the evaluation's input files (`Results.inputs`), for the controls' rules."""
    # Not stored, only compared: its digests are not needed (serialising a 5,000-account snapshot to hash
    # it takes seconds, and the pack computes it once as it writes the files).
    current = record_of(snapshot, control_results, exceptions, snapshot_digest="", inputs=inputs)
    previous = store.previous(current)
    if previous is None:
        return HistoryView()
    earlier = [
        r
        for r in store.records(current.organization_id, summary=True)
        if (r.period_start, r.collected_at) < (current.period_start, current.collected_at)
    ]
    trend = [*[pack_row(r) for r in earlier][-(TREND_PACKS - 1) :], {**pack_row(current), "this_pack": True}]
    return HistoryView(
        previous=previous, diff=diff_packs(previous, current, ledger_of(snapshot)), trend=trend
    )


def since_rows(diff: PackDiff) -> list[dict[str, str]]:
    """One row per change, in the diff's order; account-level control changes counted per account."""
    rows = [
        {"area": "headline", "account_id": "", "name": "", "change": text, "detail": ""}
        for text in headline_changes(diff)
    ]
    if note := diff.version_note():
        versions, _, why = note.partition(": ")
        rows.append({"area": "rootaudit version", "account_id": "", "name": "", "change": versions,
                     "detail": why})
    for a in diff.accounts:
        change = (
            a.change
            if a.change != "changed"
            else "; ".join(
                f"{f} {old or '(none)'} -> {new or '(none)'}" for f, (old, new) in a.fields.items()
            )
        )
        rows.append(
            {
                "area": "account",
                "account_id": a.account_id,
                "name": a.name,
                "change": change,
                "detail": a.detail,
            }
        )
    for c in diff.credentials:
        what = c.change if c.change != "status" else f"status {c.old_status} -> {c.new_status}"
        rows.append(
            {
                "area": "root credential",
                "account_id": c.account_id,
                "name": c.account_name,
                "change": f"{c.kind} {c.credential_id} {what}",
                "detail": credential_line(c).split(" (by: ", 1)[1].rstrip(")"),
            }
        )
    for f in diff.features:
        rows.append(
            {"area": "organization feature", "account_id": "", "name": "", "change": f.text(), "detail": ""}
        )
    for c in diff.controls:
        if not c.account_id:
            rows.append(
                {
                    "area": "control",
                    "account_id": "",
                    "name": "",
                    "change": f"{c.framework} {c.version} {c.control_id}: {c.old or '(not evaluated)'} -> "
                    f"{c.new or '(not evaluated)'}",
                    "detail": c.title,
                }
            )
    per_account: dict[str, int] = {}
    for c in diff.controls:
        if c.account_id:
            per_account[c.account_id] = per_account.get(c.account_id, 0) + 1
    for account_id, n in sorted(per_account.items()):
        rows.append(
            {
                "area": "account controls",
                "account_id": account_id,
                "name": diff.names.get(account_id, ""),
                "change": f"{n} account-level control result(s) changed",
                "detail": "rootaudit diff OLD NEW lists each one",
            }
        )
    for r in diff.rules:
        rows.append(
            {
                "area": "control mapping",
                "account_id": "",
                "name": "",
                "change": f"{r.framework} {r.version} {r.control_id} mapped otherwise "
                f"({r.results_changed} result(s) changed status)",
                "detail": f"{r.old} -> {r.new}",
            }
        )
    for e in diff.exceptions:
        rows.append(
            {
                "area": "risk acceptance",
                "account_id": e.account_id,
                "name": e.exception_id,
                "change": f"{e.change} ({e.old_status or 'absent'} -> {e.new_status or 'absent'})",
                "detail": f"control {e.control or 'every control'}; expires {e.expires or '-'}; ticket "
                f"{e.ticket or '-'}",
            }
        )
    return rows


def trend_bars(trend: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per pack, a bar per headline series as a share of the members."""
    out = []
    for row in trend:
        members = int(row.get("member_accounts") or 0) or 1
        out.append(
            {
                "period": row["period"],
                "collected_at": row["collected_at"],
                "this_pack": bool(row.get("this_pack")),
                "member_accounts": row["member_accounts"],
                "bars": [
                    {
                        "key": css,
                        "label": label,
                        "count": int(row[key]),
                        "percent": round(100.0 * int(row[key]) / members, 1),
                    }
                    for key, label, css in TREND_SERIES
                ],
            }
        )
    return out


def drift_rows(drift: list[AccountDrift]) -> list[dict[str, str]]:
    return [
        {
            "account_id": d.account_id,
            "name": d.name,
            "at_collection": d.at_collection,
            "not_clean_throughout": "true" if d.not_clean_throughout else "false",
            "event_time": e.event_time,
            "event_name": e.event_name,
            "kind": e.kind,
            "change": e.change,
            "success": "true" if e.success else "false",
            "error_code": e.error_code,
            "how": e.how,
            "session_event_id": e.session_event_id,
            "task_policy": e.task_policy,
            "caller_arn": e.caller_arn,
            "event_id": e.event_id,
        }
        for d in drift
        for e in d.events
    ]


def history_part(view: HistoryView | None) -> dict[str, Any]:
    """What the report and workbook take from the history file, which is not in the pack: kept in the
    pack as JSON (pack.HISTORY_PART) so that `verify` can render both again from the pack alone. The
    rest of their history sections (the period's drift) comes from the snapshot itself."""
    previous = view.previous if view else None
    return {
        "previous": None
        if previous is None
        else {"period": previous.period, "collected_at": previous.collected_at, "digest": previous.digest},
        "since": since_rows(view.diff) if view and view.diff else [],
        "trend": trend_bars(view.trend) if view and len(view.trend) > 1 else [],
    }


def report_section(view: HistoryView | None, snapshot: Snapshot) -> dict[str, Any]:
    """What the report template reads as `r.history`."""
    return report_section_from(history_part(view), snapshot)


def report_section_from(part: dict[str, Any], snapshot: Snapshot) -> dict[str, Any]:
    """`report_section` from the history's part (`history_part`) and the snapshot."""
    drift = period_drift(snapshot)
    return {
        "previous": part.get("previous"),
        "since": list(part.get("since") or []),
        "trend": list(part.get("trend") or []),
        "drift": [
            {
                "account_id": d.account_id,
                "name": d.name,
                "at_collection": d.at_collection,
                "not_clean_throughout": d.not_clean_throughout,
                "events": [e.text() for e in d.events],
            }
            for d in drift
        ],
        "not_clean_throughout": sum(d.not_clean_throughout for d in drift),
    }


def workbook_sheets(
    view: HistoryView | None, snapshot: Snapshot
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, columns, rows) of the workbook's history sheets: the period's credential changes always,
    "Since the last pack" when there is a previous pack."""
    return workbook_sheets_from(history_part(view), snapshot)


def workbook_sheets_from(
    part: dict[str, Any], snapshot: Snapshot
) -> list[tuple[str, list[str], list[list[str]]]]:
    """`workbook_sheets` from the history's part (`history_part`) and the snapshot."""
    sheets = [
        (
            "Period credential changes",
            DRIFT_COLUMNS,
            [[r[c] for c in DRIFT_COLUMNS] for r in drift_rows(period_drift(snapshot))],
        )
    ]
    if part.get("since"):
        sheets.append(
            (
                "Since the last pack",
                SINCE_COLUMNS,
                [[r.get(c) for c in SINCE_COLUMNS] for r in part["since"]],
            )
        )
    return sheets
