"""The AWS calls of a rollout, each written once and shown three ways: as the API call rootaudit makes,
as an AWS CLI command, and as a boto3 line.

Names follow botocore's service models (the CLI derives its command and option names from them the same
way, `xform_name`): `DeleteAccessKey(AccessKeyId=…)` is `aws iam delete-access-key --access-key-id …`
and `iam.delete_access_key(AccessKeyId=…)`. Structure parameters use the CLI's shorthand
(`--task-policy-arn arn=…`). Inside a root session every IAM call names no user: the session acts on
the member account's root user only.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name

from rootaudit.aws import AUDIT_TASK_POLICY
from rootaudit.remediate.allowlist import DELETE_TASK_POLICY, IAM_SERVICE_PRINCIPAL

ROOT_SESSION_SECONDS = 900  # AssumeRoot's maximum, and its default
CREDENTIAL_ORDER = ("password", "access_key", "signing_certificate", "mfa_device")
# The password goes first and MFA last, so root never holds a password without its MFA on the way.


@dataclass(frozen=True)
class Call:
    service: str  # botocore's service name: sts, iam, organizations
    operation: str  # the API operation, e.g. DeleteAccessKey
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "params": dict(self.params)}

    def ordered_params(self) -> list[tuple[str, Any]]:
        """The parameters in the order the service model declares them (a plan read back from JSON has
        them sorted), so that a command always reads the same."""
        order = _member_order(self.service, self.operation)
        return sorted(self.params.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else
                                                           len(order), kv[0]))

    def cli(self) -> str:
        words = ["aws", self.service, xform_name(self.operation, "-")]
        for name, value in self.ordered_params():
            words += [f"--{xform_name(name, '-')}", _cli_value(value)]
        return " ".join(words)

    def boto3(self, client: str | None = None) -> str:
        args = ", ".join(f"{name}={_py_value(value)}" for name, value in self.ordered_params())
        return f"{client or self.service}.{xform_name(self.operation)}({args})"


@cache
def _member_order(service: str, operation: str) -> tuple[str, ...]:
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    return tuple(shape.members) if shape is not None else ()


def _cli_value(value: Any) -> str:
    if isinstance(value, Mapping):  # the CLI's shorthand syntax for a structure
        return ",".join(f"{k}={v}" for k, v in value.items())
    return shlex.quote(str(value))


def _py_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_py_value(k)}: {_py_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


# ---------------------------------------------------------------- root sessions


def assume_root(account_id: str, task_policy_arn: str = DELETE_TASK_POLICY) -> Call:
    return Call("sts", "AssumeRoot", {"TargetPrincipal": account_id,
                                      "TaskPolicyArn": {"arn": task_policy_arn},
                                      "DurationSeconds": ROOT_SESSION_SECONDS})


def audit_session(account_id: str) -> Call:
    return assume_root(account_id, AUDIT_TASK_POLICY)


def removal_call(kind: str, credential_id: str) -> Call:
    """The root-session call that removes one credential (as `root_credential_items` names it)."""
    if kind == "password":
        return Call("iam", "DeleteLoginProfile")
    if kind == "access_key":
        return Call("iam", "DeleteAccessKey", {"AccessKeyId": credential_id})
    if kind == "signing_certificate":
        return Call("iam", "DeleteSigningCertificate", {"CertificateId": credential_id})
    if kind == "mfa_device":
        return Call("iam", "DeactivateMFADevice", {"SerialNumber": credential_id})
    raise ValueError(f"no removal call for a credential of kind {kind!r}")


def removal_calls(credentials: Iterable[Mapping[str, Any]]) -> list[Call]:
    """The deletes for an account's credentials (dicts with kind and id), password first, MFA last."""
    ordered = sorted(credentials, key=lambda c: (CREDENTIAL_ORDER.index(str(c["kind"])), str(c["id"])))
    return [removal_call(str(c["kind"]), str(c["id"])) for c in ordered]


def cli_script(account_id: str, region: str, calls: Sequence[Call], title: str = "") -> list[str]:
    """Shell lines that remove one account's credentials with the AWS CLI (bash).

    A subshell keeps the root session's credentials away from the caller's own: they exist only for
    the account's calls, and `set -e` stops at the first failure."""
    session = assume_root(account_id)
    lines = [f"# {title}" if title else f"# {account_id}", "(", "  set -euo pipefail",
             # AssumeRoot is refused on the global endpoint: ask for the regional one explicitly.
             "  read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN < <(",
             f"    AWS_STS_REGIONAL_ENDPOINTS=regional {session.cli()} --region {region} \\",
             "      --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)",
             "  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"]
    lines += [f"  {call.cli()}" for call in calls]
    lines.append(")")
    return lines


def boto3_script(account_id: str, region: str, calls: Sequence[Call]) -> str:
    """Python that removes one account's credentials with boto3."""
    session = assume_root(account_id)
    return "\n".join([
        "import boto3",
        "",
        f'sts = boto3.client("sts", region_name="{region}", endpoint_url="https://sts.{region}.amazonaws.com")',
        f'credentials = {session.boto3("sts")}["Credentials"]',
        'iam = boto3.client("iam", aws_access_key_id=credentials["AccessKeyId"],',
        '                   aws_secret_access_key=credentials["SecretAccessKey"],',
        '                   aws_session_token=credentials["SessionToken"])',
        *(call.boto3("iam") for call in calls),
    ]) + "\n"


# ---------------------------------------------------------------- organization features


def enable_all_features() -> Call:
    return Call("organizations", "EnableAllFeatures")


def enable_iam_trusted_access() -> Call:
    return Call("organizations", "EnableAWSServiceAccess", {"ServicePrincipal": IAM_SERVICE_PRINCIPAL})


def enable_root_credentials_management() -> Call:
    return Call("iam", "EnableOrganizationsRootCredentialsManagement")


def enable_root_sessions() -> Call:
    return Call("iam", "EnableOrganizationsRootSessions")


def register_delegated_administrator(account_id: str) -> Call:
    return Call("organizations", "RegisterDelegatedAdministrator",
                {"AccountId": account_id, "ServicePrincipal": IAM_SERVICE_PRINCIPAL})
