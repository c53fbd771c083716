"""Every operation the simulation extends, driven through plain boto3 against `rootaudit simulate` (server
mode, a separate process), with botocore's own parameter validation switched off: the server's checks are
what is tested. Each answer is checked against botocore's output shape for the operation."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import ListShape, Shape, StructureShape

from rootaudit.simulate.organization import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from rootaudit.simulate.scenario import build_scenario
from rootaudit.simulate.validation import EXTENDED, operation_model

ACCOUNTS, SEED = 14, 7
TASK = "arn:aws:iam::aws:policy/root-task/"
RAW = Config(parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 1})

# The module's tests share one server and one record of the operations driven (the last test checks that
# every extended operation was): run them in one process (`-n 0`, or `--dist loadfile` as .ci/run does).
pytestmark = pytest.mark.slow


def shape_problems(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """How a parsed answer differs from the output shape: unknown members, wrong types, missing required."""
    if shape is None:
        return []
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a structure"]
        found = [f"{path}.{name}: required, absent" for name in shape.required_members if name not in value]
        for name, item in value.items():
            if name == "ResponseMetadata" and not path:
                continue
            member = shape.members.get(name)
            found += ([f"{path}.{name}: not in the shape"] if member is None
                      else shape_problems(member, item, f"{path}.{name}"))
        return found
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        return [p for n, item in enumerate(value) for p in shape_problems(shape.member, item, f"{path}[{n}]")]
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str, "integer": int, "long": int, "boolean": bool, "timestamp": dt.datetime,
        "blob": (bytes, bytearray), "double": (int, float), "float": (int, float), "map": dict}
    wanted = expected.get(kind)
    if wanted is not None and not isinstance(value, wanted):
        return [f"{path}: {type(value).__name__}, not {kind}"]
    if kind == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} not in {shape.enum}"]
    return []


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`rootaudit simulate` on a free port, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen([sys.executable, "-m", "rootaudit", "simulate", "--port", "0", "--accounts",
                             str(ACCOUNTS), "--seed", str(SEED)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        ready.wait(timeout=300)  # seeding takes what it takes; this only bounds a server that never comes
        endpoint = re.search(r"AWS_ENDPOINT_URL=(\S+)", "".join(lines))
        assert ready.is_set() and endpoint, "".join(lines)
        yield endpoint.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


class Calls:
    """Plain boto3 clients against the server, recording which extended operations were driven."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.scenario = build_scenario(accounts=ACCOUNTS, seed=SEED)  # the server's scenario, rebuilt
        self.driven: set[tuple[str, str]] = set()

    def session(self, creds: dict[str, Any] | None = None) -> boto3.Session:
        if creds is None:
            return boto3.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                                 region_name=self.scenario.region)
        return boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=self.scenario.region)

    def call(self, session: boto3.Session, service: str, operation: str, **params: Any) -> dict[str, Any]:
        client = session.client(service, endpoint_url=self.endpoint, config=RAW)
        method = getattr(client, xform_name(operation))
        answer = method(**params)
        self.driven.add((service, operation))
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        problems = shape_problems(operation_model(service, operation).output_shape, answer)
        assert not problems, f"{service}:{operation} answer does not fit its output shape: {problems}"
        return answer

    def refused(self, session: boto3.Session, service: str, operation: str, **params: Any) -> tuple[str, int,
                                                                                                    str]:
        with pytest.raises(ClientError) as exc:
            self.call(session, service, operation, **params)
        error = exc.value.response
        return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]

    def root(self, account_id: str, task: str, caller: boto3.Session | None = None) -> boto3.Session:
        creds = self.call(caller or self.session(), "sts", "AssumeRoot", TargetPrincipal=account_id,
                          TaskPolicyArn={"arn": TASK + task})["Credentials"]
        return self.session(creds)


@pytest.fixture(scope="module")
def calls(server: str) -> Calls:
    return Calls(server)


def test_assume_root_is_refused_as_aws_refuses_it(calls: Calls) -> None:
    me, member = calls.session(), calls.scenario.by_kind("password_no_mfa").account_id
    task = {"arn": TASK + "IAMAuditRootUserCredentials"}
    assert calls.refused(me, "sts", "AssumeRoot", TaskPolicyArn=task)[:2] == ("ValidationError", 400)
    assert "'targetPrincipal' failed to satisfy constraint: Member must not be null" in calls.refused(
        me, "sts", "AssumeRoot", TaskPolicyArn=task)[2]
    code, status, message = calls.refused(me, "sts", "AssumeRoot", TargetPrincipal=member)
    assert (code, status) == ("ValidationError", 400) and "'taskPolicyArn'" in message
    code, _, message = calls.refused(me, "sts", "AssumeRoot", TargetPrincipal="12345", TaskPolicyArn=task)
    assert code == "ValidationError" and "length greater than or equal to 12" in message
    for duration, bound in ((901, "less than or equal to 900"), (-1, "greater than or equal to 0")):
        code, _, message = calls.refused(me, "sts", "AssumeRoot", TargetPrincipal=member, TaskPolicyArn=task,
                                         DurationSeconds=duration)
        assert code == "ValidationError" and bound in message and "'durationSeconds'" in message
    both = calls.refused(me, "sts", "AssumeRoot")[2]
    assert both.startswith("2 validation errors detected")


def test_assume_root_answers_and_source_identity_only_from_the_callers_session(calls: Calls) -> None:
    member = calls.scenario.by_kind("password_no_mfa").account_id
    plain = calls.call(calls.session(), "sts", "AssumeRoot", TargetPrincipal=f"arn:aws:iam::{member}:root",
                       TaskPolicyArn={"arn": TASK + "IAMAuditRootUserCredentials"}, DurationSeconds=0)
    assert plain["Credentials"]["AccessKeyId"].startswith("ASIA") and "SourceIdentity" not in plain
    management = calls.scenario.management_account_id
    role = calls.call(calls.session(), "sts", "AssumeRole", RoleArn=f"arn:aws:iam::{management}:role/Ops",
                      RoleSessionName="alice", SourceIdentity="alice@example.com")
    assert role["SourceIdentity"] == "alice@example.com"
    via_role = calls.call(calls.session(role["Credentials"]), "sts", "AssumeRoot", TargetPrincipal=member,
                          TaskPolicyArn={"arn": TASK + "IAMAuditRootUserCredentials"})
    assert via_role["SourceIdentity"] == "alice@example.com"
    assert calls.call(calls.session(), "sts", "GetCallerIdentity")["Account"] == management


def test_root_session_calls(calls: Calls) -> None:
    s = calls.scenario
    audit = calls.root(s.by_kind("active_root_key").account_id, "IAMAuditRootUserCredentials")
    [key] = calls.call(audit, "iam", "ListAccessKeys")["AccessKeyMetadata"]
    calls.call(audit, "iam", "GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"])
    calls.call(audit, "iam", "ListMFADevices")
    calls.call(audit, "iam", "ListSigningCertificates")
    calls.call(audit, "iam", "GetUser")
    calls.call(audit, "iam", "GetAccountSummary")
    assert calls.refused(audit, "iam", "GetAccessKeyLastUsed")[:2] == ("ValidationError", 400)
    calls.call(calls.root(s.by_kind("password_no_mfa").account_id, "IAMAuditRootUserCredentials"),
               "iam", "GetLoginProfile")

    delete = calls.root(s.by_kind("active_root_key").account_id, "IAMDeleteRootUserCredentials")
    code, status, message = calls.refused(delete, "iam", "DeleteAccessKey")
    assert (code, status) == ("ValidationError", 400) and "'accessKeyId'" in message
    calls.call(delete, "iam", "DeleteAccessKey", AccessKeyId=key["AccessKeyId"])
    certified = calls.root(s.by_kind("signing_certificate").account_id, "IAMDeleteRootUserCredentials")
    [cert] = calls.call(certified, "iam", "ListSigningCertificates")["Certificates"]
    calls.call(certified, "iam", "DeleteSigningCertificate", CertificateId=cert["CertificateId"])
    mfa = calls.root(s.by_kind("password_hardware_mfa").account_id, "IAMDeleteRootUserCredentials")
    [device] = calls.call(mfa, "iam", "ListMFADevices")["MFADevices"]
    calls.call(mfa, "iam", "DeactivateMFADevice", SerialNumber=device["SerialNumber"])

    account = s.by_kind("password_no_mfa").account_id
    calls.call(calls.root(account, "IAMDeleteRootUserCredentials"), "iam", "DeleteLoginProfile")
    create = calls.root(account, "IAMCreateRootUserPassword")
    assert calls.refused(create, "iam", "CreateLoginProfile", Password="Correct-Horse-9")[:2] == (
        "ValidationError", 400)
    calls.call(create, "iam", "CreateLoginProfile")
    assert calls.refused(create, "iam", "CreateLoginProfile")[:2] == ("EntityAlreadyExists", 409)


def test_classic_reads_and_organization_features(calls: Calls) -> None:
    me = calls.session()
    for _ in range(10):  # STARTED, then COMPLETE (the simulation completes at once)
        if calls.call(me, "iam", "GenerateCredentialReport")["State"] == "COMPLETE":
            break
    assert b"<root_account>" in calls.call(me, "iam", "GetCredentialReport")["Content"]
    calls.call(me, "iam", "GetAccountSummary")
    calls.call(me, "iam", "ListVirtualMFADevices", AssignmentStatus="Assigned")
    code, _, message = calls.refused(me, "iam", "ListVirtualMFADevices", AssignmentStatus="Everything")
    assert code == "ValidationError" and "enum value set" in message
    features = calls.call(me, "iam", "ListOrganizationsFeatures")["EnabledFeatures"]
    for feature in ("RootCredentialsManagement", "RootSessions"):
        calls.call(me, "iam", f"DisableOrganizations{feature}")
        calls.call(me, "iam", f"EnableOrganizations{feature}")
    assert calls.call(me, "iam", "ListOrganizationsFeatures")["EnabledFeatures"] == features


def test_lookup_events(calls: Calls) -> None:
    me = calls.session()
    assert calls.refused(me, "cloudtrail", "LookupEvents", MaxResults=0)[0] == "InvalidMaxResultsException"
    assert calls.refused(me, "cloudtrail", "LookupEvents", MaxResults=51)[0] == "InvalidMaxResultsException"
    # one AssumeRoot now: the seeded period's sessions may all be older than event history's 90 days
    calls.root(calls.scenario.by_kind("password_no_mfa").account_id, "IAMAuditRootUserCredentials")
    page = calls.call(me, "cloudtrail", "LookupEvents", MaxResults=5,
                      LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRoot"}])
    assert 0 < len(page["Events"]) <= 5


def test_list_public_keys(calls: Calls) -> None:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    me = calls.session()
    now = dt.datetime.now(dt.UTC)
    refused = calls.refused(me, "cloudtrail", "ListPublicKeys", StartTime=now,
                            EndTime=now - dt.timedelta(days=1))
    assert refused[0] == "InvalidTimeRangeException"
    keys = calls.call(me, "cloudtrail", "ListPublicKeys", StartTime=now - dt.timedelta(days=1),
                      EndTime=now)["PublicKeyList"]
    assert keys and all(len(k["Fingerprint"]) == 32 and k["ValidityStartTime"] <= now <= k["ValidityEndTime"]
                        for k in keys)
    assert all(load_der_public_key(k["Value"]).key_size == 2048 for k in keys)  # DER, PKCS#1


def test_every_extended_operation_was_driven(calls: Calls) -> None:
    wanted = {(service, op) for service, ops in EXTENDED.items() for op in ops}
    assert wanted - calls.driven == set()
