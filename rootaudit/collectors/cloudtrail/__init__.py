"""CloudTrail: the privileged-session ledger (every AssumeRoot call) and root activity, from one of
four event sources chosen by `settings.cloudtrail`: `lookup` (LookupEvents), `s3://bucket/prefix`
(the organization trail's objects), a local directory holding the same layout, or
`athena://workgroup/database.table` (a query over the trail's Athena table).

Frames: `privileged_sessions`, `root_activity`, `sources` (what was read, what was not, and why).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rootaudit.aws import AwsContext, error_code
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.cloudtrail.athena import AthenaSettings, collect_athena
from rootaudit.collectors.cloudtrail.continuity import continuity_rows
from rootaudit.collectors.cloudtrail.local import collect_local
from rootaudit.collectors.cloudtrail.lookup import collect_lookup
from rootaudit.collectors.cloudtrail.results import collected, period_bounds
from rootaudit.collectors.cloudtrail.s3 import collect_s3, parse_s3_uri

__all__ = ["collect_cloudtrail", "enabled_regions"]


def _org_facts(accounts: pd.DataFrame, organization: pd.DataFrame,
               include_closed: bool = False) -> tuple[str, str, list[str], list[str]]:
    """(organization id, management account, delegated admins, accounts to read).

    A CLOSED account cannot be signed into, so LookupEvents cannot read it; but the organization
    trail kept its history, so file sources read it (`include_closed`)."""
    org_id = mgmt = ""
    admins: list[str] = []
    if len(organization):
        row = organization.iloc[0]
        org_id = "" if pd.isna(row.get("organization_id")) else str(row["organization_id"])
        mgmt = "" if pd.isna(row.get("management_account_id")) else str(row["management_account_id"])
        raw = row.get("delegated_admins")
        admins = [] if raw is None or pd.isna(raw) else [a for a in str(raw).split(",") if a.strip()]
    readable = []
    if len(accounts):
        state = accounts["state"].fillna("ACTIVE") if "state" in accounts else None
        for i, account in enumerate(accounts["account_id"].astype(str)):
            if include_closed or state is None or state.iloc[i] != "CLOSED":
                readable.append(account)
    return org_id, mgmt, admins, sorted(readable)


def enabled_regions(ctx: AwsContext) -> list[str]:
    """The regions enabled for the caller (ec2 DescribeRegions lists only those by default)."""
    regions = ctx.client("ec2").describe_regions()["Regions"]
    return sorted(r["RegionName"] for r in regions)


def collect_cloudtrail(
    ctx: AwsContext,
    settings: CollectSettings,
    accounts: pd.DataFrame,
    organization: pd.DataFrame,
    *,
    now: datetime | None = None,
) -> Collected:
    """The ledger, root activity and sources for `settings.period` from `settings.cloudtrail`.

    `now` (tests only) is the moment LookupEvents' 90 days are counted back from."""
    period = settings.period
    source = settings.cloudtrail
    org_id, mgmt, admins, readable = _org_facts(accounts, organization, include_closed=source != "lookup")
    meta: dict[str, Any] = {"cloudtrail_source": source}

    def failed(reason: str) -> Collected:
        return collected(
            [],
            period,
            [
                {
                    "source": source,
                    "account_id": "*",
                    "region": "*",
                    "item": "*",
                    "status": "failed",
                    "reason": reason,
                }
            ],
            meta,
        )

    if source == "lookup":
        try:
            regions = settings.regions or enabled_regions(ctx)
        except Exception as exc:
            return failed(
                f"cannot list the enabled regions (ec2 DescribeRegions): {error_code(exc)}: {exc}; "
                "give --regions"
            )
        callers = sorted({a for a in [mgmt, *admins] if a} or {ctx.caller()["Account"]})
        tallies, extra = collect_lookup(
            ctx, period, readable, callers, regions, settings.fallback_role, settings.workers, now=now
        )
    elif source.startswith("s3://"):
        try:
            tallies, extra = collect_s3(
                ctx.client("s3"), source, period, org_id, readable, settings.regions, settings.workers
            )
        except ValueError as exc:
            return failed(str(exc))
        bucket, prefix = parse_s3_uri(source)
        extra += continuity_rows(lambda region: ctx.client("cloudtrail", region=region), source, bucket,
                                 prefix, period, ctx.region)
    elif source.startswith("athena://"):
        try:
            athena = AthenaSettings(output=settings.athena_output,
                                    timeout_seconds=settings.athena_timeout_seconds)
            tallies, extra, run = collect_athena(ctx, source, period, readable, settings.regions, athena)
        except ValueError as exc:
            return failed(str(exc))
        meta["athena_query"] = run.meta()
    else:
        tallies, extra = collect_local(Path(source), period, org_id, readable, settings.regions)
    bounds = period_bounds(period)
    extra = [{**bounds, **row} for row in extra]
    return collected(tallies, period, extra, meta)
