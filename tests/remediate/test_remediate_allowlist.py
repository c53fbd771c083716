"""The remediation allowlists, enforced in the clients before anything is sent (no AWS needed): only the
named calls, AssumeRoot only with the delete task, the IAM deletes only without UserName, the feature
enables only the three calls; and the read-only guard refuses all of them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from rootaudit.aws import AwsContext, AwsSettings, Credentials
from rootaudit.readonly import READ_ONLY, ReadOnlyViolation
from rootaudit.remediate.allowlist import (
    CREDENTIAL_REMOVAL,
    DELETE_TASK_POLICY,
    FEATURE_ENABLEMENT,
    RemediationRefused,
)

AUDIT = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
MEMBER = "222222222222"


def offline(allowlist: Any = None) -> AwsContext:
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="not-a-secret",
                            region_name="us-east-1")
    ctx = AwsContext(AwsSettings(max_attempts=1, connect_timeout=0.5, read_timeout=0.5), session=session,
                     allowlist=allowlist)
    ctx._caller = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a", "UserId": "A"}
    return ctx


def never_sent(client: Any) -> Any:
    client.meta.events.register("before-send", lambda **_: pytest.fail("a refused call reached the wire"))
    return client


def session_iam(ctx: AwsContext) -> Any:
    return never_sent(ctx.client("iam", credentials=Credentials("ASIAX", "s", "t"), account_id=MEMBER))


@pytest.mark.parametrize("call, match", [
    (lambda iam: iam.delete_access_key(AccessKeyId="AKIAEXAMPLE000000001", UserName="alice"),
     "UserName must not be given"),
    (lambda iam: iam.delete_login_profile(UserName="alice"), "UserName must not be given"),
    (lambda iam: iam.deactivate_mfa_device(SerialNumber="GAHT12345678", UserName="alice"), "UserName"),
    (lambda iam: iam.delete_signing_certificate(CertificateId="C" * 24, UserName="bob"), "UserName"),
    (lambda iam: iam.create_access_key(), "not in the credential-removal allowlist"),
    (lambda iam: iam.update_access_key(AccessKeyId="AKIAEXAMPLE000000001", Status="Inactive"),
     "not in the credential-removal allowlist"),
    (lambda iam: iam.enable_organizations_root_sessions(), "not in the credential-removal allowlist"),
])
def test_credential_removal_refuses_before_sending(call: Any, match: str) -> None:
    ctx = offline(CREDENTIAL_REMOVAL)
    with pytest.raises(RemediationRefused, match=match):
        call(session_iam(ctx))
    (row,) = ctx.call_log.rows()
    assert row["outcome"] == "refused" and row["error_code"] == "RemediationRefused"


def test_assume_root_only_with_the_delete_task() -> None:
    ctx = offline(CREDENTIAL_REMOVAL)
    sts = never_sent(ctx.client("sts", account_id="123456789012"))
    for task in (AUDIT, "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword",
                 "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"):
        with pytest.raises(RemediationRefused, match="TaskPolicyArn must be"):
            sts.assume_root(TargetPrincipal=MEMBER, TaskPolicyArn={"arn": task})
    with pytest.raises(RemediationRefused, match="not in the credential-removal allowlist"):
        sts.assume_role(RoleArn=f"arn:aws:iam::{MEMBER}:role/Admin", RoleSessionName="rootaudit")
    allowed = {"TargetPrincipal": MEMBER, "TaskPolicyArn": {"arn": DELETE_TASK_POLICY}}
    assert CREDENTIAL_REMOVAL.refusal("sts", "AssumeRoot", allowed) is None


def test_feature_enablement_allows_only_the_three_calls() -> None:
    ctx = offline(FEATURE_ENABLEMENT)
    orgs = never_sent(ctx.client("organizations"))
    with pytest.raises(RemediationRefused, match=r"ServicePrincipal must be iam\.amazonaws\.com"):
        orgs.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    for call in (orgs.enable_all_features, lambda: orgs.disable_aws_service_access(
            ServicePrincipal="iam.amazonaws.com"), lambda: orgs.register_delegated_administrator(
            AccountId=MEMBER, ServicePrincipal="iam.amazonaws.com")):
        with pytest.raises(RemediationRefused, match="not in the feature-enablement allowlist"):
            call()
    iam = never_sent(ctx.client("iam"))
    for call in (iam.disable_organizations_root_sessions, iam.delete_login_profile):
        with pytest.raises(RemediationRefused):
            call()
    assert FEATURE_ENABLEMENT.operations == {
        ("sts", "GetCallerIdentity"), ("organizations", "EnableAWSServiceAccess"),
        ("iam", "EnableOrganizationsRootCredentialsManagement"), ("iam", "EnableOrganizationsRootSessions")}


def test_the_read_only_guard_refuses_every_mutating_call() -> None:
    mutating = (CREDENTIAL_REMOVAL.operations | FEATURE_ENABLEMENT.operations) - {
        ("sts", "GetCallerIdentity"), ("sts", "AssumeRoot")}
    assert not mutating & READ_ONLY.operations
    ctx = offline()  # the default: read-only
    with pytest.raises(ReadOnlyViolation, match="not in the read-only allowlist"):
        session_iam(ctx).delete_login_profile()
    with pytest.raises(ReadOnlyViolation):
        never_sent(ctx.client("iam")).enable_organizations_root_credentials_management()


def test_the_two_allowlists_name_exactly_these_changing_calls() -> None:
    assert CREDENTIAL_REMOVAL.operations == {
        ("sts", "GetCallerIdentity"), ("sts", "AssumeRoot"), ("iam", "DeleteLoginProfile"),
        ("iam", "DeleteAccessKey"), ("iam", "DeleteSigningCertificate"), ("iam", "DeactivateMFADevice")}
