"""Was the trail logging for the whole period? Files found in S3 cannot say: a trail that was stopped
(or created) part-way through leaves no files for the missing time, and a quiet region leaves none
either. The trail's own status can: GetTrailStatus gives the latest StartLoggingTime and
StopLoggingTime. CloudTrail keeps only the latest of each, so time before the latest start is treated
as not covered unless it can be shown otherwise.

The result is extra `sources` rows, status not_covered (or failed), which the controls read as a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rootaudit.aws import error_text
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def logging_gaps(status: Mapping[str, Any], period: Period) -> list[tuple[datetime, datetime, str]]:
    """The parts of `period` the trail did not log, with why, from a GetTrailStatus response."""
    start = _moment(status.get("StartLoggingTime"))
    stop = _moment(status.get("StopLoggingTime"))
    logging = bool(status.get("IsLogging"))
    if start is None and not logging:
        return [(period.start, period.end, "the trail has no record of ever logging")]
    gaps: list[tuple[datetime, datetime, str]] = []
    if start is not None and start > period.start:
        gaps.append((period.start, min(start, period.end),
                     f"the trail's latest start of logging is {utc_iso(start)}; CloudTrail keeps only the "
                     "latest start, so the time before it cannot be shown as logged"))
    if not logging:
        if stop is None:
            gaps.append((period.start, period.end, "the trail is not logging and its stop time is unknown"))
        elif stop < period.end:
            gaps.append((max(stop, period.start), period.end,
                         f"the trail stopped logging at {utc_iso(stop)} and is not logging now"))
    return [(s, e, why) for s, e, why in gaps if s < e]


def _matches(trail: Mapping[str, Any], bucket: str, prefix: str) -> bool:
    return trail.get("S3BucketName") == bucket and (trail.get("S3KeyPrefix") or "").strip("/") == prefix


def continuity_rows(client_for: Any, uri: str, bucket: str, prefix: str, period: Period,
                    home_region: str) -> list[dict[str, Any]]:
    """`sources` rows for the parts of the period the trails delivering to `bucket/prefix` did not log.

    `client_for(region)` gives a CloudTrail client. No row when every such trail logged the whole period;
    a failed row when no such trail can be seen or read, since the files' continuity is then unknown."""
    bounds = {"source": uri, "account_id": "*", "region": "*",
              "period_start": utc_iso(period.start), "period_end": utc_iso(period.end)}
    try:
        trails = client_for(home_region).describe_trails(includeShadowTrails=True).get("trailList", [])
    except Exception as exc:
        return [{**bounds, "item": "trail status", "status": "failed",
                 "reason": f"cannot read the trails (DescribeTrails: {error_text(exc)}), so whether "
                           "the trail logged the whole period is unknown"}]
    delivering = [t for t in trails if _matches(t, bucket, prefix)]
    if not delivering:
        return [{**bounds, "item": "trail status", "status": "failed",
                 "reason": f"no trail visible from the caller's account delivers to {uri}, so whether the "
                           "files cover the whole period cannot be checked; collect from the account that "
                           "owns the organization trail"}]
    rows: list[dict[str, Any]] = []
    for trail in sorted(delivering, key=lambda t: t.get("TrailARN", "")):
        arn = trail.get("TrailARN") or trail.get("Name", "")
        try:
            status = client_for(trail.get("HomeRegion") or home_region).get_trail_status(Name=arn)
        except Exception as exc:
            rows.append({**bounds, "item": f"trail status {arn}", "status": "failed",
                         "reason": f"GetTrailStatus failed ({error_text(exc)}): the trail's logging in the "
                                   "period is unknown"})
            continue
        for start, end, why in logging_gaps(status, period):
            covered = ((end, period.end) if start == period.start else (period.start, start))
            rows.append({**bounds, "item": f"trail status {arn}", "status": "not_covered",
                         "covered_start": utc_iso(covered[0]), "covered_end": utc_iso(covered[1]),
                         "reason": f"{utc_iso(start)} to {utc_iso(end)} is not covered: {why}"})
    return rows
