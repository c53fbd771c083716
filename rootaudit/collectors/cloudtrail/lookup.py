"""Event source: CloudTrail LookupEvents (event history), per account and region, 90 days back.

- AssumeRoot calls: `EventName=AssumeRoot` in the management account and the IAM delegated
  administrator(s), in every region (the call is recorded in the STS endpoint's region).
- Root activity: `Username=root` in every account, and `AccessKeyId=<session key>` in each session's
  target account, so the actions of every ledger session are found even if event history names
  them differently. Member accounts are read through the read-only role.
- One lookup attribute per call (AWS allows no more), 50 events a page, about 2 requests a second
  per account and region (AWS's limit), paged with NextToken.
- Event history keeps 90 days: the part of the period older than that is not covered and is said so
  in `sources` (status not_covered), so the controls that need it are NOT_ASSESSED.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rootaudit import progress
from rootaudit.aws import AwsContext, error_code
from rootaudit.collectors.cloudtrail.classify import is_relevant, missing_fields, target_account_of
from rootaudit.collectors.cloudtrail.results import StreamTally, period_bounds
from rootaudit.collectors.root_common import SYSTEM_CLOCK, Clock
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso

SOURCE = "lookup"
RETENTION = timedelta(days=90)
MAX_RESULTS = 50
# Seconds between two LookupEvents calls in one account and region (AWS allows 2 per second).
REQUEST_INTERVAL = 0.5


class RateLimiter:
    """At most one call per `interval` seconds for each key (account, region)."""

    def __init__(self, interval: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.interval = interval
        self.clock = clock
        self._next: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def wait(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = self.clock.monotonic()
            at = max(now, self._next.get(key, now))
            self._next[key] = at + self.interval
        if at > now:
            self.clock.sleep(at - now)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def empty(self) -> bool:
        return self.end <= self.start


def lookup_window(period: Period, now: datetime) -> Window:
    """The part of the period event history can still answer for."""
    return Window(max(period.start, now - RETENTION), min(period.end, now))


def uncovered_reason(period: Period, window: Window, now: datetime) -> str:
    parts = []
    if window.start > period.start:
        parts.append(
            f"{utc_iso(period.start)} to {utc_iso(min(window.start, period.end))} is older than "
            f"the 90 days LookupEvents keeps (as of {utc_iso(now)}); read the organization trail "
            "(--cloudtrail s3://bucket/prefix) for it"
        )
    if period.end > now:
        parts.append(f"{utc_iso(max(now, period.start))} to {utc_iso(period.end)} has not happened yet")
    return "; ".join(parts)


def lookup_pages(
    client: Any, attribute: tuple[str, str], window: Window, limiter: RateLimiter, key: tuple[str, str]
) -> tuple[list[dict[str, Any]], int, int]:
    """Every event for one lookup attribute in the window: (records, pages, unparseable events)."""
    records: list[dict[str, Any]] = []
    pages = bad = 0
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": attribute[0], "AttributeValue": attribute[1]}],
        "StartTime": window.start,
        "EndTime": window.end,
        "MaxResults": MAX_RESULTS,
    }
    while True:
        limiter.wait(key)
        page = client.lookup_events(**params)
        pages += 1
        for event in page.get("Events", []):
            try:
                record = json.loads(event.get("CloudTrailEvent") or "")
            except ValueError:
                bad += 1
                continue
            if not isinstance(record, dict):
                bad += 1
                continue
            records.append(record)
        token = page.get("NextToken")
        if not token:
            return records, pages, bad
        params["NextToken"] = token


@dataclass
class _Target:
    account_id: str
    region: str
    attributes: list[tuple[str, str]]


def collect_lookup(
    ctx: AwsContext,
    period: Period,
    accounts: list[str],
    callers: list[str],
    regions: list[str],
    fallback_role: str,
    workers: int,
    now: datetime | None = None,
) -> tuple[list[StreamTally], list[dict[str, Any]]]:
    now = now or datetime.now(UTC)
    window = lookup_window(period, now)
    bounds = period_bounds(period)
    extra: list[dict[str, Any]] = []
    reason = uncovered_reason(period, window, now)
    all_accounts = sorted(set(accounts) | set(callers))
    if reason:
        for account in all_accounts:
            extra.append(
                {
                    "source": SOURCE,
                    "account_id": account,
                    "region": "*",
                    "item": "*",
                    "status": "not_covered",
                    "reason": reason,
                    **bounds,
                    "covered_start": utc_iso(window.start) if not window.empty else None,
                    "covered_end": utc_iso(window.end) if not window.empty else None,
                }
            )
    if window.empty:
        return [], extra

    clients, failures = _clients(ctx, all_accounts, regions, fallback_role)
    extra.extend(failures)
    limiter = RateLimiter(REQUEST_INTERVAL)
    tallies: dict[tuple[str, str], StreamTally] = {}
    lock = threading.Lock()

    def run(target: _Target) -> None:
        key = (target.account_id, target.region)
        client = clients.get(key)
        if client is None:
            return
        with lock:
            tally = tallies.setdefault(
                key,
                StreamTally(
                    source=SOURCE,
                    account_id=target.account_id,
                    region=target.region,
                    covered_start=utc_iso(window.start),
                    covered_end=utc_iso(window.end),
                ),
            )
        for attribute in target.attributes:
            item = f"{attribute[0]}={attribute[1]}"
            try:
                records, pages, bad = lookup_pages(client, attribute, window, limiter, key)
            except Exception as exc:  # one failed lookup is named; the others go on
                with lock:
                    tally.problems.append(
                        {
                            "item": item,
                            "status": "failed",
                            "reason": f"LookupEvents failed: {error_code(exc)}: {exc}",
                        }
                    )
                continue
            relevant, malformed = [], 0
            for record in records:
                if not is_relevant(record):
                    continue
                if missing_fields(record):
                    malformed += 1
                else:
                    relevant.append(record)
            pages_task.advance(pages)
            with lock:
                tally.pages_read += pages
                tally.events_read += len(records) + bad
                tally.add_records(relevant, period)
                if bad or malformed:
                    tally.problems.append(
                        {
                            "item": item,
                            "status": "partial",
                            "pages_read": pages,
                            "events_read": len(records) + bad,
                            "reason": f"{bad} event(s) whose CloudTrailEvent is not a JSON object, "
                            f"{malformed} root record(s) without the expected fields",
                        }
                    )

    first = [
        _Target(a, r, ([("EventName", "AssumeRoot")] if a in callers else []) + [("Username", "root")])
        for a in all_accounts
        for r in regions
    ]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, \
            progress.task("LookupEvents", unit="pages") as pages_task:
        list(pool.map(run, first))
        # Then the actions of each session, by its key, in the account it was made for.
        session_keys: dict[str, set[str]] = {}
        for tally in tallies.values():
            for record in tally.records:
                if record.get("eventName") != "AssumeRoot" or record.get("errorCode"):
                    continue
                creds = (record.get("responseElements") or {}).get("credentials") or {}
                target = target_account_of((record.get("requestParameters") or {}).get("targetPrincipal"))
                if creds.get("accessKeyId") and target in all_accounts:
                    session_keys.setdefault(target, set()).add(creds["accessKeyId"])
        second = [
            _Target(a, r, [("AccessKeyId", k) for k in sorted(keys)])
            for a, keys in sorted(session_keys.items())
            for r in regions
        ]
        list(pool.map(run, second))
    return [tallies[k] for k in sorted(tallies)], extra


def _clients(
    ctx: AwsContext, accounts: list[str], regions: list[str], role: str
) -> tuple[dict[tuple[str, str], Any], list[dict[str, Any]]]:
    """A cloudtrail client per account and region: the caller's own account directly, others through
    the read-only role; an account that cannot be entered is a failed row."""
    caller = ctx.caller()["Account"]
    clients: dict[tuple[str, str], Any] = {}
    failures: list[dict[str, Any]] = []
    for account in accounts:
        make: Callable[[str], Any]
        if account == caller:

            def make(region: str) -> Any:
                return ctx.client("cloudtrail", region=region)
        else:
            try:
                creds = ctx.assume_role(account, role, session_name="rootaudit-cloudtrail")
            except Exception as exc:
                failures.append(
                    {
                        "source": SOURCE,
                        "account_id": account,
                        "region": "*",
                        "item": "*",
                        "status": "failed",
                        "reason": f"cannot assume {role} to read its event history: {error_code(exc)}: {exc}",
                    }
                )
                continue

            def make(region: str, creds: Any = creds, account: str = account) -> Any:
                return ctx.client("cloudtrail", region=region, credentials=creds, account_id=account)

        for region in regions:
            clients[(account, region)] = make(region)
    return clients, failures
