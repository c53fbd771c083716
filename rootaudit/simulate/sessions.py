"""Small helpers for code and tests driving a SimulatedOrganization: root and role sessions, error codes."""

from __future__ import annotations

from typing import Any

import boto3

from rootaudit.simulate.organization import SimulatedOrganization
from rootaudit.simulate.scenario import AUDIT_ROLE_NAME
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

AUDIT_TASK = TASK_POLICY_PREFIX + "IAMAuditRootUserCredentials"


def root_session(sim: SimulatedOrganization, account_id: str, task_arn: str = AUDIT_TASK,
                 caller: boto3.Session | None = None) -> boto3.Session:
    """A boto3 session holding a root session's credentials in `account_id` (AssumeRoot by `caller`,
    by default the management caller)."""
    creds = sim.client("sts", session=caller).assume_root(
        TargetPrincipal=account_id, TaskPolicyArn={"arn": task_arn})["Credentials"]
    return sim.session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def role_session(sim: SimulatedOrganization, account_id: str, role: str = AUDIT_ROLE_NAME,
                 caller: boto3.Session | None = None) -> boto3.Session:
    """A boto3 session in a role of `account_id` (AssumeRole by `caller`, default the management caller)."""
    creds = sim.client("sts", session=caller).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="rootaudit")["Credentials"]
    return sim.session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def error_of(exc: Any) -> tuple[str, int]:
    """(error code, HTTP status) of a botocore ClientError (or of pytest's ExceptionInfo around one)."""
    exc = getattr(exc, "value", exc)
    response = exc.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
