"""`rootaudit doctor` and `--cloudtrail auto` against the simulated organization: each check passes on a
well set-up organization, each failure says what to fix, exit 0 only when a run would be complete; and
auto finds the organization trail (falling back to LookupEvents, with what it cannot cover, only when
there is none)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.cli import main
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail.discover import choose_source
from rootaudit.doctor import doctor_checks
from rootaudit.period import parse_period
from rootaudit.readonly import READ_ONLY_OPERATIONS
from rootaudit.simulate import SimulatedOrganization, build_scenario

PERIOD = parse_period("2026-Q3")
NOW = datetime(2026, 10, 20, tzinfo=UTC)  # 111 days after the quarter began: past LookupEvents' reach


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedOrganization]:
    with SimulatedOrganization(build_scenario(accounts=12, seed=7, period=PERIOD), mode="server") as s, \
            s.environ():
        yield s


@pytest.fixture
def faults(sim: SimulatedOrganization) -> Iterator[object]:
    yield sim.faults
    sim.reset_faults()


def _checks(cloudtrail: str = "auto", **kw: object) -> tuple[dict[str, object], AwsContext]:
    ctx = AwsContext(AwsSettings(region="us-east-1"))
    settings = CollectSettings(period=PERIOD, cloudtrail=cloudtrail, fallback_role="RootAuditReadOnly")
    return {c.name: c for c in doctor_checks(ctx, settings, now=NOW, **kw)}, ctx


def test_a_well_set_up_organization_passes_every_check_read_only(sim: SimulatedOrganization) -> None:
    checks, ctx = _checks()
    assert {n: c.status for n, c in checks.items()} == {
        "caller": "ok", "account": "ok", "trusted access": "ok", "root features": "ok", "AssumeRoot": "ok",
        "member role": "ok", "CloudTrail": "ok"}
    trail = sim.scenario.trail
    assert f"s3://{trail.bucket}/{trail.prefix}" in checks["CloudTrail"].detail
    assert "management account" in checks["account"].detail
    # the same guarded context collection uses: every call read-only, none refused
    rows = ctx.call_log.rows()
    assert {(r["service"], r["operation"]) for r in rows} <= READ_ONLY_OPERATIONS
    assert not [r for r in rows if r["outcome"] == "refused"]


def test_exit_0_and_json_when_a_run_would_be_complete(sim: SimulatedOrganization,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--period", "2026-Q3", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["exit_status"] == 0 and document["command"] == "doctor"
    assert {c["status"] for c in document["details"]["checks"]} == {"ok"}


def test_lookup_for_a_whole_quarter_fails_with_what_it_cannot_cover(sim: SimulatedOrganization) -> None:
    checks, _ = _checks("lookup")
    check = checks["CloudTrail"]
    assert check.status == "fail"
    assert "2026-07-01T00:00:00Z to 2026-07-22T00:00:00Z (older than the 90 days" in check.detail
    assert "--cloudtrail s3://" in check.fix


def test_assume_root_refused_says_what_to_grant(sim: SimulatedOrganization, faults: object) -> None:
    first = sorted(a.account_id for a in sim.scenario.members() if a.state == "ACTIVE")[0]
    sim.faults.deny_assume_root(first)
    checks, _ = _checks()
    assert checks["AssumeRoot"].status == "fail"
    assert first in checks["AssumeRoot"].detail and "AccessDenied" in checks["AssumeRoot"].detail
    assert "sts:TaskPolicyArn" in checks["AssumeRoot"].fix
    # the member role is then what a run falls back on: its failure fails the run
    sim.faults.deny_assume_role(first)
    checks, _ = _checks()
    assert checks["member role"].status == "fail"
    assert "member-role-stackset.yaml" in checks["member role"].fix


def test_root_features_refused_fail_with_the_command_to_enable(sim: SimulatedOrganization,
                                                               faults: object,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    sim.faults.refuse_organizations_features()
    checks, _ = _checks()
    assert checks["root features"].status == "fail"
    assert "ListOrganizationsFeatures" in checks["root features"].fix
    assert main(["doctor", "--period", "2026-Q3"]) == 2
    out = capsys.readouterr().out
    assert "FAIL    root features" in out and "fix:" in out and "exit status 2" in out


def test_auto_finds_the_organization_trail(sim: SimulatedOrganization) -> None:
    ctx = AwsContext(AwsSettings(region="us-east-1"))
    choice = choose_source(ctx, "auto", PERIOD, now=NOW)
    trail = sim.scenario.trail
    assert choice.source == f"s3://{trail.bucket}/{trail.prefix}"
    assert choice.trail_arn.endswith(f":trail/{trail.trail_name}") and not choice.gap


def test_auto_falls_back_to_lookup_and_says_what_it_misses(sim: SimulatedOrganization,
                                                           faults: object) -> None:
    sim.faults.error("AccessDeniedException", 400, service="cloudtrail", operation="DescribeTrails")
    ctx = AwsContext(AwsSettings(region="us-east-1"))
    choice = choose_source(ctx, "auto", PERIOD, now=NOW)
    assert choice.source == "lookup"
    assert "DescribeTrails" in choice.why and "AccessDenied" in choice.why
    assert choice.gap.startswith("2026-07-01T00:00:00Z to 2026-07-22T00:00:00Z")
    # a period inside the last 90 days is covered whole
    assert not choose_source(ctx, "auto", parse_period("2026-09"), now=NOW).gap


@pytest.mark.slow
def test_a_default_run_covers_the_whole_quarter_from_the_trail(sim: SimulatedOrganization, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--out", str(tmp_path), "--period", "2026-Q3", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert document["exit_status"] == status
    meta = json.loads((tmp_path / "snapshot" / "snapshot.json").read_text())
    trail = sim.scenario.trail
    assert meta["cloudtrail_source"] == f"s3://{trail.bucket}/{trail.prefix}"
    assert meta["parameters"]["cloudtrail_requested"] == "auto"
    sources = pd.read_csv(tmp_path / "snapshot" / "data" / "sources.csv", dtype=str)
    gaps = sources[sources["status"].isin(["not_covered", "failed"])]
    assert gaps.empty, gaps.to_dict("records")
    assert not [w for w in document["warnings"] if w["kind"] == "cloudtrail"]


def _trail_table(name: str, accounts: list[str]) -> None:
    import boto3

    from rootaudit.collectors.cloudtrail import athena_table

    glue = boto3.client("glue", region_name="us-east-1")
    if "trail" not in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
        glue.create_database(DatabaseInput={"Name": "trail"})
    glue.create_table(DatabaseName="trail", TableInput={
        "Name": name,
        "Parameters": {"projection.enabled": "true", "projection.account.type": "enum",
                       "projection.account.values": ",".join(accounts)},
        "PartitionKeys": [{"Name": n, "Type": "string"} for n, _ in athena_table.partitions()],
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": athena_table.hive_type(k)}
                                          for n, k in athena_table.columns()]}})


def test_athena_checks_the_table_without_running_a_query(sim: SimulatedOrganization) -> None:
    import boto3

    accounts = [a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]]
    _trail_table("whole", accounts)
    _trail_table("narrow", accounts[:2])
    checks, ctx = _checks("athena://primary/trail.whole")
    assert checks["CloudTrail"].status == "ok", checks["CloudTrail"]
    assert "account, region, date" in checks["CloudTrail"].detail
    checks, _ = _checks("athena://primary/trail.narrow")
    assert checks["CloudTrail"].status == "fail"
    named = checks["CloudTrail"].detail.split("account(s): ", 1)[1].split(", ")
    assert named and set(named) <= set(accounts[2:])  # the ACTIVE ones and the management account
    checks, _ = _checks("athena://primary/trail.missing")
    assert checks["CloudTrail"].status == "fail" and "cannot read the table" in checks["CloudTrail"].detail
    assert not [r for r in ctx.call_log.rows() if r["operation"] == "StartQueryExecution"]
