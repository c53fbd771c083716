"""Is root use monitored? The trails, the CIS root-usage metric filter, its alarm and subscribers, and
EventBridge rules matching root activity, read in the caller's (management) account.

One `monitoring` row per trail (a row with no trail when there is none). Anything that could not be
read makes the row not_assessed, with the call and error code in the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rootaudit.aws import AwsContext, error_raw, paginate, redact
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.snapshot import make_frame, safe_relpath

# CIS AWS Foundations, "ensure a log metric filter and alarm exist for usage of the root account".
CIS_ROOT_FILTER_PATTERN = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" }'
)
# The CIS filter matches AssumeRoot sessions too (their identity type is Root). This one keeps real
# root use (sign-ins, long-term keys, console sessions) and leaves out calls made with an AssumeRoot
# session: those use temporary ASIA keys and are not made from the console. For the report to show
# beside the CIS pattern. CloudWatch Logs JSON filters accept a * wildcard in values (its documentation
# shows `{ $.sourceIPAddress != 123.123.* }`).
ROOT_USE_EXCLUDING_ASSUME_ROOT_PATTERN = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
    '&& $.eventType != "AwsServiceEvent" && ( $.userIdentity.accessKeyId != ASIA* '
    '|| $.userIdentity.sessionCredentialFromConsole = "true" ) }'
)
# An EventBridge pattern for root activity delivered by CloudTrail (API calls and console sign-ins).
ROOT_ACTIVITY_EVENT_PATTERN: dict[str, Any] = {
    "detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"],
    "detail": {"userIdentity": {"type": ["Root"]}},
}
CLOUDTRAIL_DETAIL_TYPES = frozenset(ROOT_ACTIVITY_EVENT_PATTERN["detail-type"])
RULE_REGIONS = ("us-east-1",)  # sign-ins and IAM calls are delivered to us-east-1
TRAIL_FLAGS = ("IsOrganizationTrail", "IsMultiRegionTrail", "LogFileValidationEnabled")


def _clauses(pattern: str) -> list[str] | None:
    """The `&&` clauses of a `{ … }` JSON filter, spacing normalised; None for anything else."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")) or "||" in text:
        return None
    body = text[1:-1].strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    clauses = []
    for part in body.split("&&"):
        part = re.sub(r"\s+", " ", part.strip())
        part = re.sub(r"\s*(!=|=)\s*", r" \1 ", part)
        if not part:
            return None
        clauses.append(part)
    return clauses


_CIS_CLAUSES = _clauses(CIS_ROOT_FILTER_PATTERN) or []


def cis_match(pattern: str | None) -> str:
    """exact: the CIS pattern (spacing aside); equivalent: the `type = "Root"` clause with none, some or
    all of CIS's other clauses in any order (so it matches at least what CIS matches); no otherwise."""
    if not pattern:
        return "no"
    if " ".join(pattern.split()) == " ".join(CIS_ROOT_FILTER_PATTERN.split()):
        return "exact"
    clauses = _clauses(pattern)
    if not clauses:
        return "no"
    if clauses == _CIS_CLAUSES:
        return "exact"
    if _CIS_CLAUSES[0] in clauses and set(clauses) <= set(_CIS_CLAUSES):
        return "equivalent"
    return "no"


def matches_root_activity(event_pattern: str | None) -> bool:
    """Does an EventBridge rule's pattern select CloudTrail root activity?"""
    try:
        pattern = json.loads(event_pattern or "")
    except ValueError:
        return False
    if not isinstance(pattern, Mapping):
        return False
    detail = pattern.get("detail") or {}
    ident = detail.get("userIdentity") if isinstance(detail, Mapping) else None
    types = ident.get("type") if isinstance(ident, Mapping) else None
    if not (isinstance(types, list) and "Root" in types):
        return False
    detail_types = pattern.get("detail-type")
    return detail_types is None or bool(CLOUDTRAIL_DETAIL_TYPES & set(detail_types or []))


def alarm_is_cis(alarm: Mapping[str, Any]) -> bool:
    """Sum over at most 300 s, firing at one event or more, with somewhere to send it."""
    op, threshold = alarm.get("ComparisonOperator"), float(alarm.get("Threshold", 1e9))
    fires_at_one = (op == "GreaterThanOrEqualToThreshold" and threshold <= 1) or (
        op == "GreaterThanThreshold" and threshold < 1
    )
    return (
        alarm.get("Statistic") == "Sum"
        and int(alarm.get("Period", 10**9)) <= 300
        and fires_at_one
        and bool(alarm.get("AlarmActions"))
    )


def _log_group(arn: str | None) -> tuple[str, str]:
    """(name, region) of a log group ARN arn:aws:logs:<region>:<acct>:log-group:<name>[:*]."""
    if not arn:
        return "", ""
    parts = arn.split(":")
    name = arn.split(":log-group:", 1)[1] if ":log-group:" in arn else ""
    return name.removesuffix(":*"), parts[3] if len(parts) > 3 else ""


class MissingResponse(LookupError):
    """Re-deriving: a response the rows need is not among the raw responses kept."""


class Calls:
    """The responses the monitoring rows are made from, by raw key. At collection (`ctx` given) each call
    is made and its answer (or error) kept in `raw`; re-deriving (`ctx` None), the kept answers are read
    back, so the rows are the same function of `raw` both times."""

    def __init__(self, ctx: AwsContext | None, raw: dict[str, Any], home_region: str) -> None:
        self.ctx = ctx
        self.raw = raw
        self.region = home_region  # the caller's region, where DescribeTrails is asked

    def client(self, service: str, region: str | None = None) -> Any:
        return None if self.ctx is None else self.ctx.client(service, region=region)

    def answer(self, key: str, call: Callable[[], Any]) -> Any:
        """The answer kept under `key` (an {"Error": …} for a call that failed)."""
        key = safe_relpath(key)  # as the snapshot names its file (an ARN's ":" and "/" are not kept)
        if self.ctx is None:
            if key not in self.raw:
                raise MissingResponse(key)
            return self.raw[key]
        try:
            value = call()
            if isinstance(value, Mapping):
                value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
            value = redact(value)
        except Exception as exc:  # kept, and named in the row's reason: the row becomes not_assessed
            value = error_raw(exc)
        self.raw[key] = value
        return value


class _Reader:
    """Reads that record what could not be read instead of raising."""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.problems: list[str] = []

    def read(self, what: str, key: str, call: Callable[[], Any], default: Any = None) -> Any:
        value = self.calls.answer(key, call)
        if isinstance(value, Mapping) and isinstance(value.get("Error"), Mapping):
            self.problems.append(f"{what}: {value['Error'].get('Code')}")
            return default
        return value


def _paged(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    return paginate(client, operation, key, **params)[0]


def _event_rules(calls: Calls, regions: list[str], reader: _Reader) -> list[str]:
    names: list[str] = []
    for region in regions:
        events = calls.client("events", region)
        rules = reader.read(f"events:ListRules ({region})", f"monitoring/events/list_rules/{region}",
                            lambda e=events: _paged(e, "list_rules", "Rules"), [])
        names.extend(
            f"{r['Name']} ({region})"
            for r in rules
            if r.get("State") == "ENABLED" and matches_root_activity(r.get("EventPattern"))
        )
    return sorted(names)


def _metric_filter(calls: Calls, group: str, region: str, reader: _Reader) -> tuple[dict[str, Any], str]:
    """The log group's best root-usage filter (exact before equivalent) and how it matches CIS."""
    logs = calls.client("logs", region)
    filters = reader.read(
        f"logs:DescribeMetricFilters ({group})", f"monitoring/logs/describe_metric_filters/{region}/{group}",
        lambda: _paged(logs, "describe_metric_filters", "metricFilters", logGroupName=group),
        [],
    )
    ranked = sorted(
        ((cis_match(f.get("filterPattern")), f) for f in filters),
        key=lambda pair: ["exact", "equivalent", "no"].index(pair[0]),
    )
    if not ranked or ranked[0][0] == "no":
        return {}, "no"
    return ranked[0][1], ranked[0][0]


def _alarm(
    calls: Calls, metric_filter: Mapping[str, Any], region: str, reader: _Reader
) -> tuple[str, int]:
    """The filter's CIS alarm and its topics' confirmed subscriber count."""
    cloudwatch = calls.client("cloudwatch", region)
    best: tuple[str, int] = ("", 0)
    for transform in metric_filter.get("metricTransformations", []):
        if lacking := [m for m in ("metricName", "metricNamespace") if not transform.get(m)]:
            # required by DescribeMetricFilters' output shape: without them no alarm can be looked up
            reader.problems.append(f"logs:DescribeMetricFilters: a metric transformation of "
                                   f"{metric_filter.get('filterName', '?')} without {', '.join(lacking)}")
            continue
        alarms = reader.read(
            "cloudwatch:DescribeAlarmsForMetric",
            f"monitoring/cloudwatch/describe_alarms_for_metric/{region}/{transform['metricNamespace']}/"
            f"{transform['metricName']}",
            lambda t=transform: cloudwatch.describe_alarms_for_metric(
                MetricName=t["metricName"], Namespace=t["metricNamespace"]
            )["MetricAlarms"],
            [],
        )
        for alarm in (a for a in alarms if alarm_is_cis(a)):
            count = 0
            for action in alarm.get("AlarmActions", []):
                if action.split(":")[2:3] != ["sns"]:  # any partition's SNS topic ARN
                    continue
                sns = calls.client("sns", action.split(":")[3])
                subs = reader.read(
                    f"sns:ListSubscriptionsByTopic ({action})",
                    f"monitoring/sns/list_subscriptions_by_topic/{action}",
                    lambda s=sns, a=action: _paged(
                        s, "list_subscriptions_by_topic", "Subscriptions", TopicArn=a
                    ),
                    [],
                )
                count += sum(1 for s in subs if s.get("SubscriptionArn", "").startswith("arn:"))
            name = str(alarm.get("AlarmName") or "")
            if not name:
                reader.problems.append("cloudwatch:DescribeAlarmsForMetric: an alarm without AlarmName")
            elif (count, name) > (best[1], best[0]) or not best[0]:
                best = (name, count)
    return best


def _management_events(selectors: Mapping[str, Any] | None) -> bool | None:
    if selectors is None:
        return None
    for sel in selectors.get("EventSelectors") or []:
        if sel.get("IncludeManagementEvents", True) and sel.get("ReadWriteType", "All") == "All":
            return True
    for sel in selectors.get("AdvancedEventSelectors") or []:
        for field in sel.get("FieldSelectors", []):
            if field.get("Field") == "eventCategory" and "Management" in field.get("Equals", []):
                return True
    return False


def trail_row(
    calls: Calls, account_id: str, trail: Mapping[str, Any], rules: list[str], rule_problems: list[str]
) -> dict[str, Any]:
    reader = _Reader(calls)
    reader.problems.extend(rule_problems)
    home = trail.get("HomeRegion") or calls.region
    arn = trail.get("TrailARN", "")
    client = calls.client("cloudtrail", home)
    status = reader.read("cloudtrail:GetTrailStatus", f"monitoring/cloudtrail/get_trail_status/{arn}",
                         lambda: client.get_trail_status(Name=arn))
    selectors = reader.read("cloudtrail:GetEventSelectors",
                            f"monitoring/cloudtrail/get_event_selectors/{arn}",
                            lambda: client.get_event_selectors(TrailName=arn))
    logging = status.get("IsLogging") if isinstance(status, Mapping) else None
    if isinstance(status, Mapping) and not isinstance(logging, bool):
        reader.problems.append("cloudtrail:GetTrailStatus: no IsLogging in the answer")
        logging = None
    # An answer that leaves a setting out says nothing of it: unknown, never "off".
    flags = {flag: trail.get(flag) if isinstance(trail.get(flag), bool) else None for flag in TRAIL_FLAGS}
    if absent := [flag for flag, value in flags.items() if value is None]:
        reader.problems.append(f"cloudtrail:DescribeTrails: no {', '.join(absent)} for the trail")
    group, group_region = _log_group(trail.get("CloudWatchLogsLogGroupArn"))
    metric_filter, match = ({}, "no")
    alarm, subscribers = "", 0
    if group:
        metric_filter, match = _metric_filter(calls, group, group_region or home, reader)
        if metric_filter:
            alarm, subscribers = _alarm(calls, metric_filter, group_region or home, reader)
    return {
        "account_id": account_id,
        "region": home,
        "trail_arn": arn,
        "is_organization_trail": flags["IsOrganizationTrail"],
        "is_multi_region": flags["IsMultiRegionTrail"],
        "is_logging": logging,
        "management_events": _management_events(selectors),
        "log_file_validation": flags["LogFileValidationEnabled"],
        "log_group": group,
        "metric_filter": metric_filter.get("filterName", ""),
        "filter_pattern": metric_filter.get("filterPattern", ""),
        "matches_cis_pattern": match,
        "alarm": alarm,
        "alarm_subscribers": subscribers if alarm else 0,
        "eventbridge_rule": ", ".join(rules),
        "status": "not_assessed" if reader.problems else "assessed",
        "reason": ("could not read: " + "; ".join(reader.problems)) if reader.problems else "",
    }


CALLER = "sts/get_caller_identity"  # the caller's account: the monitoring rows are its
HOME = "monitoring/home_region"  # the caller's region, where DescribeTrails and one ListRules are asked
TRAILS = "cloudtrail/describe_trails"


def monitoring_rows(calls: Calls, account_id: str) -> list[dict[str, Any]]:
    """The `monitoring` rows, read through `calls` (made and kept at collection, read back from the kept
    raw responses when re-deriving)."""
    rule_reader = _Reader(calls)
    rules = _event_rules(calls, sorted({*RULE_REGIONS, calls.region}), rule_reader)
    cloudtrail = calls.client("cloudtrail")
    reader = _Reader(calls)
    trails = reader.read("cloudtrail:DescribeTrails", TRAILS,
                         lambda: cloudtrail.describe_trails(includeShadowTrails=True)["trailList"])
    rows: list[dict[str, Any]] = []
    if trails is None:
        rows.append(
            {
                "account_id": account_id,
                "region": calls.region,
                "trail_arn": "",
                "eventbridge_rule": ", ".join(rules),
                "status": "not_assessed",
                "reason": "could not read: " + "; ".join(reader.problems + rule_reader.problems),
            }
        )
    elif not trails:
        rows.append(
            {
                "account_id": account_id,
                "region": calls.region,
                "trail_arn": "",
                "is_organization_trail": False,
                "is_multi_region": False,
                "is_logging": False,
                "management_events": False,
                "log_file_validation": False,
                "matches_cis_pattern": "no",
                "alarm_subscribers": 0,
                "eventbridge_rule": ", ".join(rules),
                "status": "not_assessed" if rule_reader.problems else "assessed",
                "reason": "no CloudTrail trail in the account"
                + ("; could not read: " + "; ".join(rule_reader.problems) if rule_reader.problems else ""),
            }
        )
    else:
        unique = {t["TrailARN"]: t for t in trails}
        rows.extend(trail_row(calls, account_id, t, rules, rule_reader.problems) for t in unique.values())
    return rows


def rows_from_raw(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `monitoring` rows again from the kept raw responses; `MissingResponse` naming one not kept."""
    for key in (CALLER, HOME):
        if key not in raw:
            raise MissingResponse(key)
    return monitoring_rows(Calls(None, dict(raw), str(raw[HOME])), str((raw[CALLER] or {}).get("Account")))


def collect_monitoring(
    ctx: AwsContext, settings: CollectSettings, accounts: pd.DataFrame, organization: pd.DataFrame
) -> Collected:
    raw: dict[str, Any] = {HOME: ctx.region}
    rows = monitoring_rows(Calls(ctx, raw, ctx.region), ctx.caller()["Account"])
    return Collected(
        frames={"monitoring": make_frame("monitoring", rows)},
        raw=raw,
        meta={"root_use_excluding_assume_root_pattern": ROOT_USE_EXCLUDING_ASSUME_ROOT_PATTERN},
    )
