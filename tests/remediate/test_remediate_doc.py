"""docs/remediation.md kept in step with the code: its policies grant exactly the IAM actions remediation's
calls need outside the root sessions, and it names every left-out reason and the allowlists' calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rootaudit.remediate import plan as plan_module
from rootaudit.remediate.allowlist import CREDENTIAL_REMOVAL, DELETE_TASK_POLICY, FEATURE_ENABLEMENT
from tests.support.permissions import actions_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "remediation.md"
AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def policies() -> list[dict]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)]


def test_the_removal_policy_allows_assume_root_with_the_two_tasks_only() -> None:
    removal, _ = policies()
    assert actions_of(removal) == {"sts:AssumeRoot", "organizations:DescribeOrganization"}
    (assume,) = [s for s in removal["Statement"] if s["Action"] == "sts:AssumeRoot"]
    assert sorted(assume["Condition"]["ArnEquals"]["sts:TaskPolicyArn"]) == sorted([AUDIT_TASK,
                                                                                    DELETE_TASK_POLICY])
    # Outside the root sessions, the changing calls of a removal run are AssumeRoot only.
    outside_sessions = {f"{s}:{o}" for s, o in CREDENTIAL_REMOVAL.operations if s != "iam"}
    assert outside_sessions - {"sts:GetCallerIdentity"} <= actions_of(removal)


def test_the_features_policy_grants_the_three_enables_and_their_reads() -> None:
    _, features = policies()
    enables = {f"{s}:{o}" for s, o in FEATURE_ENABLEMENT.operations} - {"sts:GetCallerIdentity"}
    assert enables <= actions_of(features)
    assert actions_of(features) - enables == {
        "organizations:DescribeOrganization", "organizations:ListAWSServiceAccessForOrganization",
        "organizations:ListDelegatedAdministrators", "iam:ListOrganizationsFeatures"}


def test_the_doc_names_every_reason_and_the_calls() -> None:
    text = DOC.read_text(encoding="utf-8")
    reasons = {plan_module.MANAGEMENT: "management account", plan_module.NOT_ACTIVE: "not ACTIVE",
               plan_module.NOT_ASSESSED: "not assessed",
               plan_module.NO_ROOT_SESSION: "not read by a root session",
               plan_module.USED: "root used recently", plan_module.EXCEPTION: "active exception"}
    assert set(reasons) == set(plan_module.LEFT_OUT_REASONS)
    for label in reasons.values():
        assert f"| {label} |" in text
    for _, operation in CREDENTIAL_REMOVAL.operations | FEATURE_ENABLEMENT.operations:
        if operation != "GetCallerIdentity":
            assert operation in text, operation
