"""The digests a snapshot keeps are bounded (kept.DIGEST_BUDGET): past the budget a stream keeps what
CloudTrail's validation found at collection instead of its digests. The frames are the same either way,
they are still re-derived from what is kept, and verify says which streams it did not re-check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail import collect_cloudtrail, kept
from rootaudit.collectors.cloudtrail.results import cloudtrail_frames
from rootaudit.simulate import trail
from rootaudit.simulate.trail_sample import MiniSim, accounts_frame, context, org_id_of, organization_frame

FRAMES = ("privileged_sessions", "root_activity", "sources")


def _collect(sim: MiniSim, root: Path) -> dict[str, pd.DataFrame | dict]:
    settings = CollectSettings(period=sim.scenario.period, regions=["us-east-1", "eu-west-1", "us-west-2"],
                               cloudtrail=str(root), workers=4)
    result = collect_cloudtrail(context(), settings, accounts_frame(), organization_frame(org_id_of(sim)))
    return {**result.frames, "raw": result.raw}


def _digests_kept(raw: dict) -> int:
    return sum(len(s.get("digests") or []) for s in raw[kept.STREAMS]["streams"])


def test_past_the_budget_a_stream_keeps_its_validation_and_the_frames_do_not_change(
        mini_sim: MiniSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trail.write_scenario_trail(mini_sim.scenario, org_id_of(mini_sim), tmp_path)
    whole = _collect(mini_sim, tmp_path)
    streams = [s for s in whole["raw"][kept.STREAMS]["streams"] if s.get("digests")]
    assert len(streams) >= 3 and not kept.recorded_streams(whole["raw"])
    budget = len(streams[0]["digests"]) + len(streams[1]["digests"])  # the first two streams fit
    monkeypatch.setattr(kept, "DIGEST_BUDGET", budget)
    bounded = _collect(mini_sim, tmp_path)
    raw = bounded["raw"]
    assert _digests_kept(raw) == budget < _digests_kept(whole["raw"])
    recorded = kept.recorded_streams(raw)
    assert len(recorded) == len(streams) - 2
    assert recorded[0].startswith(f"{streams[2]['account_id']}/{streams[2]['region']} (")
    for name in FRAMES:  # what the pack shows is what the whole validation found
        pd.testing.assert_frame_equal(bounded[name], whole[name])
    assert (bounded["sources"]["files_validated"].fillna(0) > 0).any()
    again, counts = cloudtrail_frames(raw, mini_sim.scenario.period)  # verify's re-derivation
    for name in FRAMES:
        pd.testing.assert_frame_equal(again[name], bounded[name])
    _, whole_counts = cloudtrail_frames(whole["raw"], mini_sim.scenario.period)
    assert counts == whole_counts  # the events read, as collection reports them, are all still counted
