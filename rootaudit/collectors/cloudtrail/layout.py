"""Where an organization trail keeps the period's log files, for any store (S3 or a local directory).

    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz

A file sits in the folder of the day it was delivered, a few minutes after its events: the period's
files are in the day folders from the period's first day to the day it ends (exclusive end at
midnight: that day's first files still hold the period's last minutes). Events the files hold from
outside the period are excluded later, by their own time.
"""

from __future__ import annotations

from datetime import date, timedelta

from rootaudit.period import Period


def period_days(period: Period) -> list[date]:
    day, last = period.start.date(), period.end.date()
    days = []
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def org_base(prefix: str, organization_id: str) -> str:
    """`[prefix/]AWSLogs/<o-id>/`."""
    prefix = prefix.strip("/")
    return f"{prefix}/AWSLogs/{organization_id}/" if prefix else f"AWSLogs/{organization_id}/"


def region_base(base: str, account_id: str, region: str = "") -> str:
    return f"{base}{account_id}/CloudTrail/{region}/" if region else f"{base}{account_id}/CloudTrail/"


def day_prefix(base: str, account_id: str, region: str, day: date) -> str:
    return f"{region_base(base, account_id, region)}{day:%Y/%m/%d}/"


def listing_prefixes(base: str, account_id: str, region: str, period: Period) -> list[str]:
    """The key prefixes that hold the period's files of one account and region: a month's prefix when
    the period covers that whole month (one listing instead of 28 to 31), else one prefix per day."""
    by_month: dict[tuple[int, int], list[date]] = {}
    for day in period_days(period):
        by_month.setdefault((day.year, day.month), []).append(day)
    prefixes = []
    for (year, month), days in sorted(by_month.items()):
        next_month = date(year + month // 12, month % 12 + 1, 1)
        if len(days) == (next_month - date(year, month, 1)).days:
            prefixes.append(f"{region_base(base, account_id, region)}{year:04d}/{month:02d}/")
        else:
            prefixes.extend(day_prefix(base, account_id, region, d) for d in days)
    return prefixes
