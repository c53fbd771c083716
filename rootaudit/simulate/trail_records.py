"""The CloudTrail records AWS writes for the simulation's root-related happenings, and noise around them.

Pure functions: an `events.*` object in, the record dict out, shaped as CloudTrail writes it (the
field names, the nesting, the old-style AssumeRoot expiration text, and, as AWS writes it, the session
token AssumeRoot issued: never a secret access key).
Noise records (IAM users, assumed roles, AWS service events) give the trail realistic volume.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from rootaudit.simulate.events import (
    AssumeRootCall,
    RootConsoleLogin,
    RootEvent,
    RootKeyCall,
    RootSessionAction,
)

EVENT_VERSION = "1.10"
TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def old_style_time(moment: datetime) -> str:
    """AssumeRoot's `expiration` as CloudTrail writes it: "Oct 25, 2024, 9:07:11 PM" (UTC, not ISO)."""
    m = moment.astimezone(UTC)
    hour = m.hour % 12 or 12
    return f"{m:%b} {m.day}, {m.year}, {hour}:{m:%M:%S} {'AM' if m.hour < 12 else 'PM'}"


def _stable_hex(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]


def _key_id(prefix: str, *parts: str) -> str:
    """A plausible access key id (prefix + 16 upper-case base-32 characters), stable for its inputs."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return prefix + "".join(alphabet[b % 32] for b in digest[:16])


def caller_identity(
    arn: str, account_id: str, principal_id: str, access_key_id: str, when: datetime
) -> dict[str, Any]:
    """userIdentity of an IAM user or an assumed-role session, from its ARN."""
    if ":assumed-role/" in arn:
        role_name = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        role_principal = principal_id.split(":", 1)[0]
        return {
            "type": "AssumedRole",
            "principalId": principal_id,
            "arn": arn,
            "accountId": account_id,
            "accessKeyId": access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_principal,
                    "arn": f"arn:aws:iam::{account_id}:role/{role_name}",
                    "accountId": account_id,
                    "userName": role_name,
                },
                "attributes": {"creationDate": iso(when - timedelta(minutes=5)), "mfaAuthenticated": "false"},
            },
        }
    user = arn.rsplit("/", 1)[-1]
    return {
        "type": "IAMUser",
        "principalId": principal_id,
        "arn": arn,
        "accountId": account_id,
        "accessKeyId": access_key_id,
        "userName": user,
    }


def _root_identity(account_id: str, access_key_id: str, when: datetime | None) -> dict[str, Any]:
    ident: dict[str, Any] = {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:aws:iam::{account_id}:root",
        "accountId": account_id,
        "accessKeyId": access_key_id,
    }
    if when is not None:  # temporary (session) credentials carry a session context; long-term keys none
        ident["sessionContext"] = {"attributes": {"creationDate": iso(when), "mfaAuthenticated": "false"}}
    return ident


def assume_root_record(call: AssumeRootCall) -> dict[str, Any]:
    """sts:AssumeRoot as recorded in the caller's account, in the STS endpoint's region."""
    identity = caller_identity(
        call.caller_arn,
        call.caller_account,
        call.caller_principal_id,
        call.caller_access_key_id or _key_id("ASIA", "caller", call.event_id),
        call.time,
    )
    # As in AWS's example (IAM user guide, "Track privileged tasks"): the caller's session context
    # carries assumedRoot "true"; an IAM user's long-term key has no session context to carry it.
    if "sessionContext" in identity:
        identity["sessionContext"]["assumedRoot"] = "true"
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": iso(call.time),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoot",
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": {
            "targetPrincipal": call.target_principal or call.target_account,
            "taskPolicyArn": {"arn": call.task_policy_arn},
            **({"durationSeconds": call.duration_seconds} if call.duration_given else {}),
        },
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": call.event_id,
        "readOnly": True,
        "resources": [],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": call.caller_account,
        "eventCategory": "Management",
        "tlsDetails": {**TLS, "clientProvidedHostHeader": f"sts.{call.region}.amazonaws.com"},
    }
    if call.error_code:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message or call.error_code
    else:
        expiration = call.expiration or call.time + timedelta(seconds=call.duration_seconds)
        record["responseElements"] = {
            "credentials": {"accessKeyId": call.access_key_id, "sessionToken": call.session_token,
                            "expiration": old_style_time(expiration)},
        }
    return _ordered(record)


def session_action_record(action: RootSessionAction) -> dict[str, Any]:
    """A call made with a root session: in the member account, type Root, the session's ASIA key."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _root_identity(action.account_id, action.access_key_id, action.time),
        "eventTime": iso(action.time),
        "eventSource": action.event_source,
        "eventName": action.event_name,
        "awsRegion": action.region,
        "sourceIPAddress": action.source_ip,
        "userAgent": action.user_agent,
        "requestParameters": action.request_parameters,
        "responseElements": None,
        "requestID": action.request_id,
        "eventID": action.event_id,
        "readOnly": action.read_only,
        "resources": session_resources(action),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": action.account_id,
        "eventCategory": "Management",
        "tlsDetails": {**TLS, "clientProvidedHostHeader": _host(action.event_source, action.region)},
    }
    if action.error_code:
        record["errorCode"] = action.error_code
        record["errorMessage"] = _denied_message(action.account_id, action.event_source, action.event_name)
    return _ordered(record)


def session_resources(action: RootSessionAction) -> list[dict[str, str]]:
    """The resources a root-session call acted on, as CloudTrail lists them: the root user for IAM calls,
    the bucket or queue for the S3 and SQS tasks."""
    params = action.request_parameters or {}
    service = action.event_source.split(".", 1)[0]
    if service == "iam":
        return [{"accountId": action.account_id, "type": "AWS::IAM::User",
                 "ARN": f"arn:aws:iam::{action.account_id}:root"}]
    if service == "s3" and params.get("bucketName"):
        return [{"accountId": action.account_id, "type": "AWS::S3::Bucket",
                 "ARN": f"arn:aws:s3:::{params['bucketName']}"}]
    if service == "sqs" and params.get("queueUrl"):
        name = str(params["queueUrl"]).rstrip("/").rsplit("/", 1)[-1]
        return [{"accountId": action.account_id, "type": "AWS::SQS::Queue",
                 "ARN": f"arn:aws:sqs:{action.region}:{action.account_id}:{name}"}]
    return []


def console_login_record(login: RootConsoleLogin) -> dict[str, Any]:
    """signin.amazonaws.com ConsoleLogin by root: accessKeyId "", AwsConsoleSignIn, MFAUsed Yes|No."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _root_identity(login.account_id, "", None),
        "eventTime": iso(login.time),
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": login.region,
        "sourceIPAddress": login.source_ip,
        "userAgent": login.user_agent,
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if login.success else "Failure"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if login.mfa_used else "No",
        },
        "eventID": login.event_id,
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": login.account_id,
        "eventCategory": "Management",
        "tlsDetails": {**TLS, "clientProvidedHostHeader": "signin.aws.amazon.com"},
    }
    if not login.success:
        record["errorMessage"] = "Failed authentication"
    return _ordered(record)


def root_key_record(call: RootKeyCall) -> dict[str, Any]:
    """A call made with a long-term root access key (AKIA…): no session context."""
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _root_identity(call.account_id, call.access_key_id, None),
        "eventTime": iso(call.time),
        "eventSource": call.event_source,
        "eventName": call.event_name,
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": None,
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": call.event_id,
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": call.account_id,
        "eventCategory": "Management",
        "tlsDetails": {**TLS, "clientProvidedHostHeader": _host(call.event_source, call.region)},
    }
    if call.error_code:
        record["errorCode"] = call.error_code
        record["errorMessage"] = _denied_message(call.account_id, call.event_source, call.event_name)
    return _ordered(record)


def record_for(event: RootEvent) -> dict[str, Any]:
    """The CloudTrail record of any simulated root-related happening."""
    if isinstance(event, AssumeRootCall):
        return assume_root_record(event)
    if isinstance(event, RootSessionAction):
        return session_action_record(event)
    if isinstance(event, RootConsoleLogin):
        return console_login_record(event)
    if isinstance(event, RootKeyCall):
        return root_key_record(event)
    raise TypeError(f"not a simulated root event: {type(event).__name__}")


def _host(event_source: str, region: str) -> str:
    service = event_source.split(".", 1)[0]
    return f"{service}.amazonaws.com" if service == "iam" else f"{service}.{region}.amazonaws.com"


def _denied_message(account_id: str, event_source: str, event_name: str) -> str:
    service = event_source.split(".", 1)[0]
    return (
        f"User: arn:aws:iam::{account_id}:root is not authorized to perform: {service}:{event_name} "
        "because no session policy allows the action"
    )


# The order CloudTrail writes the top-level fields in (eventVersion first: scanners rely on it only
# as a hint, never for correctness).
_FIELD_ORDER = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "eventCategory",
    "tlsDetails",
]


def _ordered(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record[k] for k in _FIELD_ORDER if k in record}
    out.update({k: v for k, v in record.items() if k not in out})
    return out


# --- noise: what else a trail holds --------------------------------------------------------------

_NOISE_CALLS = [  # (eventSource, eventName, readOnly, requestParameters)
    (
        "ec2.amazonaws.com",
        "DescribeInstances",
        True,
        {
            "instancesSet": {},
            "filterSet": {
                "items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]
            },
        },
    ),
    ("s3.amazonaws.com", "ListBuckets", True, {"Host": "s3.amazonaws.com"}),
    ("iam.amazonaws.com", "GetRole", True, {"roleName": "app-deployer"}),
    (
        "kms.amazonaws.com",
        "Decrypt",
        True,
        {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": "fn"}},
    ),
    (
        "ssm.amazonaws.com",
        "GetParameter",
        True,
        {"name": "/app/config/feature-flags", "withDecryption": True},
    ),
    ("lambda.amazonaws.com", "ListFunctions20150331", True, {"maxItems": 50}),
    (
        "sts.amazonaws.com",
        "AssumeRole",
        True,
        {
            "roleArn": "arn:aws:iam::{account}:role/app-deployer",
            "roleSessionName": "ci-{n}",
            "durationSeconds": 3600,
        },
    ),
    (
        "logs.amazonaws.com",
        "CreateLogStream",
        False,
        {"logGroupName": "/aws/lambda/orders", "logStreamName": "2026/07/01/[$LATEST]{n}"},
    ),
    (
        "ec2.amazonaws.com",
        "CreateTags",
        False,
        {
            "resourcesSet": {"items": [{"resourceId": "i-0{n}"}]},
            "tagSet": {"items": [{"key": "team", "value": "payments"}]},
        },
    ),
    ("organizations.amazonaws.com", "DescribeOrganization", True, None),
]

_USER_AGENTS = [
    "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.5 md/arch#x86_64 lang/python#3.11.8 "
    "cfg/retry-mode#standard",
    "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.6 "
    "exec-env/AWS_Lambda",
    "aws-sdk-java/2.25.10 Linux/5.10.205 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 "
    "vendor/Amazon.com_Inc.",
    "terraform-provider-aws/5.40.0 (+https://registry.terraform.io) aws-sdk-go-v2/1.25.2 os/linux "
    "lang/go#1.22.1",
]


def noise_record(rng: random.Random, account_id: str, region: str, when: datetime) -> dict[str, Any]:
    """One realistic non-root record: an IAM user, an assumed role, or an AWS service acting."""
    source, name, read_only, params = rng.choice(_NOISE_CALLS)
    n = rng.randrange(10**8)
    event_id = _uuid(rng)
    kind = rng.random()
    if kind < 0.15:  # an AWS service acting on the account's behalf
        identity: dict[str, Any] = {
            "type": "AWSService",
            "invokedBy": rng.choice(
                ["lambda.amazonaws.com", "cloudformation.amazonaws.com", "config.amazonaws.com"]
            ),
        }
        event_type, ip, agent = "AwsServiceEvent", identity["invokedBy"], identity["invokedBy"]
    elif kind < 0.45:
        identity = caller_identity(
            f"arn:aws:iam::{account_id}:user/svc-{n % 7}",
            account_id,
            "AIDA" + _stable_hex(account_id, str(n % 7)).upper(),
            _key_id("AKIA", account_id, str(n % 7)),
            when,
        )
        event_type, ip, agent = "AwsApiCall", f"10.{n % 250}.{n % 199}.{n % 97}", rng.choice(_USER_AGENTS)
    else:
        role = rng.choice(["app-deployer", "ReadOnlyAudit", "lambda-orders-exec", "ecs-task-payments"])
        principal = "AROA" + _stable_hex(account_id, role).upper()
        identity = caller_identity(
            f"arn:aws:iam::{account_id}:assumed-role/{role}/session-{n % 1000}",
            account_id,
            f"{principal}:session-{n % 1000}",
            _key_id("ASIA", account_id, role, str(n % 1000)),
            when,
        )
        if rng.random() < 0.3:
            identity["invokedBy"] = "cloudformation.amazonaws.com"
        event_type, ip, agent = (
            "AwsApiCall",
            f"172.{16 + n % 16}.{n % 251}.{n % 89}",
            rng.choice(_USER_AGENTS),
        )
    request = json.loads(json.dumps(params).replace("{account}", account_id).replace("{n}", str(n)))
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": None,
        "requestID": _uuid(rng),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if event_type == "AwsApiCall":
        record["tlsDetails"] = {**TLS, "clientProvidedHostHeader": _host(source, region)}
    return _ordered(record)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- LookupEvents' view of a record -------------------------------------------------------------


def lookup_username(record: dict[str, Any]) -> str:
    """The `Username` LookupEvents shows: "root" for root, the user or session name otherwise."""
    ident = record.get("userIdentity") or {}
    kind = ident.get("type")
    if kind == "Root":
        return "root"
    if kind == "IAMUser":
        return str(ident.get("userName") or ident.get("arn", "").rsplit("/", 1)[-1])
    if kind == "AssumedRole":
        return str(ident.get("arn", "").rsplit("/", 1)[-1])
    return str(ident.get("invokedBy") or "")


def lookup_resources(record: dict[str, Any]) -> list[dict[str, str]]:
    params = record.get("requestParameters") or {}
    if record.get("eventName") == "AssumeRoot":
        return [{"ResourceType": "AWS::IAM::Account", "ResourceName": str(params.get("targetPrincipal", ""))}]
    if "bucketName" in params:
        return [{"ResourceType": "AWS::S3::Bucket", "ResourceName": str(params["bucketName"])}]
    return []


def lookup_event(record: dict[str, Any]) -> dict[str, Any]:
    """A LookupEvents `Event` for a record; the record itself as a JSON string in CloudTrailEvent."""
    event: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record.get("readOnly") else "false",
        "EventTime": datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")).timestamp(),
        "EventSource": record["eventSource"],
        "Username": lookup_username(record),
        "Resources": lookup_resources(record),
        "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
    }
    key = (record.get("userIdentity") or {}).get("accessKeyId")
    if key:
        event["AccessKeyId"] = key
    return event
