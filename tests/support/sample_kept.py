"""The sample's accounts, monitoring and CloudTrail frames as collection makes them: from raw responses in
AWS's documented shapes (Organizations, Account, CloudTrail, CloudWatch, SNS, EventBridge API References;
CloudTrail record contents), through the collectors' own transforms, so that `verify` derives them again.

The sample's hand-written rows say what the organization looks like; the responses are written from
them, and the frames are then what the transforms make of the responses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from rootaudit import population
from rootaudit.collectors.cloudtrail.results import StreamTally, collected
from rootaudit.collectors.monitoring import HOME, rows_from_raw
from rootaudit.collectors.organization import accounts_from_raw, contact_key
from rootaudit.period import Period
from rootaudit.snapshot import make_frame, safe_relpath


def accounts_raw(rows: Iterable[Mapping[str, Any]], root: str) -> dict[str, Any]:
    """ListAccounts, the OU walk (every OU under the root `root`, each named by its id, as the sample's
    paths are written) and each account's security contact, from the sample's account rows."""
    rows = list(rows)
    entries = [{"Id": r["account_id"], "Name": r["name"], "Email": r["email"], "State": r["state"],
                "JoinedMethod": r["joined_method"], "JoinedTimestamp": r["joined_at"],
                "Arn": f"arn:aws:organizations::{rows[0]['account_id']}:account/{r['account_id']}"}
               for r in rows]
    children: dict[str, list[str]] = {root: []}
    accounts_in: dict[str, list[dict[str, Any]]] = {root: []}
    for row, entry in zip(rows, entries, strict=True):
        path = str(row["ou_path"]).split("/")
        for parent, child in itertools.pairwise(path):
            if child not in children:
                children.setdefault(parent, []).append(child)
                children[child], accounts_in[child] = [], []
        accounts_in.setdefault(path[-1], []).append(entry)
    raw: dict[str, Any] = {
        "organizations/list_accounts": [{"Accounts": entries}],
        "organizations/list_roots": [{"Roots": [{"Id": root, "Name": root}]}],
    }
    for parent, ous in children.items():
        raw[f"organizations/list_organizational_units_for_parent/{parent}"] = [
            {"OrganizationalUnits": [{"Id": ou, "Name": ou} for ou in ous]}]
        raw[f"organizations/list_accounts_for_parent/{parent}"] = [{"Accounts": accounts_in.get(parent, [])}]
    for row in rows:
        raw[contact_key(row["account_id"])] = (
            {"AlternateContact": {"AlternateContactType": "SECURITY", "Name": "Security team",
                                  "EmailAddress": "security@example.com", "PhoneNumber": "+1-555-0100"}}
            if row["security_contact"] == "registered" else
            {"Error": {"Code": "ResourceNotFoundException",
                       "Message": "ResourceNotFoundException: No contact of the inputted alternate contact "
                                  "type found."}})
    return raw


def accounts_frame(raw: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], management: str
                   ) -> pd.DataFrame:
    rows = make_frame("accounts", accounts_from_raw(raw)).to_dict("records")
    return make_frame("accounts", population.reconcile(rows, population.named_in_frames(frames), management))


def monitoring_raw(caller: str, trail: Mapping[str, Any], rule: str, region: str) -> dict[str, Any]:
    """What the caller's account sees of the organization trail `trail` (a monitoring row), its CIS metric
    filter, alarm and topic, and an EventBridge rule named `rule` matching root activity."""
    arn, group = str(trail["trail_arn"]), str(trail["log_group"])
    topic = f"arn:aws:sns:{region}:{trail['account_id']}:root-activity"
    pattern = ('{"detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"], '
               '"detail": {"userIdentity": {"type": ["Root"]}}}')
    raw = {
        HOME: region,
        f"monitoring/events/list_rules/{region}": [
            {"Name": rule, "State": "ENABLED", "EventPattern": pattern}],
        "cloudtrail/describe_trails": [{
            "Name": arn.rsplit("/", 1)[-1], "TrailARN": arn, "HomeRegion": region,
            "IsOrganizationTrail": True, "IsMultiRegionTrail": True, "LogFileValidationEnabled": True,
            "S3BucketName": "org-trail-logs",
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{region}:{trail['account_id']}:log-group:{group}:*"}],
        f"monitoring/cloudtrail/get_trail_status/{arn}": {"IsLogging": True},
        f"monitoring/cloudtrail/get_event_selectors/{arn}": {
            "TrailARN": arn, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
        f"monitoring/logs/describe_metric_filters/{region}/{group}": [{
            "filterName": trail["metric_filter"], "filterPattern": trail["filter_pattern"],
            "logGroupName": group,
            "metricTransformations": [{"metricName": "RootUsage", "metricNamespace": "CISBenchmark",
                                       "metricValue": "1"}]}],
        f"monitoring/cloudwatch/describe_alarms_for_metric/{region}/CISBenchmark/RootUsage": [{
            "AlarmName": trail["alarm"], "Statistic": "Sum", "Period": 300, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": [topic]}],
        f"monitoring/sns/list_subscriptions_by_topic/{topic}": [
            {"SubscriptionArn": f"{topic}:{n:08d}", "Protocol": "email", "TopicArn": topic}
            for n in range(int(trail["alarm_subscribers"]))],
    }
    return {safe_relpath(key): value for key, value in raw.items()}  # as collection keeps them


def monitoring_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    return make_frame("monitoring", rows_from_raw(raw))


def _assume_root(row: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.09", "eventTime": row["event_time"], "eventID": row["event_id"],
        "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoot", "eventType": "AwsApiCall",
        "awsRegion": row["region"], "sourceIPAddress": row["source_ip"], "userAgent": row["user_agent"],
        "userIdentity": {"type": "AssumedRole", "arn": row["caller_arn"], "accountId": row["caller_account"]},
        "requestParameters": {
            "targetPrincipal": row["target_account"],
            "taskPolicyArn": {"arn": f"arn:aws:iam::aws:policy/root-task/{row['task_policy']}"}},
        "recipientAccountId": row["caller_account"],
    }
    if row.get("error_code"):
        record.update(errorCode=row["error_code"], errorMessage=row["error_message"], responseElements=None)
    else:
        record["responseElements"] = {"credentials": {"accessKeyId": row["session_key_id"],
                                                      "sessionToken": "<redacted>",
                                                      "expiration": row["expires_at"]}}
    return record


def _root_call(row: Mapping[str, Any]) -> dict[str, Any]:
    ident: dict[str, Any] = {"type": "Root", "principalId": row["account_id"],
                             "arn": f"arn:aws:iam::{row['account_id']}:root", "accountId": row["account_id"]}
    if row.get("access_key_id"):
        ident["accessKeyId"] = row["access_key_id"]
    if row["kind"] == "root_session":
        ident["sessionContext"] = {"assumedRoot": "true"}
    record: dict[str, Any] = {
        "eventVersion": "1.09", "eventTime": row["event_time"], "eventID": row["event_id"],
        "eventSource": row["event_source"], "eventName": row["event_name"], "awsRegion": row["region"],
        "sourceIPAddress": row["source_ip"], "userAgent": row["user_agent"], "userIdentity": ident,
        "recipientAccountId": row["account_id"], "eventType": "AwsApiCall",
    }
    if row["kind"] == "console_login":
        record.update(eventType="AwsConsoleSignIn", responseElements={"ConsoleLogin": "Success"},
                      additionalEventData={"MFAUsed": "Yes" if row.get("mfa_used") else "No"})
    return record


def cloudtrail_kept(sessions: Iterable[Mapping[str, Any]], activity: Iterable[Mapping[str, Any]],
                    sources: Iterable[Mapping[str, Any]], period: Period) -> tuple[dict[str, pd.DataFrame],
                                                                                   dict[str, Any]]:
    """The ledger, root activity and sources (and the raw kept) of a LookupEvents read whose streams are
    the sample's `sources` totals, every record read in the first of them."""
    records = [_assume_root(r) for r in sessions] + [_root_call(r) for r in activity]
    tallies, extra = [], []
    for n, s in enumerate(sources):
        if s["status"] == "read" and s["covered_start"] != s["period_start"]:  # LookupEvents' 90 days
            extra.append({**{k: s[k] for k in ("source", "account_id", "period_start", "period_end",
                                               "covered_start", "covered_end", "reason")},
                          "region": "*", "item": "*", "status": "not_covered"})
        t = StreamTally(source=s["source"], account_id=s["account_id"], region=s["region"],
                        covered_start=s["covered_start"], covered_end=s["covered_end"],
                        pages_read=s["pages_read"], events_read=s["events_read"])
        if s["status"] == "partial":
            t.problems.append({"item": "Username=root", "status": "partial", "reason": s["reason"],
                               "pages_read": s["pages_read"], "events_read": s["events_read"]})
        t.add_records(records if n == 0 else [], period)
        tallies.append(t)
    result = collected(tallies, period, extra)
    return result.frames, result.raw
