"""The collect stage: run every collector against one organization and assemble the Snapshot.

Organization → root credentials → CloudTrail → monitoring; then the call log, and the population
reconciled across every listing the collectors made (`rootaudit.population`). A collector that fails
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

from rootaudit import __version__, population
from rootaudit.aws import AwsContext, error_code
from rootaudit.checkpoint import Checkpoint
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


def reconcile_population(frames: dict[str, pd.DataFrame], management_id: str) -> None:
    """One population from every listing (`rootaudit.population`), in place: an account CloudTrail or the
    root-credential results name that the organization's listings did not is added to `accounts` with
    the disagreement, and every account has exactly one root-credential row (one the collector did not
    return is not_assessed), so the population adds up: listed = assessed + not assessed."""
    rows = population.reconcile(frames["accounts"].to_dict("records"), population.named_in_frames(frames),
                                management_id)
    added = [r for r in rows if r["account_id"] not in set(frames["accounts"]["account_id"])]
    if added:
        log.error("%d account(s) named only outside the organization's account listings: %s", len(added),
                  ", ".join(r["account_id"] for r in added))
    frames["accounts"] = make_frame("accounts", rows)
    creds = frames["root_credentials"]
    have = set(creds["account_id"].dropna())
    missing = [r for r in rows if r["account_id"] not in have]
    if not missing:
        return
    log.error("no root-credential result for %d account(s); marking them not assessed", len(missing))
    extra = [{"account_id": r["account_id"], "assessment": "not_assessed", "method": "none",
              "reason": r["population_reason"] or "the collector returned no result for this account"}
             for r in missing]
    frames["root_credentials"] = make_frame("root_credentials", [*creds.to_dict("records"), *extra])


def attribute_identity_calls(rows: list[dict[str, Any]], caller: dict[str, str]) -> list[dict[str, Any]]:
    """GetCallerIdentity is made before the caller's account is known; its answer is that account."""
    return [{**r, "account_id": caller["Account"]}
            if not r.get("account_id") and (r["service"], r["operation"]) == ("sts", "GetCallerIdentity")
            else r for r in rows]


def population_counts(accounts: pd.DataFrame, root_credentials: pd.DataFrame) -> dict[str, Any]:
    """`listed`: every account in the population (any listing named it), `assessed` + `not_assessed`
    = `listed`; `reconciled`: those every listing agrees about; `listed_by`: accounts per listing;
    `disagreements`: the ids of the others."""
    assessed = int((root_credentials["assessment"] == "assessed").sum())
    agreed = population.counts(accounts.to_dict("records"))
    return {"listed": len(accounts), "assessed": assessed, "not_assessed": len(root_credentials) - assessed,
            "reconciled": agreed["reconciled"], "listed_by": agreed["listed_by"],
            "disagreements": agreed["disagreements"]}


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

    checkpoint = None
    if settings.checkpoint_path is not None:
        org_row = organization.iloc[0] if len(organization) else None
        identity = {"organization_id": "" if org_row is None else org_row["organization_id"],
                    "management_account_id": "" if org_row is None else org_row["management_account_id"],
                    "caller_arn": caller["Arn"], "fallback_role": settings.fallback_role,
                    "period": "{label} {start}..{end}".format(**settings.period.as_meta())}
        checkpoint = Checkpoint.open(settings.checkpoint_path, identity, settings.resume)
        if checkpoint.reused:
            log.info("resuming: %d account(s) read before the interruption are not read again",
                     len(checkpoint.reused))
        settings = replace(settings, checkpoint=checkpoint)
    try:
        creds = collect_root_credentials(ctx, accounts, organization, settings)
    finally:
        if checkpoint is not None:
            checkpoint.close()

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
    reconcile_population(frames, "" if org_row is None else str(org_row["management_account_id"]))

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
        "population": population_counts(frames["accounts"], frames["root_credentials"]),
        "collectors": {name: part.meta for name, part in
                       (("organization", org), ("root_credentials", creds), ("cloudtrail", trail),
                        ("monitoring", monitoring)) if part.meta},
    }
    if checkpoint is not None and checkpoint.reused:
        meta["resumed"] = checkpoint.summary()  # the pack says it was made from an interrupted collection
    return Snapshot(meta=meta, frames=frames, raw=raw)
