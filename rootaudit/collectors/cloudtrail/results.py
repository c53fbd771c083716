"""Turning scans (files or lookup pages) into the three frames: shared by every event source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rootaudit.aws import redact
from rootaudit.collectors import Collected
from rootaudit.collectors.cloudtrail.classify import build_findings, parse_time
from rootaudit.collectors.cloudtrail.scan import FileScan
from rootaudit.period import Period
from rootaudit.snapshot import make_frame, utc_iso


@dataclass
class StreamTally:
    """One account and region of one source: what was read and what went wrong."""

    source: str
    account_id: str
    region: str
    covered_start: str | None = None
    covered_end: str | None = None
    files_read: int = 0
    pages_read: int = 0
    events_read: int = 0
    in_period: int = 0
    out_of_period: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)  # rows for bad files / failed lookups
    records: list[dict[str, Any]] = field(default_factory=list)

    def add_records(self, records: Iterable[Mapping[str, Any]], period: Period) -> None:
        for record in records:
            moment = parse_time(record.get("eventTime"))
            if moment is not None and period.contains(moment):
                self.in_period += 1
            else:
                self.out_of_period += 1
            self.records.append(dict(record))

    def add_file(self, scan: FileScan, period: Period) -> None:
        if scan.status != "skipped":
            self.files_read += 1
        self.events_read += scan.events_read
        self.add_records(scan.records, period)
        if scan.status != "read":
            self.problems.append(
                {
                    "item": scan.item,
                    "status": scan.status,
                    "reason": scan.reason,
                    "files_read": 1,
                    "events_read": scan.events_read,
                    "events_matched": len(scan.records),
                }
            )


def period_bounds(period: Period) -> dict[str, str | None]:
    return {"period_start": utc_iso(period.start), "period_end": utc_iso(period.end)}


def source_rows(tallies: Iterable[StreamTally], period: Period) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bounds = period_bounds(period)
    for t in tallies:
        base = {"source": t.source, "account_id": t.account_id, "region": t.region, **bounds}
        bad = [p for p in t.problems if p["status"] in ("skipped", "partial", "failed")]
        status = "read"
        reason = ""
        if bad:
            nothing_read = t.files_read == 0 and t.pages_read == 0
            status = "failed" if nothing_read or any(p["status"] == "failed" for p in bad) else "partial"
            reason = f"{len(bad)} item(s) not fully read: see their rows"
        rows.append(
            {
                **base,
                "item": "*",
                "status": status,
                "reason": reason,
                "covered_start": t.covered_start if t.covered_start is not None else bounds["period_start"],
                "covered_end": t.covered_end if t.covered_end is not None else bounds["period_end"],
                "files_read": t.files_read,
                "pages_read": t.pages_read,
                "events_read": t.events_read,
                "events_in_period": t.in_period,
                "events_out_of_period": t.out_of_period,
                "events_matched": t.in_period,
            }
        )
        for p in t.problems:
            rows.append({**base, **p})
    return rows


def collected(
    tallies: list[StreamTally],
    period: Period,
    extra_rows: Iterable[dict[str, Any]] = (),
    meta: dict[str, Any] | None = None,
) -> Collected:
    """The frames from every stream's records: deduplicated, period-filtered, sessions joined."""
    pairs = [(r, t.source) for t in tallies for r in t.records]
    found = build_findings(pairs, period)
    rows = source_rows(tallies, period) + list(extra_rows)
    raw_records = sorted(
        {r["eventID"]: r for r, _ in pairs}.values(), key=lambda r: (r["eventTime"], r["eventID"])
    )
    by_source: dict[str, int] = defaultdict(int)
    for t in tallies:
        by_source[t.source] += t.events_read
    return Collected(
        frames={
            "privileged_sessions": make_frame("privileged_sessions", found.sessions),
            "root_activity": make_frame("root_activity", found.activity),
            "sources": make_frame("sources", rows),
        },
        raw={"cloudtrail/root_records": redact(raw_records)},
        meta={
            **(meta or {}),
            "cloudtrail_events_read": dict(by_source),
            "cloudtrail_duplicates": found.duplicates,
            "cloudtrail_out_of_period": found.out_of_period,
        },
    )
