"""On the simulated organization: the ledger and root activity are what the scenario did, through
LookupEvents, the organization trail in S3 and the same trail in a local directory; monitoring is
what was seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.cloudtrail import collect_cloudtrail, lookup
from rootaudit.collectors.cloudtrail.classify import task_policy_name
from rootaudit.collectors.monitoring import CIS_ROOT_FILTER_PATTERN, collect_monitoring
from rootaudit.simulate import Scenario, SimulatedOrganization, build_scenario, trail
from rootaudit.simulate import events as ev
from rootaudit.simulate.trail_sample import recent_period
from rootaudit.snapshot import make_frame


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedOrganization]:
    # A period inside LookupEvents' 90 days, so that all three sources can hold all of it.
    scenario = build_scenario(accounts=12, seed=7, period=recent_period())
    saved = lookup.REQUEST_INTERVAL
    lookup.REQUEST_INTERVAL = 0.0  # the pacing has its own test
    try:
        with SimulatedOrganization(scenario, mode="server") as organization, organization.environ():
            yield organization
    finally:
        lookup.REQUEST_INTERVAL = saved


def _frames(sim: SimulatedOrganization) -> tuple[pd.DataFrame, pd.DataFrame]:
    s = sim.scenario
    org_id = sim.client("organizations").describe_organization()["Organization"]["Id"]
    accounts = make_frame(
        "accounts",
        [
            {"account_id": a.account_id, "state": a.state, "is_management": a.is_management}
            for a in s.accounts.values()
        ],
    )
    organization = make_frame(
        "organization",
        [
            {
                "organization_id": org_id,
                "management_account_id": s.management_account_id,
                "delegated_admins": s.delegated_admin_account_id or "",
            }
        ],
    )
    return accounts, organization


def _collect(sim: SimulatedOrganization, source: str) -> Collected:
    s = sim.scenario
    settings = CollectSettings(
        period=s.period,
        regions=list(s.regions),
        cloudtrail=source,
        fallback_role=s.audit_role_name,
        workers=4,
    )
    return collect_cloudtrail(
        AwsContext(AwsSettings(region=s.region, max_attempts=2)), settings, *_frames(sim)
    )


def _label(action: ev.RootSessionAction) -> str:
    return f"{action.event_name} ({action.error_code})" if action.error_code else action.event_name


def expected(s: Scenario) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The ledger (by event id) and root activity (event id -> kind) the scenario's period holds."""
    in_period = [e for e in s.history if s.period.contains(e.time)]
    ledger = {}
    for call in (e for e in in_period if isinstance(e, ev.AssumeRootCall)):
        actions = sorted(
            (
                a
                for a in in_period
                if isinstance(a, ev.RootSessionAction)
                and call.access_key_id
                and a.access_key_id == call.access_key_id
            ),
            key=lambda a: (a.time, a.event_id),
        )
        ledger[call.event_id] = {
            "caller_arn": call.caller_arn,
            "caller_account": call.caller_account,
            "region": call.region,
            "target_account": call.target_account,
            "task_policy": task_policy_name(call.task_policy_arn),
            "error_code": call.error_code or None,
            "session_key_id": call.access_key_id or None,
            "member_action_count": len(actions),
            "member_actions": "; ".join(_label(a) for a in actions) or None,
        }
    kinds = {
        ev.RootSessionAction: "root_session",
        ev.RootConsoleLogin: "console_login",
        ev.RootKeyCall: "long_term_key",
    }
    activity = {e.event_id: kinds[type(e)] for e in in_period if type(e) in kinds}
    return ledger, activity


def _na(v: Any) -> Any:
    return None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v


def _check(result: Collected, s: Scenario) -> None:
    want_ledger, want_activity = expected(s)
    assert any(v["error_code"] for v in want_ledger.values()), "the scenario has a refused AssumeRoot"
    assert any(v["member_action_count"] for v in want_ledger.values())
    ledger = result.frames["privileged_sessions"]
    got = {
        r["event_id"]: {k: _na(r[k]) for k in next(iter(want_ledger.values()))}
        for r in ledger.to_dict("records")
    }
    assert got == want_ledger
    activity = result.frames["root_activity"]
    assert dict(zip(activity["event_id"], activity["kind"], strict=True)) == want_activity
    sessions = activity[activity["kind"] == "root_session"]
    assert sessions["session_event_id"].notna().all()  # every action joined to its AssumeRoot


def test_lookup_gives_the_scenario(sim: SimulatedOrganization) -> None:
    result = _collect(sim, "lookup")
    _check(result, sim.scenario)
    sources = result.frames["sources"]
    refused = [a.account_id for a in sim.scenario.accounts.values() if a.role_refused]
    failed = sources[sources["status"] == "failed"]
    # The account whose read-only role is refused cannot be read: said, not skipped over.
    assert sorted(failed["account_id"]) == sorted(refused)
    assert set(sources["status"]) <= {"read", "failed"}


def test_s3_gives_the_scenario(sim: SimulatedOrganization) -> None:
    spec = sim.scenario.trail
    result = _collect(sim, f"s3://{spec.bucket}/{spec.prefix}")
    _check(result, sim.scenario)
    assert set(result.frames["sources"]["status"]) == {"read"}


def test_local_directory_gives_the_scenario(sim: SimulatedOrganization, tmp_path: Path) -> None:
    org_id = _frames(sim)[1].iloc[0]["organization_id"]
    trail.write_scenario_trail(sim.scenario, org_id, tmp_path)
    result = _collect(sim, str(tmp_path))
    _check(result, sim.scenario)
    assert set(result.frames["sources"]["status"]) == {"read"}


def test_monitoring_is_what_was_seeded(sim: SimulatedOrganization) -> None:
    s = sim.scenario
    frame = collect_monitoring(
        AwsContext(AwsSettings(region=s.region)), CollectSettings(period=s.period), *_frames(sim)
    ).frames["monitoring"]
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["is_organization_trail"] and row["is_multi_region"] and row["is_logging"]
    assert row["management_events"] and row["log_file_validation"]
    assert (
        row["metric_filter"] == s.trail.metric_filter_name
        and row["filter_pattern"] == CIS_ROOT_FILTER_PATTERN
    )
    assert row["matches_cis_pattern"] == "exact"
    assert row["alarm"] == s.trail.alarm_name and row["alarm_subscribers"] == 1
    assert trail.EVENT_RULE_NAME in row["eventbridge_rule"] and row["status"] == "assessed"


def test_lookup_rides_out_throttling(sim: SimulatedOrganization) -> None:
    sim.faults.throttle("cloudtrail", "LookupEvents", share=0.5, failures=2)
    try:
        s = sim.scenario
        settings = CollectSettings(period=s.period, regions=list(s.regions), cloudtrail="lookup",
                                   fallback_role=s.audit_role_name, workers=4)
        ctx = AwsContext(AwsSettings(region=s.region, max_attempts=5))
        result = collect_cloudtrail(ctx, settings, *_frames(sim))
        throttled = sum(r.hits for r in sim.faults.rules())
    finally:
        sim.reset_faults()
    assert throttled > 0
    _check(result, sim.scenario)


def test_objects_that_cannot_be_read_are_named(sim: SimulatedOrganization) -> None:
    session = boto3.Session(region_name=sim.scenario.region)

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "bucket policy"}}, "GetObject")

    session.events.register("before-call.s3.GetObject", refuse)  # listing works, reading does not
    s = sim.scenario
    settings = CollectSettings(period=s.period, regions=list(s.regions), workers=4,
                               cloudtrail=f"s3://{s.trail.bucket}/{s.trail.prefix}")
    ctx = AwsContext(AwsSettings(region=s.region, max_attempts=2), session=session)
    result = collect_cloudtrail(ctx, settings, *_frames(sim))
    sources = result.frames["sources"]
    files = sources[sources["item"].str.contains("/CloudTrail/")]
    assert len(files) > 0 and set(files["status"]) == {"skipped"}
    assert files["reason"].str.contains("AccessDenied").all()
    digests = sources[sources["item"].str.contains("/CloudTrail-Digest/")]
    assert len(digests) > 0 and set(digests["status"]) == {"digest_invalid"}
    assert digests["reason"].str.contains("AccessDenied").all()
    totals = sources[sources["item"] == "*"]
    assert set(totals["status"]) == {"failed"} and (totals["files_read"] == 0).all()
    assert len(result.frames["privileged_sessions"]) == 0


def _trail_status(sim: SimulatedOrganization) -> Any:
    from moto.cloudtrail.models import cloudtrail_backends

    s = sim.scenario
    return cloudtrail_backends[s.management_account_id][s.region].trails[s.trail.trail_name].status


def test_s3_files_of_a_trail_that_started_mid_period_are_not_called_complete(
        sim: SimulatedOrganization) -> None:
    """Files in S3 cannot show a time the trail was not logging: the trail's status does."""
    spec, status = sim.scenario.trail, _trail_status(sim)
    saved = status.started
    started = sim.scenario.period.start + (sim.scenario.period.end - sim.scenario.period.start) / 2
    status.started = started
    try:
        result = _collect(sim, f"s3://{spec.bucket}/{spec.prefix}")
    finally:
        status.started = saved
    sources = result.frames["sources"]
    gaps = sources[sources["status"] == "not_covered"]
    assert len(gaps) == 1, sources.to_dict("records")
    gap = gaps.iloc[0]
    assert gap["account_id"] == "*" and gap["item"].startswith("trail status arn:aws:cloudtrail:")
    assert gap["covered_start"] == started.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "latest start of logging" in gap["reason"]
    _check(result, sim.scenario)  # what the files hold is still read, and reported as found


def test_s3_files_of_a_stopped_trail_leave_the_rest_of_the_period_uncovered(
        sim: SimulatedOrganization) -> None:
    spec, status = sim.scenario.trail, _trail_status(sim)
    saved = (status.is_logging, status.stopped)
    stopped = sim.scenario.period.end - (sim.scenario.period.end - sim.scenario.period.start) / 4
    status.is_logging, status.stopped = False, stopped
    try:
        result = _collect(sim, f"s3://{spec.bucket}/{spec.prefix}")
    finally:
        status.is_logging, status.stopped = saved
    gaps = result.frames["sources"].query("status == 'not_covered'")
    assert list(gaps["covered_end"]) == [stopped.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert "stopped logging" in gaps.iloc[0]["reason"]


def test_s3_source_with_no_trail_delivering_to_it_is_not_called_complete(
        sim: SimulatedOrganization) -> None:
    """Objects copied to another bucket: no trail vouches for their continuity."""
    spec = sim.scenario.trail
    s3 = sim.client("s3")
    s3.create_bucket(Bucket="copied-trail")
    for obj in s3.list_objects_v2(Bucket=spec.bucket, Prefix=spec.prefix, MaxKeys=5)["Contents"]:
        s3.copy_object(Bucket="copied-trail", Key=obj["Key"],
                       CopySource={"Bucket": spec.bucket, "Key": obj["Key"]})
    result = _collect(sim, f"s3://copied-trail/{spec.prefix}")
    failed = result.frames["sources"].query("item == 'trail status'")
    assert list(failed["status"]) == ["failed"]
    assert "no trail" in failed.iloc[0]["reason"]


def test_an_s3_listing_truncated_without_its_token_leaves_the_prefix_unread(
        sim: SimulatedOrganization) -> None:
    """A ListObjectsV2 page that says IsTruncated and gives no NextContinuationToken: botocore's paginator
    would stop there as if at the end, and the files after it would read as none."""
    s = sim.scenario
    account = next(a for a in sorted(s.accounts) if not s.accounts[a].is_management)
    session = boto3.Session(region_name=s.region)
    cut: list[str] = []

    def note(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["listed_prefix"] = params.get("Prefix") or ""
        context["delimited"] = "Delimiter" in params

    def cut_short(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        prefix = context.get("listed_prefix", "")
        if f"/{account}/CloudTrail/" in prefix and not context.get("delimited") and parsed.get("Contents"):
            parsed["IsTruncated"] = True
            parsed.pop("NextContinuationToken", None)
            cut.append(prefix)

    session.events.register("before-parameter-build.s3.ListObjectsV2", note)
    session.events.register("after-call.s3.ListObjectsV2", cut_short)
    settings = CollectSettings(period=s.period, regions=list(s.regions), workers=4,
                               cloudtrail=f"s3://{s.trail.bucket}/{s.trail.prefix}")
    ctx = AwsContext(AwsSettings(region=s.region, max_attempts=2), session=session)
    sources = collect_cloudtrail(ctx, settings, *_frames(sim)).frames["sources"]
    assert cut, "the scenario's trail has files for the account"
    unread = sources[sources["item"].isin(cut)]
    assert sorted(unread["item"]) == sorted(cut) and set(unread["status"]) == {"failed"}
    assert unread["reason"].str.contains("ListObjectsV2 answered without a marker, though it says the "
                                         "listing is truncated").all()
    totals = sources[(sources["account_id"] == account) & (sources["item"] == "*")]
    assert len(totals) > 0 and set(totals["status"]) == {"failed"}  # the account's trail is a gap
    others = sources[(sources["account_id"] != account) & (sources["item"] == "*")
                     & sources["account_id"].str.fullmatch(r"\d{12}")]
    assert len(others) > 0 and "failed" not in set(others["status"])  # only the cut prefixes are
