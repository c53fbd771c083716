"""Turning on centralized root access, in the order AWS requires, as `remediate --enable-features`.

    missing_feature_calls(state) -> the calls still to make, in order (pure)
    enable_features(read_ctx, change_ctx, progress) -> the record's "features" entry

The state is re-read first (read-only): all-features mode (DescribeOrganization), trusted access for IAM
(ListAWSServiceAccessForOrganization) and the IAM features (ListOrganizationsFeatures, which fails while
trusted access is off). Then, with clients that enforce the feature-enablement allowlist, only what is
missing: EnableAWSServiceAccess for iam.amazonaws.com, then EnableOrganizationsRootCredentialsManagement,
then EnableOrganizationsRootSessions; then the state is read again. All-features mode and the delegated
administrator are never changed here: the first starts a handshake with every member account, the
second is a choice of account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from rootaudit.aws import AwsContext, error_text
from rootaudit.collectors.organization import read_settings
from rootaudit.remediate import calls
from rootaudit.remediate.allowlist import IAM_SERVICE_PRINCIPAL
from rootaudit.remediate.calls import Call


class FeaturesBlocked(RuntimeError):
    """The organization is not ready for the features (not in all-features mode); nothing was changed."""


def read_features(ctx: AwsContext) -> dict[str, Any]:
    """{feature_set, iam_trusted_access, enabled_features, problems} as AWS says now (read-only)."""
    orgs = ctx.client("organizations")
    org = orgs.describe_organization()["Organization"]
    settings = read_settings(ctx, orgs, ctx.caller(), {})
    principals, features, reasons = settings.service_principals, settings.features, settings.reasons
    trusted = None if principals is None else IAM_SERVICE_PRINCIPAL in principals
    if features is not None:
        enabled: list[str] | None = list(features.get("EnabledFeatures") or [])
    else:  # unreadable; without trusted access none can be on (and the read is refused for that reason)
        enabled = [] if trusted is False else None
    return {"feature_set": org.get("FeatureSet"), "iam_trusted_access": trusted,
            "enabled_features": enabled, "problems": reasons}


def missing_feature_calls(state: Mapping[str, Any]) -> list[Call]:
    """The enable calls still needed, in AWS's order. Raises FeaturesBlocked when none may be made."""
    if state.get("feature_set") != "ALL":
        raise FeaturesBlocked(f"the organization's feature set is {state.get('feature_set')!r}, not ALL: "
                              "enable all features first (a handshake every member account accepts; "
                              "rootaudit does not start it)")
    if state.get("iam_trusted_access") is None or (state.get("iam_trusted_access")
                                                    and state.get("enabled_features") is None):
        raise FeaturesBlocked("the organization's features could not be read: "
                              + "; ".join(state.get("problems") or ["no reason given"]))
    out = []
    if not state["iam_trusted_access"]:
        out.append(calls.enable_iam_trusted_access())
    enabled = set(state.get("enabled_features") or [])
    if "RootCredentialsManagement" not in enabled:
        out.append(calls.enable_root_credentials_management())
    if "RootSessions" not in enabled:
        out.append(calls.enable_root_sessions())
    return out


def enable_features(read_ctx: AwsContext, change_ctx: AwsContext,
                    progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Make the missing calls one after the other, stopping at the first error."""
    log = change_ctx.call_log
    mark = len(log.rows())
    before = read_features(read_ctx)
    entry: dict[str, Any] = {"before": before, "after": None, "status": "failed", "reason": "", "calls": []}
    try:
        todo = missing_feature_calls(before)
        for call in todo:
            client = change_ctx.client(call.service)
            getattr(client, xform_name(call.operation))(**call.params)
            progress(f"{call.cli()}: done")
        entry["after"] = read_features(read_ctx)
        entry["status"] = "enabled" if todo else "already_enabled"
        entry["reason"] = (f"made {len(todo)} call(s): " + ", ".join(c.operation for c in todo)) if todo \
            else "every feature was already on: no call made"
    except (FeaturesBlocked, ClientError, BotoCoreError) as exc:
        entry["reason"] = f"stopped: {exc if isinstance(exc, FeaturesBlocked) else error_text(exc)}"
        progress(entry["reason"])
    finally:
        entry["calls"] = log.rows()[mark:]
    return entry
