"""LookupEvents: the simulation's answers (paging, one attribute, 90 days) and the collector's use of it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail import collect_cloudtrail
from rootaudit.collectors.cloudtrail.lookup import RateLimiter, lookup_window
from rootaudit.period import parse_period
from rootaudit.simulate import events as ev
from rootaudit.simulate import lookup_events
from rootaudit.simulate.trail_records import noise_record
from rootaudit.simulate.trail_sample import (
    MGMT,
    OTHER,
    MiniSim,
    accounts_frame,
    context,
    org_id_of,
    organization_frame,
)
from tests.support.clock import FakeClock


@pytest.fixture
def cloudtrail(aws_env: None) -> Iterator[Any]:
    from moto import mock_aws

    lookup_events.install()
    ev.EVENT_LOG.clear()
    with mock_aws():
        yield boto3.client("cloudtrail", region_name="us-east-1")
    ev.EVENT_LOG.clear()


def _seed_noise(count: int, now: datetime) -> None:
    rng = random.Random(5)
    lookup_events.add_records(
        noise_record(rng, MGMT, "us-east-1", now - timedelta(minutes=3 * i)) for i in range(count)
    )


def test_pages_newest_first_until_every_event_is_returned(cloudtrail: Any) -> None:
    now = datetime.now(UTC)
    _seed_noise(173, now)
    pages = list(cloudtrail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 50}))
    assert [len(p["Events"]) for p in pages] == [50, 50, 50, 23]
    times = [e["EventTime"] for p in pages for e in p["Events"]]
    assert times == sorted(times, reverse=True)
    assert len({e["EventId"] for p in pages for e in p["Events"]}) == 173


def test_one_lookup_attribute_per_call(cloudtrail: Any) -> None:
    with pytest.raises(ClientError) as err:
        cloudtrail.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "Username", "AttributeValue": "root"},
                {"AttributeKey": "EventName", "AttributeValue": "AssumeRoot"},
            ]
        )
    assert err.value.response["Error"]["Code"] == "InvalidLookupAttributesException"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {"StartTime": datetime(2026, 5, 2, tzinfo=UTC), "EndTime": datetime(2026, 5, 1, tzinfo=UTC)},
            "InvalidTimeRangeException",
        ),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        ({"EventCategory": "everything"}, "InvalidEventCategoryException"),
    ],
)
def test_invalid_requests_are_refused_as_aws_does(cloudtrail: Any, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as err:
        cloudtrail.lookup_events(**params)
    assert err.value.response["Error"]["Code"] == code


def test_token_reused_with_other_parameters_is_refused(cloudtrail: Any) -> None:
    _seed_noise(60, datetime.now(UTC))
    token = cloudtrail.lookup_events(MaxResults=10)["NextToken"]
    with pytest.raises(ClientError) as err:
        cloudtrail.lookup_events(
            MaxResults=10,
            NextToken=token,
            LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}],
        )
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_nothing_older_than_90_days_and_an_older_start_is_no_error(cloudtrail: Any) -> None:
    now = datetime.now(UTC)
    ev.EVENT_LOG.add(ev.RootConsoleLogin("recent", now - timedelta(days=89), MGMT, True, True))
    ev.EVENT_LOG.add(ev.RootConsoleLogin("old", now - timedelta(days=91), MGMT, True, True))
    answer = cloudtrail.lookup_events(
        StartTime=now - timedelta(days=365),
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}],
    )
    assert [e["EventId"] for e in answer["Events"]] == ["recent"]


def test_lookup_window_and_not_covered_rows(mini_sim: MiniSim) -> None:
    """A period reaching past 90 days: the older part is not_covered, the rest is read."""
    scenario = mini_sim.scenario
    now = scenario.period.end + timedelta(days=60)  # the first 10 of its 40 days are beyond 90 days
    window = lookup_window(scenario.period, now)
    assert window.start == now - timedelta(days=90) and window.end == scenario.period.end
    lookup_events.set_clock(lambda: now)
    try:
        settings = CollectSettings(
            period=scenario.period,
            regions=["us-east-1", "eu-west-1", "us-west-2"],
            cloudtrail="lookup",
            workers=4,
        )
        result = collect_cloudtrail(
            context(), settings, accounts_frame(), organization_frame(org_id_of(mini_sim)), now=now
        )
    finally:
        lookup_events.set_clock(None)
    sources = result.frames["sources"]
    gaps = sources[sources["status"] == "not_covered"]
    assert len(gaps) == 5 and set(gaps["region"]) == {"*"}
    assert (gaps["covered_start"] == window.start.strftime("%Y-%m-%dT%H:%M:%SZ")).all()
    assert "older than the 90 days" in gaps.iloc[0]["reason"]
    # The AssumeRoot on day 3 is beyond event history; the one on day 20 is found.
    ledger = set(result.frames["privileged_sessions"]["event_id"])
    assert "ar-1" not in ledger and {"ar-2", "ar-3"} <= ledger


def test_an_account_that_cannot_be_entered_is_a_failed_row(
    mini_sim: MiniSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = context()
    original = ctx.assume_role

    def refuse(account_id: str, *args: Any, **kwargs: Any) -> Any:
        if account_id == OTHER:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")
        return original(account_id, *args, **kwargs)

    monkeypatch.setattr(ctx, "assume_role", refuse)
    settings = CollectSettings(period=mini_sim.scenario.period, regions=["us-east-1"], cloudtrail="lookup")
    result = collect_cloudtrail(ctx, settings, accounts_frame(), organization_frame(org_id_of(mini_sim)))
    sources = result.frames["sources"]
    failed = sources[sources["status"] == "failed"]
    assert list(failed["account_id"]) == [OTHER] and "AccessDenied" in failed.iloc[0]["reason"]


def test_rate_limiter_spaces_calls_per_account_and_region() -> None:
    fake = FakeClock()
    limiter = RateLimiter(0.05, clock=fake.clock)
    for _ in range(5):
        limiter.wait(("a", "us-east-1"))
    assert fake.slept == pytest.approx([0.05] * 4)  # the first call goes at once, then one per interval
    fake.slept.clear()
    for region in ("r1", "r2", "r3", "r4", "r5"):
        limiter.wait(("b", region))
    assert fake.slept == []  # another account and region each: nothing to wait for


def test_period_entirely_in_the_future_reads_nothing() -> None:
    period = parse_period("2099-Q1")
    window = lookup_window(period, datetime(2026, 11, 1, tzinfo=UTC))
    assert window.empty


def test_lookup_never_claims_validated_log_files_and_is_re_derived(mini_sim: MiniSim) -> None:
    """LookupEvents reads events, not the delivered files: its sources rows, LOG_FILE_INTEGRITY and
    the report say that log-file integrity was not checked, and the integrity is NOT_ASSESSED whatever
    the trail's setting; its frames are re-derived from what it kept raw."""
    from rootaudit.controls.signals import NOT_ASSESSED, PASS, LogIntegrity, Signal, records
    from rootaudit.render.model import source_summary
    from tests.support.kept import edited_is_named

    scenario = mini_sim.scenario
    lookup_events.set_clock(lambda: scenario.period.end + timedelta(days=1))
    try:
        settings = CollectSettings(period=scenario.period, regions=["us-east-1", "eu-west-1"],
                                   cloudtrail="lookup", workers=4)
        result = collect_cloudtrail(context(), settings, accounts_frame(),
                                    organization_frame(org_id_of(mini_sim)),
                                    now=scenario.period.end + timedelta(days=1))
    finally:
        lookup_events.set_clock(None)
    sources = records(result.frames["sources"])
    totals = [r for r in sources if r["item"] == "*"]
    assert totals and all("log-file integrity was not checked by rootaudit" in r["reason"]
                          and "LookupEvents returns events" in r["reason"] for r in totals)
    assert all(r["files_validated"] is None for r in totals)
    account = totals[0]["account_id"]
    coverage = LogIntegrity(sources).of(account, Signal(PASS, "organization trail with log file validation"))
    assert coverage.value == NOT_ASSESSED
    assert "lookup: log-file integrity was not checked" in coverage.evidence
    assert "setting alone" in coverage.evidence
    [summary] = [s for s in source_summary([{k: "" if v is None else str(v) for k, v in r.items()}
                                            for r in totals]) if s["status"] == "read"]
    assert "not checked by rootaudit" in summary["integrity_note"] and not summary["validated"]

    detail = edited_is_named(result, scenario.period, "privileged_sessions", "target_account", "999999999999")
    assert "target_account is 999999999999" in detail
