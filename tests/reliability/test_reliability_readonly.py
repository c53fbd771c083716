"""Read-only guard over the whole `collect` command, and docs/permissions.md kept in step with it.

The operations a whole collection calls (its call log, which becomes `api_calls`) are a subset of the
allowlist in rootaudit/readonly.py, and docs/permissions.md lists exactly that allowlist. (The policy
files in policies/ are checked against the doc's table in tests/policies/test_policies.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from rootaudit.readonly import READ_ONLY_OPERATIONS
from tests.support.permissions import table_rows

pytestmark = pytest.mark.reliability

def test_doc_lists_exactly_the_allowlist() -> None:
    rows = table_rows()
    listed = [(r["service"], r["operation"]) for r in rows]
    assert len(listed) == len(set(listed)), "an operation is listed twice"
    assert set(listed) == set(READ_ONLY_OPERATIONS), (
        f"only in the doc: {sorted(set(listed) - READ_ONLY_OPERATIONS)}; "
        f"only in readonly.py: {sorted(READ_ONLY_OPERATIONS - set(listed))}")
    assert all(r["why"] for r in rows)


@pytest.mark.parametrize("source", ["s3", "lookup"])
def test_a_whole_collection_calls_only_allowed_operations(source: str, tmp_path: Path) -> None:
    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collect import collect
    from rootaudit.collectors import CollectSettings
    from rootaudit.simulate import SimulatedOrganization, build_scenario
    from rootaudit.simulate.trail_sample import recent_period

    # inside event history's 90 days, whatever today is: LookupEvents is not called for a period before them
    scenario = build_scenario(12, seed=5, period=recent_period())
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
