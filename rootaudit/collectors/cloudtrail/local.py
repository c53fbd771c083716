"""Event source: a local directory holding an organization trail's files in AWS's layout.

The digest files beside them are checked as for S3 (`integrity.check_stream`), with one difference: a
local copy keeps no S3 metadata, so each digest's signature is the one the next digest records for it
(`previousDigestSignature`); keep the digests of a few hours past the period's grace window in the copy."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from rootaudit import progress
from rootaudit.collectors.cloudtrail.files import scan_paths
from rootaudit.collectors.cloudtrail.integrity import DigestObject, PublicKey
from rootaudit.collectors.cloudtrail.layout import (
    digest_end_time,
    digest_period,
    in_read_window,
    period_days,
    read_window,
    window_period,
)
from rootaudit.collectors.cloudtrail.results import StreamTally, period_bounds
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso

_ACCOUNT = re.compile(r"^\d{12}$")


def find_awslogs(root: Path) -> Path | None:
    """The `AWSLogs` folder at `root` or up to three levels below it (the trail's S3 prefix)."""
    for depth in range(4):
        pattern = "/".join(["*"] * depth + ["AWSLogs"])
        found = sorted(p for p in root.glob(pattern) if p.is_dir())
        if found:
            return found[0]
    return None


def collect_local(
    root: Path, period: Period, organization_id: str, accounts: list[str], regions: list[str] | None,
    region_keys: Callable[[str], Mapping[str, PublicKey] | str] | None = None,
) -> tuple[list[StreamTally], list[dict[str, Any]]]:
    """Scan the period's files for the accounts (all found, when none are given) and regions, and check
    them against the digests with `region_keys(region)`, the region's public keys."""
    source = str(root)
    bounds = period_bounds(period)
    window = read_window(period)
    keys_for = region_keys or (lambda region: "no public keys were looked up")

    def failed(reason: str, account: str = "*") -> dict[str, Any]:
        return {
            "source": source,
            "account_id": account,
            "region": "*",
            "item": "*",
            "status": "failed",
            "reason": reason,
            **bounds,
        }

    awslogs = find_awslogs(root) if root.is_dir() else None
    if awslogs is None:
        return [], [failed(f"no AWSLogs folder in {root}: not an organization trail's directory")]
    base = awslogs / organization_id if organization_id else None
    if base is None or not base.is_dir():
        found = sorted(p.name for p in awslogs.iterdir() if p.is_dir())
        return [], [
            failed(
                f"no folder for organization {organization_id or '(unknown)'} under {awslogs} "
                f"(found: {', '.join(found) or 'none'})"
            )
        ]
    present = {p.name for p in base.iterdir() if p.is_dir() and _ACCOUNT.match(p.name)}
    wanted = accounts or sorted(present)
    extra: list[dict[str, Any]] = []
    for account in sorted(present - set(wanted)):
        extra.append(
            {
                **failed("account not in the organization's account list; not read", account),
                "status": "skipped",
            }
        )

    jobs: list[tuple[StreamTally, list[str]]] = []
    digests: dict[int, list[Path]] = {}
    span = digest_period(period)
    log_days, digest_days = period_days(window_period(period)), period_days(span)
    for account in wanted:
        trail_dir = base / account / "CloudTrail"
        digest_dir = base / account / "CloudTrail-Digest"
        if not trail_dir.is_dir() and not digest_dir.is_dir():
            extra.append(
                {**failed("no log files for this account in the trail", account), "status": "not_covered"}
            )
            continue
        region_dirs = sorted({p.name for d in (trail_dir, digest_dir) if d.is_dir()
                              for p in d.iterdir() if p.is_dir()})
        for region in (r for r in region_dirs if regions is None or r in regions):
            paths = _day_files(f"{trail_dir}/{region}", log_days, lambda name: in_read_window(name, period))
            tally = StreamTally(source=source, account_id=account, region=region,
                                read_window=(utc_iso(window[0]) or "", utc_iso(window[1]) or ""))
            digests[id(tally)] = [Path(p) for p in _day_files(f"{digest_dir}/{region}", digest_days,
                                                              lambda name: _in_span(name, span))]
            jobs.append((tally, paths))

    all_paths = [p for _, paths in jobs for p in paths]
    prefix = f"{root}{os.sep}"
    with progress.task("CloudTrail files", total=len(all_paths), unit="files") as task:
        scans = iter(scan_paths(all_paths))
        for tally, paths in jobs:
            for path in paths:
                scan = next(scans)
                scan.item = _relative(scan.item, prefix, root)
                tally.add_file(scan, period)
                task.advance(nbytes=scan.size or _size(path))
    for tally, _ in jobs:
        objects = [_digest_object(p, root) for p in digests[id(tally)]]
        tally.digests, tally.keys = objects, keys_for(tally.region)
    return [t for t, _ in jobs], extra


def _day_files(region_dir: str, days: list[date], keep: Callable[[str], bool]) -> list[str]:
    """The files of each day's folder (`region_dir`/YYYY/MM/DD) that `keep` keeps by name, in name order.
    One listing per day that exists, its entries' types from the listing itself: a quarter of a
    thousand accounts in 17 regions is some 3 million day folders, and a stat per file and pathlib
    objects per folder were the largest part of the time spent outside the scan itself."""
    found: list[str] = []
    for day in days:
        folder = f"{region_dir}/{day:%Y/%m/%d}"
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.is_file() and keep(e.name))
        except (FileNotFoundError, NotADirectoryError):
            continue  # no file delivered that day (a gap is found by the digests and continuity)
        found.extend(f"{folder}/{name}" for name in names)
    return found


def _relative(item: str, prefix: str, root: Path) -> str:
    return item[len(prefix):] if item.startswith(prefix) else str(Path(item).relative_to(root))


def _in_span(name: str, span: Period) -> bool:
    moment = digest_end_time(name)
    return moment is not None and span.start < moment <= span.end


def _digest_object(path: Path, root: Path) -> DigestObject:
    key = str(path.relative_to(root))
    try:
        return DigestObject(key, path.read_bytes())
    except OSError as exc:
        return DigestObject(key, None, error=f"unreadable: {exc}")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # the scan already named a file that could not be read
        return 0
