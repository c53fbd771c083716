"""The executive summary's posture chart counts the same population as the headline."""

from __future__ import annotations

from rootaudit.render.model import build_report
from rootaudit.snapshot import Snapshot, conform
from tests.support.sample import sample_results, sample_snapshot


def test_members_that_are_not_active_are_counted_as_not_assessed_like_the_headline() -> None:
    snap = sample_snapshot(40)
    accounts, creds = snap["accounts"].copy(), snap["root_credentials"].copy()
    member = accounts.loc[accounts["is_management"] != True, "account_id"].iloc[-1]  # noqa: E712
    accounts.loc[accounts["account_id"] == member, "state"] = "SUSPENDED"
    creds.loc[creds["account_id"] == member, ["assessment", "method", "reason"]] = [
        "not_assessed", "none", "account is SUSPENDED"]
    frames = {**snap.frames, "accounts": conform("accounts", accounts),
              "root_credentials": conform("root_credentials", creds)}
    snap = Snapshot(meta=snap.meta, frames=frames, raw=snap.raw)
    report = build_report(snap, sample_results(snap))
    bars = {bar["key"]: bar["count"] for bar in report["chart"]}
    members = accounts[accounts["is_management"] != True]  # noqa: E712
    unassessed = creds[creds["account_id"].isin(members["account_id"]) & (creds["assessment"] != "assessed")]
    assert member in set(unassessed["account_id"])
    assert bars["not_assessed"] == len(unassessed) == report["headline"]["not_assessed"]
    assert sum(bars.values()) == len(members)
