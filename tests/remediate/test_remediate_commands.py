"""The plan's commands against the real tools: every call is valid for botocore's service models, and
every AWS CLI command is parsed by the AWS CLI itself (a test extra) into exactly the planned API call.
Running them against the simulated organization is in test_remediate_scripts.py."""

from __future__ import annotations

import shlex
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from rootaudit import resources
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.remediate import calls
from rootaudit.remediate.calls import Call
from rootaudit.remediate.plan import make_plan
from tests.remediate.conftest import build_snapshot

PLAN = make_plan(build_snapshot(organization={"iam_trusted_access": False}),
                 frameworks=parse_frameworks(read_mapping_files([resources.mappings_dir()])))


def every_call() -> list[Call]:
    out = [Call(**p["call"]) for p in PLAN.data["prerequisites"]]
    for account in PLAN.accounts():
        out += [Call(**c) for c in account["calls"]]
        out.append(calls.audit_session(account["account_id"]))
    return out


def test_the_plan_covers_every_kind_of_call() -> None:
    ops = {c.operation for c in every_call()}
    assert {"AssumeRoot", "DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate",
            "DeactivateMFADevice", "EnableAllFeatures", "EnableAWSServiceAccess",
            "EnableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions",
            "RegisterDelegatedAdministrator"} <= ops


@pytest.mark.parametrize("call", every_call(), ids=lambda c: f"{c.operation}-{sorted(c.params)}")
def test_each_call_is_valid_for_botocore(call: Call) -> None:
    model = botocore.session.get_session().get_service_model(call.service)
    assert call.operation in model.operation_names
    operation = model.operation_model(call.operation)
    report = ParamValidator().validate(dict(call.params), operation.input_shape)
    assert not report.has_errors(), report.generate_report()
    # The IAM deletes name no user: a root session acts on its root user, and UserName would leave it.
    if call.service == "iam":
        assert "UserName" not in call.params


@pytest.fixture
def cli_parse(monkeypatch: pytest.MonkeyPatch) -> Any:
    from awscli import clidriver

    seen: list[tuple[str, str, dict[str, Any]]] = []

    def invoke(self: Any, service_name: str, operation_name: str, parameters: dict[str, Any],
               parsed_globals: Any) -> int:
        seen.append((service_name, operation_name, parameters))
        return 0

    monkeypatch.setattr(clidriver.CLIOperationCaller, "invoke", invoke)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEONLY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

    def parse(command: str) -> tuple[str, str, dict[str, Any]]:
        words = shlex.split(command)
        assert words[0] == "aws", command
        seen.clear()
        status = clidriver.create_clidriver().main(words[1:])
        assert status == 0 and len(seen) == 1, (command, status, seen)
        return seen[0]

    return parse


@pytest.mark.parametrize("call", every_call(), ids=lambda c: f"{c.operation}-{sorted(c.params)}")
def test_the_aws_cli_reads_each_command_as_the_planned_call(call: Call, cli_parse: Any) -> None:
    service, operation, params = cli_parse(call.cli())
    assert (service, operation, params) == (call.service, call.operation, dict(call.params))


def test_the_account_scripts_hold_only_commands_the_cli_reads_as_planned(cli_parse: Any) -> None:
    for account in PLAN.accounts():
        script = "\n".join(account["cli"]).replace("\\\n", " ")
        commands = [line.strip() for line in script.splitlines() if "aws " in line]
        assume, *deletes = commands
        # AWS_STS_REGIONAL_ENDPOINTS=… prefix, the read -r … < <( wrapper and the --query are shell and CLI.
        assume = assume[assume.index("aws sts"):].rstrip(")")
        assert cli_parse(assume) == ("sts", "AssumeRoot", account["calls"][0]["params"])
        assert [cli_parse(c) for c in deletes] == [
            (c["service"], c["operation"], c["params"]) for c in account["calls"][1:]]


def test_the_circulating_wrong_command_does_not_exist() -> None:
    from awscli.clidriver import create_clidriver

    iam = create_clidriver()._get_command_table()["iam"]._get_command_table()
    assert "delete-root-user-credential" not in iam
    for name in ("delete-login-profile", "delete-access-key", "delete-signing-certificate",
                 "deactivate-mfa-device"):
        assert name in iam and not iam[name].arg_table["user-name"].required
