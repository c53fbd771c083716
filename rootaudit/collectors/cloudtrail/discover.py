"""`--cloudtrail auto` (the default): read the organization trail where it delivers, and fall back to
LookupEvents only when there is no such trail.

LookupEvents keeps 90 days and a quarter has up to 92, so a quarterly pack read through it can never
cover its whole period; the organization trail's S3 objects can. The choice is made before collection
and said to the person (with what the pack will not cover when it falls back), and recorded in the
snapshot's parameters.

    choose_source(ctx, requested, period, now) -> SourceChoice
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rootaudit.aws import AwsContext, error_text
from rootaudit.collectors.cloudtrail.lookup import lookup_window
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso

AUTO = "auto"
LOOKUP = "lookup"


@dataclass(frozen=True)
class SourceChoice:
    requested: str  # what the operator asked for: auto, lookup, s3://…, a folder, athena://…
    source: str  # what will be read
    why: str  # one sentence: why this source
    trail_arn: str = ""
    gap: str = ""  # what the period's pack will not cover from this source ("" when nothing)


def trail_uri(trail: dict[str, Any]) -> str:
    prefix = (trail.get("S3KeyPrefix") or "").strip("/")
    return f"s3://{trail['S3BucketName']}" + (f"/{prefix}" if prefix else "")


def organization_trails(ctx: AwsContext) -> list[dict[str, Any]]:
    """The organization trails visible from the caller's account, each with its GetTrailStatus under
    `Status` (or `StatusError`), logging multi-region ones first."""
    trails = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True).get("trailList", [])
    found = []
    for trail in trails:
        if not trail.get("IsOrganizationTrail") or not trail.get("S3BucketName"):
            continue
        arn = trail.get("TrailARN") or trail.get("Name", "")
        entry = dict(trail)
        try:
            status = ctx.client("cloudtrail", region=trail.get("HomeRegion") or ctx.region).get_trail_status(
                Name=arn)
            entry["Status"] = {k: v for k, v in status.items() if k != "ResponseMetadata"}
        except Exception as exc:  # the trail is still a candidate; continuity says what is unknown
            entry["StatusError"] = error_text(exc)
        found.append(entry)
    # Shadow copies of one trail (seen from other regions) share its ARN: keep one.
    unique = {t.get("TrailARN") or t.get("Name"): t for t in found}
    return sorted(unique.values(), key=lambda t: (not t.get("Status", {}).get("IsLogging"),
                                                  not t.get("IsMultiRegionTrail"), t.get("TrailARN", "")))


def lookup_gap(period: Period, now: datetime) -> str:
    """The times of `period` LookupEvents cannot give as of `now`, in words ("" when it covers them)."""
    window = lookup_window(period, now)
    parts = []
    if window.start > period.start:
        parts.append(f"{utc_iso(period.start)} to {utc_iso(min(window.start, period.end))} (older than the "
                     "90 days LookupEvents keeps)")
    if period.end > now:
        parts.append(f"{utc_iso(max(now, period.start))} to {utc_iso(period.end)} (not yet happened)")
    return " and ".join(parts)


def choose_source(ctx: AwsContext, requested: str, period: Period, now: datetime | None = None
                  ) -> SourceChoice:
    now = now or datetime.now(UTC)
    if requested == LOOKUP:
        return SourceChoice(requested, LOOKUP, "LookupEvents, as asked", gap=lookup_gap(period, now))
    if requested != AUTO:
        return SourceChoice(requested, requested, "as asked")
    try:
        trails = organization_trails(ctx)
    except Exception as exc:
        why = (f"the trails could not be read (DescribeTrails: {error_text(exc)}), so LookupEvents is read "
               "instead")
        return SourceChoice(requested, LOOKUP, why, gap=lookup_gap(period, now))
    if not trails:
        why = (f"no organization trail is visible from account {ctx.caller()['Account']}, so LookupEvents "
               "is read instead")
        return SourceChoice(requested, LOOKUP, why, gap=lookup_gap(period, now))
    trail = trails[0]
    arn = trail.get("TrailARN") or trail.get("Name", "")
    return SourceChoice(requested, trail_uri(trail), f"the organization trail {arn} delivers there",
                        trail_arn=arn)
