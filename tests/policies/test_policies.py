"""policies/: the runner policy, the member role's policy and its StackSet template grant exactly what
docs/permissions.md gives each principal, nothing that writes, and every call a simulated run (and
doctor) makes is granted to the principal that made it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from rootaudit.collectors import CollectSettings
from rootaudit.period import parse_period
from rootaudit.readonly import READ_ONLY_OPERATIONS
from tests.support.permissions import (
    AUDIT_TASK,
    POLICIES,
    TASK_POLICY_READS,
    action_of,
    actions_of,
    granted_to,
    policy,
)

RUNNER = "runner-policy.json"
MEMBER = "member-role-policy.json"
STACKSET = POLICIES / "member-role-stackset.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, …) read as {"Fn": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


def template() -> dict[str, Any]:
    return yaml.load(STACKSET.read_text(encoding="utf-8"), Loader=_CfnLoader)


def test_the_policies_grant_exactly_what_the_table_gives_each_principal() -> None:
    assert actions_of(policy(RUNNER)) == granted_to("collector")
    assert actions_of(policy(MEMBER)) == granted_to("member role")
    assert granted_to("task policy") == TASK_POLICY_READS
    allowed = {action_of(s, o) for s, o in READ_ONLY_OPERATIONS} - {"(none)"}
    assert allowed <= actions_of(policy(RUNNER)) | actions_of(policy(MEMBER)) | TASK_POLICY_READS


def test_nothing_that_writes() -> None:
    actions = actions_of(policy(RUNNER)) | actions_of(policy(MEMBER))
    writes = {a for a in actions
              if not re.match(r"^[a-z0-9]+:(List|Get|Describe|Lookup|GenerateCredentialReport|AssumeRo)", a)
              and not a.startswith("athena:")}
    assert writes == set(), writes
    assert all(s["Effect"] == "Allow" for doc in (policy(RUNNER), policy(MEMBER)) for s in doc["Statement"])


def test_assume_root_only_with_the_audit_task_policy() -> None:
    statements = [s for s in policy(RUNNER)["Statement"] if "sts:AssumeRoot" in str(s["Action"])]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Action"] == "sts:AssumeRoot", "AssumeRoot shares its statement with other actions"
    assert statement["Condition"] == {"ArnEquals": {"sts:TaskPolicyArn": AUDIT_TASK}}
    assert statement["Resource"] == "arn:aws:iam::*:root"


def test_the_member_role_is_the_default_everywhere() -> None:
    default = CollectSettings(period=parse_period("2026-Q3")).fallback_role
    from rootaudit.cli import DEFAULTS
    from rootaudit.simulate import AUDIT_ROLE_NAME

    assume_role = next(s for s in policy(RUNNER)["Statement"] if s["Action"] == "sts:AssumeRole")
    assert assume_role["Resource"] == f"arn:aws:iam::*:role/{default}"
    assert template()["Parameters"]["RoleName"]["Default"] == default == DEFAULTS["member_role"]
    assert default == AUDIT_ROLE_NAME  # the simulated organization has the role the template deploys


def test_the_stackset_template_deploys_the_member_policy_trusting_the_runner() -> None:
    doc = template()
    roles = [r for r in doc["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(doc["Resources"]) == 1 and len(roles) == 1
    props = roles[0]["Properties"]
    assert props["RoleName"] == {"Ref": "RoleName"}
    [inline] = props["Policies"]
    assert inline["PolicyDocument"] == policy(MEMBER)
    [trust] = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {"Sid": "RootauditRunner", "Effect": "Allow", "Action": "sts:AssumeRole",
                     "Principal": {"AWS": {"Ref": "RunnerPrincipalArn"}}}
    assert "ManagedPolicyArns" not in props  # no AWS-managed policy widens it


def test_cfn_lint_accepts_the_template() -> None:
    lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    assert lint, "cfn-lint is installed with the test extras (moto[server])"
    done = subprocess.run([lint, str(STACKSET)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("source", ["s3", "lookup"])
def test_every_call_of_a_simulated_run_is_granted_to_whoever_made_it(source: str) -> None:
    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collect import collect
    from rootaudit.doctor import doctor_checks
    from rootaudit.simulate import SimulatedOrganization, build_scenario

    scenario = build_scenario(12, seed=5, period=parse_period("2026-Q3"))
    cloudtrail = "auto" if source == "s3" else "lookup"
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions),
                                   cloudtrail=cloudtrail, workers=8)
        ctx = AwsContext(AwsSettings(region=scenario.region))
        collect(ctx, settings)
        doctor_checks(ctx, settings)
    caller = ctx.caller()["Account"]
    runner, member = actions_of(policy(RUNNER)), actions_of(policy(MEMBER))
    ungranted = set()
    in_members = set()
    for row in ctx.call_log.rows():
        action = action_of(row["service"], row["operation"])
        if action == "(none)":
            continue
        if row["account_id"] == caller:
            if action not in runner:
                ungranted.add(("runner", action))
        else:
            in_members.add(action)
            if action not in member | TASK_POLICY_READS:
                ungranted.add(("member account", action))
    assert not ungranted, sorted(ungranted)
    # the run went through the member role too, not only through root sessions
    assert in_members & member, sorted(in_members)
    if source == "lookup":
        assert "cloudtrail:LookupEvents" in in_members
