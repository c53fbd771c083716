"""The records the simulation writes, and the pure parsing and classification of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rootaudit.collectors.cloudtrail.classify import (
    FLAG_CONSOLE_SESSION,
    activity_kind,
    build_findings,
    parse_expiration,
)
from rootaudit.period import parse_period
from rootaudit.simulate import events as ev
from rootaudit.simulate.trail_records import lookup_event, old_style_time, record_for
from rootaudit.simulate.trail_sample import CALLER, MEMBER, MGMT, history
from tests.support.aws_documents import example

WHEN = datetime(2024, 10, 25, 20, 52, 11, tzinfo=UTC)


def _assume_root(**kw: object) -> ev.AssumeRootCall:
    base = dict(
        event_id="e",
        time=WHEN,
        region="eu-west-1",
        caller_account=MGMT,
        caller_arn=CALLER,
        caller_principal_id="AROA:alice",
        target_account=MEMBER,
        task_policy_arn="arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
        duration_seconds=900,
        request_id="r",
        access_key_id="ASIAKEY",
        session_token="IQoJtoken",
        expiration=WHEN + timedelta(seconds=900),
    )
    base.update(kw)
    return ev.AssumeRootCall(**base)  # type: ignore[arg-type]


def test_assume_root_record_is_shaped_as_aws_writes_it() -> None:
    record = record_for(_assume_root())
    assert record["eventSource"] == "sts.amazonaws.com" and record["eventName"] == "AssumeRoot"
    assert record["awsRegion"] == "eu-west-1" and record["recipientAccountId"] == MGMT
    assert record["userIdentity"]["sessionContext"]["assumedRoot"] == "true"
    assert record["userIdentity"]["type"] == "AssumedRole"
    assert record["requestParameters"] == {
        "targetPrincipal": MEMBER,
        "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
        "durationSeconds": 900,
    }
    assert record["responseElements"] == {
        "credentials": {"accessKeyId": "ASIAKEY", "sessionToken": "IQoJtoken",
                        "expiration": "Oct 25, 2024, 9:07:11 PM"}
    }
    # The shape of AWS's own example (IAM user guide, "Track privileged tasks in AWS CloudTrail").
    documented = example("iam-assume-root.json", "management_account_assume_root")
    documented_credentials = documented["responseElements"]["credentials"]
    assert set(record["responseElements"]["credentials"]) == set(documented_credentials)
    assert set(record["userIdentity"]["sessionContext"]) >= {"attributes", "assumedRoot"}
    assert "secretAccessKey" not in json.dumps(record)
    # No durationSeconds when the caller gave none (AWS's example has none).
    assert "durationSeconds" not in record_for(_assume_root(duration_given=False))["requestParameters"]
    # targetPrincipal as the caller wrote it.
    arn = record_for(_assume_root(target_principal=f"arn:aws:iam::{MEMBER}:root"))
    assert arn["requestParameters"]["targetPrincipal"] == f"arn:aws:iam::{MEMBER}:root"
    assert record["eventType"] == "AwsApiCall" and record["managementEvent"] is True
    assert record["eventCategory"] == "Management" and record["readOnly"] is True
    assert next(iter(record)) == "eventVersion"


def test_refused_assume_root_has_error_and_no_credentials() -> None:
    record = record_for(
        _assume_root(
            access_key_id="", expiration=None, error_code="AccessDenied", error_message="denied by SCP"
        )
    )
    assert record["errorCode"] == "AccessDenied" and record["errorMessage"] == "denied by SCP"
    assert record["responseElements"] is None


def test_console_login_record() -> None:
    record = record_for(ev.RootConsoleLogin("c", WHEN, MEMBER, success=False, mfa_used=False))
    assert record["userIdentity"]["accessKeyId"] == "" and record["userIdentity"]["type"] == "Root"
    assert record["eventType"] == "AwsConsoleSignIn"
    assert record["responseElements"] == {"ConsoleLogin": "Failure"}
    assert record["additionalEventData"]["MFAUsed"] == "No"


def test_lookup_event_carries_the_record() -> None:
    record = record_for(_assume_root())
    event = lookup_event(record)
    assert json.loads(event["CloudTrailEvent"]) == record
    assert event["EventId"] == "e" and event["AccessKeyId"] == record["userIdentity"]["accessKeyId"]
    assert event["Resources"] == [{"ResourceType": "AWS::IAM::Account", "ResourceName": MEMBER}]


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_old_style_expiration_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_expiration(old_style_time(moment)) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_expiration_variants() -> None:
    assert parse_expiration("Oct 25, 2024, 9:07:11\u202fPM") == "2024-10-25T21:07:11Z"
    assert parse_expiration("Jan 1, 2025, 12:00:00 AM") == "2025-01-01T00:00:00Z"
    assert parse_expiration("2025-01-01T10:00:00Z") == "2025-01-01T10:00:00Z"
    assert parse_expiration("soon") is None and parse_expiration(None) is None


def test_console_session_calls_are_not_root_sessions() -> None:
    record = record_for(
        ev.RootSessionAction(
            "a", WHEN, "us-east-1", MEMBER, "ASIACONSOLE", "iam.amazonaws.com", "ListUsers", "r"
        )
    )
    assert activity_kind(record) == ("root_session", "")
    record["userIdentity"]["sessionCredentialFromConsole"] = "true"
    assert activity_kind(record) == ("other", FLAG_CONSOLE_SESSION)


def test_findings_dedupe_and_count_out_of_period() -> None:
    period = parse_period("2026-Q3")
    events = history(period)
    records = [(record_for(e), "test") for e in events]
    found = build_findings(records + records[:3], period)
    assert found.duplicates == 3
    assert found.out_of_period == 1  # the AssumeRoot two minutes before the period
    assert {s["event_id"] for s in found.sessions} == {"ar-1", "ar-2", "ar-3"}


def test_session_for_another_account_is_not_joined() -> None:
    period = parse_period("2026-Q3")
    t = period.start + timedelta(days=1)
    call = _assume_root(time=t, expiration=t + timedelta(seconds=900), access_key_id="ASIASAME")
    action = ev.RootSessionAction(
        "x",
        t + timedelta(seconds=5),
        "us-east-1",
        "999999999999",
        "ASIASAME",
        "iam.amazonaws.com",
        "ListAccessKeys",
        "r",
    )
    found = build_findings([(record_for(call), "t"), (record_for(action), "t")], period)
    assert found.sessions[0]["member_action_count"] == 0
    assert found.activity[0]["flag"] == "root session with no AssumeRoot in the period"
