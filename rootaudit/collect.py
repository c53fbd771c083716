"""The collect stage: run every collector against one organization and assemble the Snapshot.

Organization → root credentials → CloudTrail → monitoring; then the call log. A collector that fails
as a whole leaves a reasoned row saying so (a failed source, a not-assessed monitoring row), so the
controls stage sees the gap; only a failure to list the population aborts, since nothing after it
could be complete.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from rootaudit import __version__
from rootaudit.aws import AwsContext, error_code
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.cloudtrail import collect_cloudtrail
from rootaudit.collectors.cloudtrail.discover import AUTO, choose_source
from rootaudit.collectors.monitoring import collect_monitoring
from rootaudit.collectors.organization import collect_organization
from rootaudit.collectors.root_credentials import collect_root_credentials
from rootaudit.snapshot import Snapshot, make_frame, utc_iso

log = logging.getLogger(__name__)


def _now() -> str:
    return utc_iso(datetime.now(UTC)) or ""


def _stage_failed_sources(settings: CollectSettings, stage: str, exc: BaseException) -> Collected:
    reason = f"{stage} failed as a whole: {error_code(exc)}: {exc}"
    row = {"source": settings.cloudtrail, "account_id": "*", "region": "*", "item": "*", "status": "failed",
           "period_start": settings.period.start, "period_end": settings.period.end, "reason": reason}
    return Collected(frames={"sources": make_frame("sources", [row])})


def _stage_failed_monitoring(exc: BaseException) -> Collected:
    row = {"account_id": "*", "region": "*", "status": "not_assessed",
           "reason": f"monitoring collection failed as a whole: {error_code(exc)}: {exc}"}
    return Collected(frames={"monitoring": make_frame("monitoring", [row])})


def reconcile_population(accounts: pd.DataFrame, root_credentials: pd.DataFrame) -> pd.DataFrame:
    """Every listed account has exactly one root-credential row: one the collector did not return
    becomes not_assessed, so the population always adds up (listed = assessed + not assessed)."""
    have = set(root_credentials["account_id"].dropna())
    missing = [a for a in accounts["account_id"] if a not in have]
    if not missing:
        return root_credentials
    log.error("no root-credential result for %d account(s); marking them not assessed", len(missing))
    extra = make_frame("root_credentials", [
        {"account_id": a, "assessment": "not_assessed", "method": "none",
         "reason": "the collector returned no result for this account"} for a in missing])
    return make_frame("root_credentials", [*root_credentials.to_dict("records"), *extra.to_dict("records")])


def attribute_identity_calls(rows: list[dict[str, Any]], caller: dict[str, str]) -> list[dict[str, Any]]:
    """GetCallerIdentity is made before the caller's account is known; its answer is that account."""
    return [{**r, "account_id": caller["Account"]}
            if not r.get("account_id") and (r["service"], r["operation"]) == ("sts", "GetCallerIdentity")
            else r for r in rows]


def population(accounts: pd.DataFrame, root_credentials: pd.DataFrame) -> dict[str, int]:
    assessed = int((root_credentials["assessment"] == "assessed").sum())
    return {"listed": len(accounts), "assessed": assessed, "not_assessed": len(root_credentials) - assessed}


def collect(ctx: AwsContext, settings: CollectSettings) -> Snapshot:
    started = _now()
    caller = ctx.caller()
    log.info("collecting as %s", caller["Arn"])
    if settings.cloudtrail == AUTO:
        choice = choose_source(ctx, AUTO, settings.period)
        log.info("CloudTrail source %s: %s", choice.source, choice.why)
        settings = replace(settings, cloudtrail=choice.source, cloudtrail_requested=AUTO)
    org = collect_organization(ctx)  # raises when the population cannot be listed whole
    accounts, organization = org.frames["accounts"], org.frames["organization"]
    log.info("%d accounts listed", len(accounts))

    creds = collect_root_credentials(ctx, accounts, organization, settings)
    creds.frames["root_credentials"] = reconcile_population(accounts, creds.frames["root_credentials"])

    try:
        trail = collect_cloudtrail(ctx, settings, accounts, organization)
    except Exception as exc:  # the gap is recorded in `sources`; the controls make it NOT_ASSESSED
        log.exception("CloudTrail collection failed")
        trail = _stage_failed_sources(settings, "CloudTrail collection", exc)
    try:
        monitoring = collect_monitoring(ctx, settings, accounts, organization)
    except Exception as exc:
        log.exception("monitoring collection failed")
        monitoring = _stage_failed_monitoring(exc)

    frames: dict[str, pd.DataFrame] = {}
    raw: dict[str, Any] = {}
    for part in (org, creds, trail, monitoring):
        frames.update(part.frames)
        raw.update(part.raw)
    frames["api_calls"] = make_frame("api_calls", attribute_identity_calls(ctx.call_log.rows(), caller))

    org_row = organization.iloc[0] if len(organization) else None
    meta: dict[str, Any] = {
        "tool": "rootaudit",
        "tool_version": __version__,
        "organization_id": "" if org_row is None else str(org_row["organization_id"]),
        "management_account_id": "" if org_row is None else str(org_row["management_account_id"]),
        "caller_arn": caller["Arn"],
        "caller_account": caller["Account"],
        "period": settings.period.as_meta(),
        "regions": settings.regions or [],
        "home_region": ctx.region,
        "cloudtrail_source": settings.cloudtrail,
        "parameters": {"fallback_role": settings.fallback_role, "workers": settings.workers,
                       "cloudtrail_requested": settings.cloudtrail_requested or settings.cloudtrail,
                       "report_wait_seconds": settings.report_wait_seconds,
                       "account_timeout_seconds": settings.account_timeout_seconds},
        "collected_at": started,
        "completed_at": _now(),
        "population": population(accounts, frames["root_credentials"]),
        "collectors": {name: part.meta for name, part in
                       (("organization", org), ("root_credentials", creds), ("cloudtrail", trail),
                        ("monitoring", monitoring)) if part.meta},
    }
    return Snapshot(meta=meta, frames=frames, raw=raw)
