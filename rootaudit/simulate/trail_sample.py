"""A small, hand-written root history whose ledger and root activity are known in advance: for the
cloudtrail tests and the benchmark (the full scenario lives in `scenario.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pandas as pd

from rootaudit.period import Period, parse_period
from rootaudit.simulate import events as ev
from rootaudit.snapshot import make_frame

MGMT = "123456789012"
ADMIN = "210987654321"
MEMBER = "222222222222"
OTHER = "333333333333"
KEYED = "444444444444"
ORG_ID = "o-abcd123456"
AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
S3_UNLOCK = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
CALLER = f"arn:aws:sts::{MGMT}:assumed-role/RootAccessAdmin/alice@example.com"


@dataclass(frozen=True)
class Trail:
    trail_name: str = "organization-trail"
    bucket: str = "org-trail-bucket"
    prefix: str = "org"
    home_region: str = "us-east-1"
    log_group: str = "aws-cloudtrail-logs-organization"
    sns_topic: str = "root-activity-alarms"
    subscriber_email: str = "oncall@example.com"
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    account_id: str = MGMT
    metric_filter_name: str = "RootAccountUsage"
    alarm_name: str = "RootAccountUsageAlarm"
    hourly_digests: bool = False


@dataclass
class MiniScenario:
    """The attributes of the simulation's Scenario that the trail seeding reads."""

    period: Period
    history: list[Any]
    seed: int = 3
    management_account_id: str = MGMT
    delegated_admin_account_id: str | None = ADMIN
    accounts: dict[str, Any] = field(
        default_factory=lambda: dict.fromkeys([MGMT, ADMIN, MEMBER, OTHER, KEYED])
    )
    trail: Trail = field(default_factory=Trail)


def recent_period(today: date | None = None) -> Period:
    """A period inside LookupEvents' 90 days: the 40 days ending yesterday (short: few folders to list)."""
    today = today or datetime.now(UTC).date()
    return parse_period(
        start=(today - timedelta(days=40)).isoformat(), end=(today - timedelta(days=1)).isoformat()
    )


def history(period: Period) -> list[Any]:
    """AssumeRoot calls (one refused, one by the delegated admin, one before the period), their member
    actions, a root-session call with no AssumeRoot, console sign-ins and a long-term key call."""
    s = period.start
    t1, t2, t3 = s + timedelta(days=3, hours=9), s + timedelta(days=20, hours=14), s + timedelta(days=30)
    before = s - timedelta(minutes=2)  # delivered in the first day's folder, outside the period
    return [
        ev.AssumeRootCall(
            "ar-1",
            t1,
            "us-east-1",
            MGMT,
            CALLER,
            "AROAEXAMPLE:alice",
            MEMBER,
            AUDIT,
            900,
            "rq-1",
            access_key_id="ASIAMEMBERSESSION001",
            expiration=t1 + timedelta(seconds=900),
        ),
        ev.RootSessionAction(
            "ma-1",
            t1 + timedelta(seconds=20),
            "us-east-1",
            MEMBER,
            "ASIAMEMBERSESSION001",
            "iam.amazonaws.com",
            "GetLoginProfile",
            "rq-2",
            error_code="NoSuchEntity",
        ),
        ev.RootSessionAction(
            "ma-2",
            t1 + timedelta(seconds=40),
            "us-east-1",
            MEMBER,
            "ASIAMEMBERSESSION001",
            "iam.amazonaws.com",
            "ListAccessKeys",
            "rq-3",
        ),
        ev.AssumeRootCall(
            "ar-2",
            t2,
            "eu-west-1",
            ADMIN,
            f"arn:aws:sts::{ADMIN}:assumed-role/Sec/bot",
            "AROAADMIN:bot",
            OTHER,
            S3_UNLOCK,
            600,
            "rq-4",
            access_key_id="ASIAOTHERSESSION0002",
            expiration=t2 + timedelta(seconds=600),
        ),
        ev.RootSessionAction(
            "ma-3",
            t2 + timedelta(seconds=30),
            "eu-west-1",
            OTHER,
            "ASIAOTHERSESSION0002",
            "s3.amazonaws.com",
            "DeleteBucketPolicy",
            "rq-5",
            {"bucketName": "locked"},
            read_only=False,
        ),
        ev.AssumeRootCall(
            "ar-3",
            t3,
            "us-east-1",
            MGMT,
            CALLER,
            "AROAEXAMPLE:alice",
            KEYED,
            AUDIT,
            900,
            "rq-6",
            error_code="AccessDenied",
            error_message="explicit deny in a service control policy",
        ),
        ev.RootSessionAction(
            "orphan-1",
            t3 + timedelta(hours=1),
            "us-east-1",
            OTHER,
            "ASIANOASSUMEROOT0003",
            "iam.amazonaws.com",
            "ListMFADevices",
            "rq-7",
        ),
        ev.AssumeRootCall(
            "ar-0",
            before,
            "us-east-1",
            MGMT,
            CALLER,
            "AROAEXAMPLE:alice",
            MEMBER,
            AUDIT,
            900,
            "rq-8",
            access_key_id="ASIABEFOREPERIOD0004",
            expiration=before + timedelta(seconds=900),
        ),
        ev.RootConsoleLogin("cl-1", s + timedelta(days=7), OTHER, success=False, mfa_used=False),
        ev.RootConsoleLogin("cl-2", s + timedelta(days=7, minutes=2), OTHER, success=True, mfa_used=True),
        ev.RootKeyCall(
            "rk-1",
            s + timedelta(days=9),
            "us-west-2",
            KEYED,
            "AKIAROOTLONGTERM0001",
            "ec2.amazonaws.com",
            "DescribeInstances",
            "rq-9",
        ),
    ]


def expected_ledger() -> dict[str, dict[str, Any]]:
    return {
        "ar-1": {
            "target_account": MEMBER,
            "task_policy": "IAMAuditRootUserCredentials",
            "error_code": None,
            "session_key_id": "ASIAMEMBERSESSION001",
            "member_action_count": 2,
            "member_actions": "GetLoginProfile (NoSuchEntity); ListAccessKeys",
            "caller_account": MGMT,
            "region": "us-east-1",
        },
        "ar-2": {
            "target_account": OTHER,
            "task_policy": "S3UnlockBucketPolicy",
            "error_code": None,
            "session_key_id": "ASIAOTHERSESSION0002",
            "member_action_count": 1,
            "member_actions": "DeleteBucketPolicy",
            "caller_account": ADMIN,
            "region": "eu-west-1",
        },
        "ar-3": {
            "target_account": KEYED,
            "task_policy": "IAMAuditRootUserCredentials",
            "error_code": "AccessDenied",
            "session_key_id": None,
            "member_action_count": 0,
            "member_actions": None,
            "caller_account": MGMT,
            "region": "us-east-1",
        },
    }


EXPECTED_ACTIVITY = {  # event id -> (kind, session_event_id, flag)
    "ma-1": ("root_session", "ar-1", None),
    "ma-2": ("root_session", "ar-1", None),
    "ma-3": ("root_session", "ar-2", None),
    "orphan-1": ("root_session", None, "root session with no AssumeRoot in the period"),
    "cl-1": ("console_login", None, None),
    "cl-2": ("console_login", None, None),
    "rk-1": ("long_term_key", None, None),
}


def accounts_frame() -> pd.DataFrame:
    return make_frame(
        "accounts",
        [
            {"account_id": a, "state": "ACTIVE", "is_management": a == MGMT,
             "listed_by": "list_accounts,ou_walk"}
            for a in (MGMT, ADMIN, MEMBER, OTHER, KEYED)
        ],
    )


def organization_frame(org_id: str = ORG_ID) -> pd.DataFrame:
    return make_frame(
        "organization",
        [{"organization_id": org_id, "management_account_id": MGMT, "delegated_admins": ADMIN}],
    )


class MiniSim:
    """What trail.seed needs of SimulatedOrganization: the scenario and clients in the management account."""

    def __init__(self, scenario: MiniScenario) -> None:
        self.scenario = scenario

    def client(self, service: str, region: str | None = None, **kwargs: Any) -> Any:
        return boto3.client(service, region_name=region or "us-east-1", **kwargs)


def org_id_of(sim: Any) -> str:
    return str(sim.client("organizations").describe_organization()["Organization"]["Id"])


def context() -> Any:
    """An AwsContext for the caller (the management account) with few retries, for tests."""
    from rootaudit.aws import AwsContext, AwsSettings

    return AwsContext(AwsSettings(region="us-east-1", max_attempts=2))
