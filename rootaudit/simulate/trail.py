"""The simulated organization's CloudTrail: LookupEvents, the organization trail and its monitoring.

`SimulatedOrganization` calls `install()` before moto starts and `seed(sim)` once the organization
exists (its history already in `events.EVENT_LOG`). `seed` creates, in the management account:
- the S3 bucket and the organization trail (organization, multi-region, logging, log file validation,
  all management events) delivering to the scenario's bucket/prefix and to a CloudWatch Logs group;
- the CIS root-usage metric filter on that group (the exact pattern), its alarm (Sum >= 1 over 300 s)
  notifying an SNS topic with one subscriber, and an EventBridge rule matching root activity;
- the period's log files in AWS's key layout (root events with noise around them, and noise files for
  every account), and signed digest files chained over the period and the collectors' grace window
  (`trail_digests`; ListPublicKeys answers with the signing keys);
- noise records in event history (LookupEvents), so paging sees realistic volume.
Deterministic from the scenario's seed.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rootaudit.collectors.cloudtrail.layout import DELIVERY_GRACE
from rootaudit.collectors.monitoring import CIS_ROOT_FILTER_PATTERN, ROOT_ACTIVITY_EVENT_PATTERN
from rootaudit.simulate.trail_files import (
    TrailLayout,
    TrailObjects,
    trail_objects,
    write_objects_to_dir,
)
from rootaudit.simulate.trail_records import noise_record, record_for

METRIC_NAME = "RootAccountUsageCount"
METRIC_NAMESPACE = "CISBenchmark"
EVENT_RULE_NAME = "root-activity-to-security"
CLOUDWATCH_ROLE = "CloudTrail_CloudWatchLogs_Role"
LOOKUP_NOISE_PER_REGION = 60


def install() -> None:
    # moto is needed only here and in seed, not by the writer
    from rootaudit.simulate import ext_cloudtrail_keys, lookup_events

    lookup_events.install()
    ext_cloudtrail_keys.install()


def _noise_files(scenario: Any, rng: random.Random) -> list[tuple[str, str, datetime]]:
    """One noise-only file per account, in the trail's home region, somewhere in the period: every
    account the trail covers has files, as on AWS (one region is enough for that, and keeps seeding
    a large organization quick)."""
    period = scenario.period
    span = int((period.end - period.start).total_seconds())
    return [
        (
            account_id,
            scenario.trail.home_region,
            period.start + timedelta(seconds=rng.randrange(max(1, span - 600))),
        )
        for account_id in scenario.accounts
    ]


def scenario_objects(scenario: Any, organization_id: str, noise_per_file: int = 20) -> TrailObjects:
    """The trail's objects (key -> bytes) for the scenario's history: the same for the same seed."""
    spec = scenario.trail
    layout = TrailLayout(
        organization_id=organization_id,
        bucket=spec.bucket,
        prefix=spec.prefix,
        trail_name=spec.trail_name,
        home_region=spec.home_region,
    )
    rng = random.Random(f"trail-{scenario.seed}")
    return trail_objects(
        layout,
        [record_for(e) for e in scenario.history],
        seed=scenario.seed,
        noise_per_file=noise_per_file,
        noise_files=_noise_files(scenario, rng),
        digest_window=digest_window(scenario.period),
        hourly_digests=bool(getattr(spec, "hourly_digests", False)),
    )


def digest_window(period: Any) -> tuple[datetime, datetime]:
    """The deliveries the simulated trail's digests cover: from two hours before the period to two hours
    past the collectors' grace window (so that the digest covering its end has a successor)."""
    return period.start - timedelta(hours=2), period.end + DELIVERY_GRACE + timedelta(hours=2)


def write_scenario_trail(scenario: Any, organization_id: str, root: Path) -> Path:
    """The scenario's organization trail in a local directory (no moto needed), in the S3 layout
    under `root` (the prefix included)."""
    return write_objects_to_dir(scenario_objects(scenario, organization_id), Path(root))


def seed(sim: Any) -> None:
    scenario = sim.scenario
    spec = scenario.trail
    region = spec.home_region
    account = spec.account_id
    org_id = sim.client("organizations").describe_organization()["Organization"]["Id"]

    s3 = sim.client("s3", region=region)
    s3.create_bucket(Bucket=spec.bucket)
    deliver_objects(account, spec.bucket, scenario_objects(scenario, org_id))

    logs = sim.client("logs", region=region)
    logs.create_log_group(logGroupName=spec.log_group)
    logs.put_metric_filter(
        logGroupName=spec.log_group,
        filterName=spec.metric_filter_name,
        filterPattern=CIS_ROOT_FILTER_PATTERN,
        metricTransformations=[
            {"metricName": METRIC_NAME, "metricNamespace": METRIC_NAMESPACE, "metricValue": "1"}
        ],
    )
    sns = sim.client("sns", region=region)
    topic_arn = sns.create_topic(Name=spec.sns_topic)["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=spec.subscriber_email)
    sim.client("cloudwatch", region=region).put_metric_alarm(
        AlarmName=spec.alarm_name,
        MetricName=METRIC_NAME,
        Namespace=METRIC_NAMESPACE,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic_arn],
        TreatMissingData="notBreaching",
    )
    events = sim.client("events", region=region)
    events.put_rule(
        Name=EVENT_RULE_NAME,
        EventPattern=json.dumps(ROOT_ACTIVITY_EVENT_PATTERN),
        State="ENABLED",
        Description="Root activity (console sign-ins and API calls) to the security topic",
    )
    events.put_targets(Rule=EVENT_RULE_NAME, Targets=[{"Id": "security-topic", "Arn": topic_arn}])

    cloudtrail = sim.client("cloudtrail", region=region)
    cloudtrail.create_trail(
        Name=spec.trail_name,
        S3BucketName=spec.bucket,
        S3KeyPrefix=spec.prefix,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        IsOrganizationTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{account}:log-group:{spec.log_group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/{CLOUDWATCH_ROLE}",
    )
    cloudtrail.put_event_selectors(
        TrailName=spec.trail_name,
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
    )
    cloudtrail.start_logging(Name=spec.trail_name)
    started = scenario.period.start - timedelta(days=LOGGING_LEAD_DAYS)
    _backdate_logging(account, region, spec.trail_name, started)

    seed_lookup_noise(scenario)


def deliver_objects(account: str, bucket: str, objects: TrailObjects) -> None:
    """Store the trail's objects in the bucket as CloudTrail delivers them: into moto's S3 model, with
    the user metadata (a digest's signature) and the bucket's ACL that a PutObject would give them. No
    caller's API call makes these objects on AWS, and a PutObject over HTTP for each cost about a second
    of a demo's CPU; what the collectors read back (ListObjectsV2, GetObject) goes through the API."""
    from moto.s3.models import s3_backends

    backend = s3_backends[account]["aws"]
    acl = backend.get_bucket(bucket).acl
    for key, body in objects.items():
        stored = backend.put_object(bucket, key, body, storage="STANDARD")
        user = objects.metadata.get(key, {})
        stored.set_metadata({"content-type": "binary/octet-stream",
                             **{f"x-amz-meta-{k.lower()}": v for k, v in user.items()}})
        stored.set_acl(acl)


LOGGING_LEAD_DAYS = 400  # how long before the period the simulated trail started logging


def _backdate_logging(account: str, region: str, trail_name: str, since: datetime) -> None:
    """The organization trail has been logging since before the period (GetTrailStatus's
    StartLoggingTime), as a real one would; no API call sets a past start time."""
    from moto.cloudtrail.models import cloudtrail_backends

    cloudtrail_backends[account][region].trails[trail_name].status.started = since


def seed_lookup_noise(scenario: Any, per_region: int = LOOKUP_NOISE_PER_REGION) -> None:
    """Noise in event history of the management account and delegated administrator, in the last days."""
    from rootaudit.simulate import lookup_events

    rng = random.Random(f"lookup-{scenario.seed}")
    end = min(scenario.period.end, datetime.now(scenario.period.end.tzinfo))
    callers = [scenario.management_account_id] + (
        [scenario.delegated_admin_account_id] if scenario.delegated_admin_account_id else []
    )
    lookup_events.add_records(
        noise_record(rng, account, region, end - timedelta(minutes=rng.randrange(1, 60 * 24 * 30)))
        for account in callers
        for region in scenario.trail.regions
        for _ in range(per_region)
    )
