"""`remediate --enable-features` on a simulated organization with centralized root access off: the plan
shows what is missing, the dry run changes nothing, --apply makes the three calls in AWS's order (and
only those), a second run finds nothing to do."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from rootaudit.aws import AwsSettings
from rootaudit.cli import main
from rootaudit.readonly import READ_ONLY
from rootaudit.remediate.allowlist import FEATURE_ENABLEMENT
from rootaudit.remediate.plan import load_plan
from rootaudit.remediate.run import apply_features
from rootaudit.simulate.registry import REGISTRY
from tests.remediate.simulated import collect_snapshot, open_sim, plan_of, write_plan

ORDER = ["EnableAWSServiceAccess", "EnableOrganizationsRootCredentialsManagement",
         "EnableOrganizationsRootSessions"]


def _cli(sim: Any, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with sim.environ(), contextlib.redirect_stdout(out):
        status = main(list(args))
    return status, out.getvalue()


def enabled(sim: Any) -> tuple[bool, set[str]]:
    orgs = sim.client("organizations")
    principals = {s["ServicePrincipal"] for s in
                  orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
    with REGISTRY.lock:
        features = {f for v in REGISTRY.features.values() for f in v}
    return "iam.amazonaws.com" in principals, features


def test_enable_features_in_order_once(tmp_path: Path) -> None:
    with open_sim("inprocess", iam_trusted_access=False, features=()) as sim:
        plan = plan_of(collect_snapshot(sim))
        states = {p["id"]: p["state"] for p in plan.data["prerequisites"]}
        assert states["iam_trusted_access"] == "missing"
        assert states["root_credentials_management"] == "unknown"  # unreadable without trusted access
        assert plan.accounts() == [], "nothing can be removed before AssumeRoot works"
        path = write_plan(plan, tmp_path)

        status, text = _cli(sim, "remediate", "--plan", str(path), "--enable-features")
        assert status == 0 and "dry run: nothing was changed" in text
        assert "aws organizations enable-aws-service-access --service-principal iam.amazonaws.com" in text
        assert enabled(sim) == (False, set())

        with sim.environ():
            first = apply_features(load_plan(path), path, {"ticket": "CHG-2", "approved_by": "cab"},
                                   AwsSettings(region=sim.scenario.region), session=sim.session())
        assert first.exit_status == 0 and first.record["outcome"] == "enabled"
        calls = first.record["features"]["calls"]
        changing = [c["operation"] for c in calls if c["operation"].startswith("Enable")]
        assert changing == ORDER
        for call in calls:
            op, params = (call["service"], call["operation"]), json.loads(call["parameters"])
            assert READ_ONLY.refusal(*op, params) is None or FEATURE_ENABLEMENT.refusal(*op, params) is None
            assert call["outcome"] == "ok" or call["operation"] == "ListOrganizationsFeatures"
        assert first.record["features"]["before"]["iam_trusted_access"] is False
        assert first.record["features"]["after"]["enabled_features"] == ["RootCredentialsManagement",
                                                                         "RootSessions"]
        assert enabled(sim) == (True, {"RootCredentialsManagement", "RootSessions"})

        with sim.environ():
            again = apply_features(load_plan(path), path, {"ticket": "CHG-2", "approved_by": "cab"},
                                   AwsSettings(region=sim.scenario.region), session=sim.session())
        assert again.record["outcome"] == "already_enabled"
        assert not [c for c in again.record["features"]["calls"] if c["operation"].startswith("Enable")]


def test_a_consolidated_billing_organization_is_not_changed(tmp_path: Path) -> None:
    with open_sim("inprocess", iam_trusted_access=False, features=()) as sim:
        path = write_plan(plan_of(collect_snapshot(sim)), tmp_path)
        from moto.organizations.models import organizations_backends

        backend = organizations_backends[sim.scenario.management_account_id]["aws"]
        backend.org.feature_set = "CONSOLIDATED_BILLING"  # no API turns all features off
        status, text = _cli(sim, "remediate", "--plan", str(path), "--enable-features", "--apply", "--yes",
                            "--change", "CHG-3", "--approved-by", "cab")
        assert status == 2 and "not ALL" in text
        assert enabled(sim) == (False, set())
