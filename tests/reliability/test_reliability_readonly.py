"""Read-only guard over the whole `collect` command, and docs/permissions.md kept in step with it.

The operations a whole collection calls (its call log, which becomes `api_calls`) are a subset of the
allowlist in rootaudit/readonly.py; docs/permissions.md lists exactly that allowlist, and its policies
grant exactly the IAM actions its table gives each principal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rootaudit.readonly import READ_ONLY_OPERATIONS

pytestmark = pytest.mark.reliability

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
TASK_POLICY_READS = {"iam:GetAccountSummary", "iam:GetLoginProfile", "iam:GetUser",
                     "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:ListMFADevices",
                     "iam:ListSigningCertificates"}


def table_rows() -> list[dict[str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and line.startswith("|") and cells[0] not in ("service", "---"):
            rows.append(dict(zip(("service", "operation", "action", "granted", "why"), cells, strict=True)))
    return rows


def policies() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [json.loads(b) for b in blocks]


def actions_of(policy: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for statement in policy["Statement"]:
        action = statement["Action"]
        out.update([action] if isinstance(action, str) else action)
    return out


def test_doc_lists_exactly_the_allowlist() -> None:
    rows = table_rows()
    listed = [(r["service"], r["operation"]) for r in rows]
    assert len(listed) == len(set(listed)), "an operation is listed twice"
    assert set(listed) == set(READ_ONLY_OPERATIONS), (
        f"only in the doc: {sorted(set(listed) - READ_ONLY_OPERATIONS)}; "
        f"only in readonly.py: {sorted(READ_ONLY_OPERATIONS - set(listed))}")
    assert all(r["why"] for r in rows)


def test_policies_grant_exactly_what_the_table_gives_each_principal() -> None:
    collector, fallback = policies()
    rows = table_rows()

    def granted_to(who: str) -> set[str]:
        return {r["action"] for r in rows if who in [g.strip() for g in r["granted"].split(",")]}

    assert actions_of(collector) == granted_to("collector")
    assert actions_of(fallback) == granted_to("fallback role")
    assert granted_to("task policy") == TASK_POLICY_READS
    every_action = {r["action"] for r in rows if r["action"] != "(none)"}
    assert every_action <= actions_of(collector) | actions_of(fallback) | TASK_POLICY_READS
    # Nothing that writes: no action outside List/Get/Describe, the credential report, the sessions and
    # the Athena query calls the allowlist names.
    writes = {a for a in actions_of(collector) | actions_of(fallback)
              if not re.match(r"^[a-z0-9]+:(List|Get|Describe|Lookup|GenerateCredentialReport|AssumeRo)", a)
              and not a.startswith("athena:")}
    assert writes == set(), writes


def test_assume_root_is_limited_to_the_audit_task_policy() -> None:
    collector = policies()[0]
    statements = [s for s in collector["Statement"] if "sts:AssumeRoot" in json.dumps(s["Action"])]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Action"] == "sts:AssumeRoot", "AssumeRoot shares its statement with other actions"
    assert statement["Condition"] == {"ArnEquals": {"sts:TaskPolicyArn": AUDIT_TASK}}
    assert statement["Resource"] == "arn:aws:iam::*:root"
    assert "sts:TaskPolicyArn" in DOC.read_text(encoding="utf-8").split("## Collector policy")[0]


@pytest.mark.parametrize("source", ["s3", "lookup"])
def test_a_whole_collection_calls_only_allowed_operations(source: str, tmp_path: Path) -> None:
    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collect import collect
    from rootaudit.collectors import CollectSettings
    from rootaudit.period import parse_period
    from rootaudit.simulate import SimulatedOrganization, build_scenario

    scenario = build_scenario(12, seed=5, period=parse_period("2026-Q3"))
    cloudtrail = f"s3://{scenario.trail.bucket}/{scenario.trail.prefix}" if source == "s3" else "lookup"
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions),
                                   cloudtrail=cloudtrail, fallback_role=scenario.audit_role_name, workers=8)
        ctx = AwsContext(AwsSettings(region=scenario.region))
        snapshot = collect(ctx, settings)
    calls = snapshot["api_calls"]
    called = set(zip(calls["service"], calls["operation"], strict=True))
    assert called == ctx.call_log.operations()
    assert called <= READ_ONLY_OPERATIONS, sorted(called - READ_ONLY_OPERATIONS)
    assert "refused" not in set(calls["outcome"]), "collection tried an operation outside the allowlist"
    # The collection really went through each part: sessions, the organization, evidence, monitoring.
    for needed in [("sts", "AssumeRoot"), ("sts", "AssumeRole"), ("organizations", "ListAccounts"),
                   ("iam", "GetCredentialReport"), ("iam", "ListAccessKeys"),
                   ("logs", "DescribeMetricFilters")]:
        assert needed in called, needed
    assert (("s3", "GetObject") if source == "s3" else ("cloudtrail", "LookupEvents")) in called
