"""The monitoring frame matches the seeded trail, metric filter, alarm, topic and rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.monitoring import (
    CIS_ROOT_FILTER_PATTERN,
    ROOT_ACTIVITY_EVENT_PATTERN,
    ROOT_USE_EXCLUDING_ASSUME_ROOT_PATTERN,
    alarm_is_cis,
    cis_match,
    collect_monitoring,
    matches_root_activity,
)
from rootaudit.period import parse_period
from rootaudit.simulate import trail
from rootaudit.simulate.trail_sample import MGMT, MiniSim, accounts_frame, context, organization_frame


def _collect(ctx: Any, sim: MiniSim) -> dict[str, Any]:
    result = collect_monitoring(
        ctx, CollectSettings(period=sim.scenario.period), accounts_frame(), organization_frame()
    )
    frame = result.frames["monitoring"]
    assert len(frame) == 1
    assert_re_derived(result, ctx)
    return frame.iloc[0].to_dict()


def assert_re_derived(result: Collected, ctx: Any) -> None:
    """The rows follow from the responses kept (a refused read's error included), and an edit does not."""
    from rootaudit.collectors.rederive import rederive_monitoring
    from tests.support.kept import as_kept

    result.raw["sts/get_caller_identity"] = {"Account": ctx.caller()["Account"]}  # the organization's
    kept = as_kept(result, parse_period("2026-Q3"))
    assert rederive_monitoring(kept) == []
    kept.frames["monitoring"].loc[0, "is_logging"] = not kept.frames["monitoring"].loc[0, "is_logging"]
    [problem] = rederive_monitoring(kept)
    assert problem.file == "data/monitoring.csv" and "is_logging is" in problem.detail


def test_monitoring_matches_what_was_seeded(mini_sim: MiniSim) -> None:
    spec = mini_sim.scenario.trail
    row = _collect(context(), mini_sim)
    assert row["account_id"] == MGMT and row["region"] == spec.home_region
    assert row["trail_arn"] == f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/{spec.trail_name}"
    for flag in (
        "is_organization_trail",
        "is_multi_region",
        "is_logging",
        "management_events",
        "log_file_validation",
    ):
        assert row[flag] is True, flag
    assert row["log_group"] == spec.log_group
    assert row["metric_filter"] == spec.metric_filter_name
    assert row["filter_pattern"] == CIS_ROOT_FILTER_PATTERN and row["matches_cis_pattern"] == "exact"
    assert row["alarm"] == spec.alarm_name and row["alarm_subscribers"] == 1
    assert row["eventbridge_rule"] == f"{trail.EVENT_RULE_NAME} (us-east-1)"
    assert row["status"] == "assessed"


def test_stopped_trail_and_missing_alarm_are_seen(mini_sim: MiniSim) -> None:
    spec = mini_sim.scenario.trail
    mini_sim.client("cloudtrail").stop_logging(Name=spec.trail_name)
    mini_sim.client("cloudwatch").delete_alarms(AlarmNames=[spec.alarm_name])
    row = _collect(context(), mini_sim)
    assert row["is_logging"] is False and row["alarm"] is None and row["alarm_subscribers"] == 0


def test_unreadable_metric_filters_make_the_row_not_assessed(
    mini_sim: MiniSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context()
    make = ctx.client

    class Refusing:
        meta = make("logs").meta

        def get_paginator(self, name: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, name)

    monkeypatch.setattr(
        ctx, "client", lambda service, **kw: Refusing() if service == "logs" else make(service, **kw)
    )
    row = _collect(ctx, mini_sim)
    assert row["status"] == "not_assessed"
    assert "logs:DescribeMetricFilters" in row["reason"] and "AccessDeniedException" in row["reason"]


@pytest.fixture
def empty_account(aws_env: None) -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


def test_no_trail_is_an_assessed_row_saying_so(empty_account: None) -> None:
    ctx = context()
    result = collect_monitoring(
        ctx, CollectSettings(period=parse_period("2026-Q3")), accounts_frame(), organization_frame()
    )
    assert_re_derived(result, ctx)
    row = result.frames["monitoring"].iloc[0]
    assert row["status"] == "assessed" and row["reason"] == "no CloudTrail trail in the account"
    assert not row["is_logging"] and row["matches_cis_pattern"] == "no"
    boto3.client("events", region_name="us-east-1")  # the account is reachable; nothing was made in it


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (CIS_ROOT_FILTER_PATTERN, "exact"),
        (
            '{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS'
            '&&$.eventType!="AwsServiceEvent"}',
            "exact",
        ),
        (
            '{ $.eventType != "AwsServiceEvent" && $.userIdentity.type = "Root" && '
            "$.userIdentity.invokedBy NOT EXISTS }",
            "equivalent",
        ),
        ('{ $.userIdentity.type = "Root" }', "equivalent"),
        ('{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }', "no"),
        ('{ $.userIdentity.type = "IAMUser" }', "no"),
        (ROOT_USE_EXCLUDING_ASSUME_ROOT_PATTERN, "no"),
        ("Root", "no"),
        ("", "no"),
    ],
)
def test_cis_pattern_matching(pattern: str, expected: str) -> None:
    assert cis_match(pattern) == expected


def test_event_patterns_and_alarms() -> None:
    assert matches_root_activity(json.dumps(ROOT_ACTIVITY_EVENT_PATTERN))
    assert matches_root_activity(json.dumps({"detail": {"userIdentity": {"type": ["Root"]}}}))
    assert not matches_root_activity(json.dumps({"detail": {"userIdentity": {"type": ["IAMUser"]}}}))
    assert not matches_root_activity("not json")
    good = {
        "Statistic": "Sum",
        "Period": 300,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
        "AlarmActions": ["arn:aws:sns:us-east-1:1:t"],
    }
    assert alarm_is_cis(good)
    assert not alarm_is_cis({**good, "Threshold": 5.0})
    assert not alarm_is_cis({**good, "AlarmActions": []})
    assert not alarm_is_cis({**good, "Statistic": "Average"})


def test_an_answer_that_leaves_a_setting_out_reads_as_unknown_not_off() -> None:
    """DescribeTrails without a trail's flags, GetTrailStatus without IsLogging, a metric filter whose
    transformation lacks the metric's name (its output shape requires it): each setting is unknown, the
    row is not_assessed with what was missing, and nothing reads as "off" (a FAIL resting on no fact)."""
    from rootaudit.collectors.monitoring import Calls, trail_row
    from rootaudit.snapshot import safe_relpath

    arn = f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/org-trail"
    group = f"arn:aws:logs:us-east-1:{MGMT}:log-group:org-trail-logs:*"
    raw = {
        safe_relpath(f"monitoring/cloudtrail/get_trail_status/{arn}"): {
            "LatestDeliveryTime": "2026-09-30T23:55:00Z"},
        safe_relpath(f"monitoring/cloudtrail/get_event_selectors/{arn}"): {
            "TrailARN": arn, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
        safe_relpath("monitoring/logs/describe_metric_filters/us-east-1/org-trail-logs"): [
            {"filterName": "RootUsage", "filterPattern": CIS_ROOT_FILTER_PATTERN,
             "metricTransformations": [{"metricValue": "1"}]}],
    }
    trail = {"Name": "org-trail", "TrailARN": arn, "HomeRegion": "us-east-1", "IsMultiRegionTrail": True,
             "CloudWatchLogsLogGroupArn": group}
    row = trail_row(Calls(None, raw, "us-east-1"), MGMT, trail, [], [])
    assert row["status"] == "not_assessed"
    assert row["is_logging"] is None and row["is_organization_trail"] is None
    assert row["log_file_validation"] is None and row["is_multi_region"] is True
    assert "GetTrailStatus: no IsLogging" in row["reason"]
    assert "no IsOrganizationTrail, LogFileValidationEnabled for the trail" in row["reason"]
    assert "RootUsage without metricName, metricNamespace" in row["reason"]
    assert row["matches_cis_pattern"] == "exact" and not row["alarm"]

    whole = {**trail, "IsOrganizationTrail": True, "LogFileValidationEnabled": True}
    raw[safe_relpath(f"monitoring/cloudtrail/get_trail_status/{arn}")]["IsLogging"] = True
    raw[safe_relpath("monitoring/logs/describe_metric_filters/us-east-1/org-trail-logs")] = []
    row = trail_row(Calls(None, raw, "us-east-1"), MGMT, whole, [], [])
    assert row["status"] == "assessed" and row["is_logging"] is True and row["log_file_validation"] is True
