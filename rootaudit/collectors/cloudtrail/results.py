"""Turning scans (files or lookup pages) into the three frames: shared by every event source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rootaudit.aws import redact
from rootaudit.collectors import Collected
from rootaudit.collectors.cloudtrail.classify import build_findings, parse_time
from rootaudit.collectors.cloudtrail.integrity import (
    INTEGRITY_GAPS,
    DigestObject,
    PublicKey,
    ReadFile,
    StreamIntegrity,
    not_checked,
)
from rootaudit.collectors.cloudtrail.kept import RECORDS, kept_raw, streams_from_raw, validate
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
    # File sources: the delivery window read, each file's hash, which file each event came from, and
    # CloudTrail's own validation of them (None for LookupEvents).
    read_window: tuple[str, str] | None = None
    read_files: list[ReadFile] = field(default_factory=list)
    event_files: dict[str, str] = field(default_factory=dict)
    integrity: StreamIntegrity | None = None
    # File sources: what CloudTrail's validation is made from (kept raw; `kept.validate` checks it).
    digests: list[DigestObject] | None = None
    bucket: str | None = None  # None for a local copy
    keys: Mapping[str, PublicKey] | str = "no public keys were looked up"
    # A stream past the digest budget (kept.DIGEST_BUDGET): its `sources` rows and each event's file
    # status as its validation found them at collection, kept instead of its digests.
    recorded: dict[str, Any] | None = None

    def file_status(self, event_id: str) -> str | None:
        """Whether the file an event came from validated (None: not a file source)."""
        if self.recorded is not None:
            return (self.recorded.get("event_integrity") or {}).get(event_id)
        if self.integrity is None:
            return None
        item = self.event_files.get(event_id)
        return self.integrity.files.get(item, ("not_read", ""))[0] if item else None

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
        self.read_files.append(ReadFile(scan.item, scan.sha256, readable=bool(scan.sha256)))
        for record in scan.records:
            self.event_files.setdefault(str(record.get("eventID")), scan.item)
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
        if t.recorded is not None:
            rows.extend(dict(r) for r in t.recorded.get("rows") or [])
            continue
        base = {"source": t.source, "account_id": t.account_id, "region": t.region, **bounds}
        bad = [p for p in t.problems if p["status"] in ("skipped", "partial", "failed")]
        checked = t.integrity.rows if t.integrity else []
        untrusted = [f for f, (status, _) in (t.integrity.files.items() if t.integrity else [])
                     if status in INTEGRITY_GAPS]
        status = "read"
        reasons = []
        if bad:
            nothing_read = t.files_read == 0 and t.pages_read == 0
            status = "failed" if nothing_read or any(p["status"] == "failed" for p in bad) else "partial"
            reasons.append(f"{len(bad)} item(s) not fully read: see their rows")
        if t.integrity is None:
            reasons.append(not_checked(t.source))
        else:
            if checked or untrusted:
                status = "failed" if status == "failed" else "partial"
            check = t.integrity
            findings = len(untrusted) + len(checked)
            reasons.append(
                f"CloudTrail validation: {check.files_validated} of {len(check.files)} log file(s) validated "
                f"against {check.digests_validated} of {check.digests_read} digest(s)"
                + (f"; {findings} finding(s): see their rows" if findings else "")
            )
        rows.append(
            {
                **base,
                "item": "*",
                "status": status,
                "reason": "; ".join(reasons),
                "read_start": t.read_window[0] if t.read_window else None,
                "read_end": t.read_window[1] if t.read_window else None,
                "files_validated": t.integrity.files_validated if t.integrity else None,
                "digests_read": t.integrity.digests_read if t.integrity else None,
                "digests_validated": t.integrity.digests_validated if t.integrity else None,
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
        # One row per item: a file the scan could not fully read keeps that status, with its
        # validation added to the reason.
        verdicts = {item: t.integrity.files[item] for item in untrusted} if t.integrity else {}
        for p in t.problems:
            verdict = verdicts.pop(p.get("item"), None)
            if verdict:
                why = f"CloudTrail validation: {verdict[0]} ({verdict[1]})"
                p = {**p, "reason": f"{p.get('reason') or ''}; {why}"}
            rows.append({**base, **p})
        for item, (status_, why) in verdicts.items():
            rows.append({**base, "item": item, "status": status_, "reason": why})
        for row in checked:
            rows.append({**base, **row})
    return rows


def collected(
    tallies: list[StreamTally],
    period: Period,
    extra_rows: Iterable[dict[str, Any]] = (),
    meta: dict[str, Any] | None = None,
) -> Collected:
    """The frames from what the streams observed, through what is kept raw of it (`kept`), so that
    the frames are the same function of the raw responses at collection and in `verify`."""
    records: dict[str, Mapping[str, Any]] = {}
    for t in tallies:
        for record in t.records:
            records.setdefault(str(record["eventID"]), record)  # the one build_findings keeps
    raw = {RECORDS: redact(sorted(records.values(), key=lambda r: (r["eventTime"], r["eventID"]))),
           **kept_raw(tallies, extra_rows, period)}
    frames, counts = cloudtrail_frames(raw, period)
    return Collected(frames=frames, raw=raw, meta={**(meta or {}), **counts})


def cloudtrail_frames(raw: Mapping[str, Any], period: Period
                      ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """`privileged_sessions`, `root_activity` and `sources` from the kept raw responses (`kept`;
    `KeptError` when they are not there), and the counts collection reports."""
    tallies, extra_rows = streams_from_raw(raw, period)
    for t in tallies:
        validate(t)
    pairs = [(r, t.source) for t in tallies for r in t.records]
    found = build_findings(pairs, period)
    integrity: dict[str, str] = {}
    for t in tallies:
        for event_id in t.event_files if t.recorded is None else t.recorded.get("event_integrity") or {}:
            status = t.file_status(event_id)
            if status is not None and integrity.get(event_id) != "validated":
                integrity[event_id] = status  # an event seen in two files counts as validated by either
    for row in [*found.sessions, *found.activity]:
        row["log_file_integrity"] = integrity.get(str(row.get("event_id")))
    rows = source_rows(tallies, period) + extra_rows
    by_source: dict[str, int] = defaultdict(int)
    for t in tallies:
        by_source[t.source] += t.events_read
    frames = {
        "privileged_sessions": make_frame("privileged_sessions", found.sessions),
        "root_activity": make_frame("root_activity", found.activity),
        "sources": make_frame("sources", rows),
    }
    return frames, {"cloudtrail_events_read": dict(by_source), "cloudtrail_duplicates": found.duplicates,
                    "cloudtrail_out_of_period": found.out_of_period}
