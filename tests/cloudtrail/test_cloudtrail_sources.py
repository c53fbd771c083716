"""The ledger and root activity are what the history did, through all three event sources."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.cloudtrail import collect_cloudtrail
from rootaudit.collectors.cloudtrail.layout import listing_prefixes
from rootaudit.period import parse_period
from rootaudit.simulate import trail
from rootaudit.simulate.trail_records import record_for
from rootaudit.simulate.trail_sample import (
    EXPECTED_ACTIVITY,
    MiniSim,
    accounts_frame,
    context,
    expected_ledger,
    org_id_of,
    organization_frame,
)


def _collect(sim: MiniSim, source: str) -> Collected:
    settings = CollectSettings(
        period=sim.scenario.period,
        regions=["us-east-1", "eu-west-1", "us-west-2"],
        cloudtrail=source,
        workers=4,
    )
    return collect_cloudtrail(context(), settings, accounts_frame(), organization_frame(org_id_of(sim)))


def _value(v: Any) -> Any:
    return None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v


def _check_frames(result: Collected) -> None:
    ledger = result.frames["privileged_sessions"]
    assert sorted(ledger["event_id"]) == sorted(expected_ledger())  # ar-0 is before the period
    for row in ledger.to_dict("records"):
        want = expected_ledger()[row["event_id"]]
        assert {k: _value(row[k]) for k in want} == want, row["event_id"]
        assert row["caller_arn"].startswith("arn:aws:sts::")
        if _value(row["error_code"]) is None:
            assert row["expires_at"].endswith("Z") and row["expires_at"] > row["event_time"]
        else:
            assert _value(row["expires_at"]) is None and "service control policy" in row["error_message"]
    activity = result.frames["root_activity"]
    got = {
        r["event_id"]: (r["kind"], _value(r["session_event_id"]), _value(r["flag"]))
        for r in activity.to_dict("records")
    }
    assert got == EXPECTED_ACTIVITY
    logins = activity.set_index("event_id")
    assert not logins.loc["cl-1", "success"] and not logins.loc["cl-1", "mfa_used"]
    assert logins.loc["cl-2", "success"] and logins.loc["cl-2", "mfa_used"]
    assert logins.loc["rk-1", "access_key_id"] == "AKIAROOTLONGTERM0001"


def test_local_directory_gives_the_history(mini_sim: MiniSim, tmp_path: Path) -> None:
    trail.write_scenario_trail(mini_sim.scenario, org_id_of(mini_sim), tmp_path)
    result = _collect(mini_sim, str(tmp_path))
    _check_frames(result)
    sources = result.frames["sources"]
    assert set(sources["status"]) == {"read"}
    # The AssumeRoot just before the period was read from its file, and excluded and counted.
    assert sources["events_out_of_period"].sum() >= 1


def test_s3_gives_the_history(mini_sim: MiniSim) -> None:
    spec = mini_sim.scenario.trail
    result = _collect(mini_sim, f"s3://{spec.bucket}/{spec.prefix}")
    _check_frames(result)
    sources = result.frames["sources"]
    assert set(sources["status"]) == {"read"}
    assert sources["files_read"].sum() > 10


def test_lookup_gives_the_history(mini_sim: MiniSim) -> None:
    result = _collect(mini_sim, "lookup")
    _check_frames(result)
    sources = result.frames["sources"]
    assert set(sources["status"]) == {"read"}, sources[sources["status"] != "read"].to_dict("records")
    assert sources["pages_read"].sum() > 0


def test_s3_prefix_that_holds_nothing_is_not_covered(mini_sim: MiniSim) -> None:
    result = _collect(mini_sim, f"s3://{mini_sim.scenario.trail.bucket}/wrong-prefix")
    sources = result.frames["sources"]
    files = sources[sources["item"] != "trail status"]
    assert set(files["status"]) == {"not_covered"}
    # and no trail delivers there, so nothing vouches for the continuity of what is there either
    [trail_row] = sources[sources["item"] == "trail status"].to_dict("records")
    assert trail_row["status"] == "failed" and "no trail" in trail_row["reason"]
    assert len(result.frames["privileged_sessions"]) == 0


def test_unknown_bucket_fails_with_a_reason(mini_sim: MiniSim) -> None:
    result = _collect(mini_sim, "s3://no-such-bucket/org")
    row = result.frames["sources"].iloc[0]
    assert row["status"] == "failed" and "NoSuchBucket" in row["reason"]


def test_missing_directory_fails_with_a_reason(tmp_path: Path, mini_sim: MiniSim) -> None:
    result = _collect(mini_sim, str(tmp_path / "nothing-here"))
    row = result.frames["sources"].iloc[0]
    assert row["status"] == "failed" and "AWSLogs" in row["reason"]


@pytest.mark.parametrize("source", ["s3", "local"])
def test_sources_count_every_account_and_region(mini_sim: MiniSim, tmp_path: Path, source: str) -> None:
    spec = mini_sim.scenario.trail
    if source == "local":
        trail.write_scenario_trail(mini_sim.scenario, org_id_of(mini_sim), tmp_path)
        uri = str(tmp_path)
    else:
        uri = f"s3://{spec.bucket}/{spec.prefix}"
    totals = _collect(mini_sim, uri).frames["sources"]
    totals = totals[totals["item"] == "*"]
    # Every account has files in the home region, and each account and region with root events too.
    streams = {(a, spec.home_region) for a in mini_sim.scenario.accounts} | {
        (r["recipientAccountId"], r["awsRegion"]) for r in map(record_for, mini_sim.scenario.history)
    }
    assert set(zip(totals["account_id"], totals["region"], strict=True)) == streams
    assert len(streams) > len(mini_sim.scenario.accounts)
    assert totals["events_read"].sum() > totals["events_matched"].sum() > 0


def test_s3_lists_by_prefix_never_the_whole_bucket(mini_sim: MiniSim) -> None:
    spec = mini_sim.scenario.trail
    ctx = context()
    settings = CollectSettings(
        period=mini_sim.scenario.period,
        regions=None,
        cloudtrail=f"s3://{spec.bucket}/{spec.prefix}",
        workers=4,
    )
    collect_cloudtrail(ctx, settings, accounts_frame(), organization_frame(org_id_of(mini_sim)))
    listings = [json.loads(c["parameters"]) for c in ctx.call_log.rows() if c["operation"] == "ListObjectsV2"]
    base = f"{spec.prefix}/AWSLogs/{org_id_of(mini_sim)}/"
    assert listings and all(p["Prefix"].startswith(base) for p in listings)
    day_or_month = [p["Prefix"] for p in listings if "/CloudTrail/" in p["Prefix"] and "Delimiter" not in p]
    assert day_or_month and all(
        re.search(r"/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/(\d{2}/)?$", p) for p in day_or_month
    )
    assert all(
        c["operation"] in {"ListObjectsV2", "GetObject"} for c in ctx.call_log.rows() if c["service"] == "s3"
    )


def test_listing_prefixes_use_whole_months() -> None:
    quarter = listing_prefixes("AWSLogs/o-1/", "111111111111", "eu-west-1", parse_period("2026-Q3"))
    assert quarter == [
        f"AWSLogs/o-1/111111111111/CloudTrail/eu-west-1/{m}/"
        for m in ("2026/07", "2026/08", "2026/09", "2026/10/01")
    ]
    partial = listing_prefixes("p/", "1", "r", parse_period(start="2026-07-30", end="2026-08-01"))
    assert partial == [
        "p/1/CloudTrail/r/2026/07/30/",
        "p/1/CloudTrail/r/2026/07/31/",
        "p/1/CloudTrail/r/2026/08/01/",
        "p/1/CloudTrail/r/2026/08/02/",
    ]
