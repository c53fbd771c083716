"""Where an organization trail keeps the period's log files, for any store (S3 or a local directory).

    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz

A file sits in the folder of the day it was delivered, a few minutes after its events, and its name
carries that delivery time. CloudTrail delivers late sometimes (typically about 5 minutes, not
guaranteed), so the files read are those delivered from the period's start to `DELIVERY_GRACE` after
its end (`read_window`): events inside the period that arrive later than that are not seen, and
`sources` states the window read. Events the files hold from outside the period are excluded later,
by their own time.

Digest files (`CloudTrail-Digest/`, hourly) sit beside them, foldered by the day their hour ends.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from rootaudit.period import Period

# How long after the period's end a file may be delivered and still be read for the period's events.
DELIVERY_GRACE = timedelta(hours=6)
# Digests read past the window's end: the one covering it, and the next (in a local copy a digest's
# signature is known only from its successor's previousDigestSignature).
DIGEST_LOOKAHEAD = timedelta(hours=6)
_LOG_TIME = re.compile(r"_CloudTrail_[^_/]+_(\d{8}T\d{4})Z_[^/]*$")
_DIGEST_TIME = re.compile(r"_(\d{8}T\d{6})Z(?:_backfill)?\.json\.gz$")


def read_window(period: Period) -> tuple[datetime, datetime]:
    """[start, end) of the delivery times of the files read for `period`."""
    return period.start, period.end + DELIVERY_GRACE


def window_period(period: Period) -> Period:
    """The read window as a Period (its days are the day folders listed)."""
    start, end = read_window(period)
    return Period(period.label, start, end)


def digest_period(period: Period) -> Period:
    """The digests' end times to read: from the read window's start to the look-ahead past its end."""
    start, end = read_window(period)
    return Period(period.label, start, end + DIGEST_LOOKAHEAD)


def log_delivery_time(key: str) -> datetime | None:
    """A log file's delivery time from its name (`..._CloudTrail_<region>_YYYYMMDDTHHmmZ_<rand>...`)."""
    m = _LOG_TIME.search(key)
    return datetime.strptime(m[1], "%Y%m%dT%H%M").replace(tzinfo=UTC) if m else None


def digest_end_time(key: str) -> datetime | None:
    """A digest's end time from its name (`..._YYYYMMDDTHHMMSSZ.json.gz`)."""
    m = _DIGEST_TIME.search(key)
    return datetime.strptime(m[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC) if m else None


def in_read_window(key: str, period: Period) -> bool:
    """Whether a listed log file is read for `period`: delivered inside the window (a name that carries
    no delivery time is read, and shows as not covered by any digest)."""
    moment = log_delivery_time(key)
    start, end = read_window(period)
    return moment is None or start <= moment < end


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


def region_base(base: str, account_id: str, region: str = "", folder: str = "CloudTrail") -> str:
    return f"{base}{account_id}/{folder}/{region}/" if region else f"{base}{account_id}/{folder}/"


def day_prefix(base: str, account_id: str, region: str, day: date, folder: str = "CloudTrail") -> str:
    return f"{region_base(base, account_id, region, folder)}{day:%Y/%m/%d}/"


def listing_prefixes(base: str, account_id: str, region: str, period: Period,
                     folder: str = "CloudTrail") -> list[str]:
    """The key prefixes that hold the period's files of one account and region: a month's prefix when
    the period covers that whole month (one listing instead of 28 to 31), else one prefix per day."""
    by_month: dict[tuple[int, int], list[date]] = {}
    for day in period_days(period):
        by_month.setdefault((day.year, day.month), []).append(day)
    prefixes = []
    for (year, month), days in sorted(by_month.items()):
        next_month = date(year + month // 12, month % 12 + 1, 1)
        if len(days) == (next_month - date(year, month, 1)).days:
            prefixes.append(f"{region_base(base, account_id, region, folder)}{year:04d}/{month:02d}/")
        else:
            prefixes.extend(day_prefix(base, account_id, region, d, folder) for d in days)
    return prefixes
