"""An interrupted collection, resumed: the accounts read before the interruption are not read again, the
snapshot says it was resumed, and it equals the snapshot of an uninterrupted collection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rootaudit import checkpoint as checkpoint_module
from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.checkpoint import Checkpoint, CheckpointError
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.period import parse_period
from rootaudit.simulate import SimulatedOrganization, build_scenario
from rootaudit.snapshot import Snapshot

# when and how long, not what: they differ between any two collections
TIME_COLUMNS = {"collected_at", "source_time"}
INTERRUPT_AFTER = 5


def _collect(sim: Any, **changes: Any) -> tuple[Snapshot, AwsContext]:
    scenario = sim.scenario
    settings = CollectSettings(period=scenario.period, regions=list(scenario.regions),
                               cloudtrail=f"s3://{scenario.trail.bucket}/{scenario.trail.prefix}",
                               fallback_role=scenario.audit_role_name, workers=3, **changes)
    ctx = AwsContext(AwsSettings(region=scenario.region))
    return collect(ctx, settings), ctx


def _assume_root_targets(ctx: AwsContext) -> set[str]:
    return {json.loads(r["parameters"])["TargetPrincipal"] for r in ctx.call_log.rows()
            if r["operation"] == "AssumeRoot"}


def _comparable(snapshot: Snapshot, name: str) -> pd.DataFrame:
    frame = snapshot[name]
    return frame.drop(columns=[c for c in frame.columns if c in TIME_COLUMNS]).reset_index(drop=True)


def test_an_interrupted_collection_resumes_where_it_stopped(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = build_scenario(12, seed=5, period=parse_period("2026-Q3"))
    path = tmp_path / "snapshot.checkpoint.jsonl"
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        whole, whole_ctx = _collect(sim)

        written: list[str] = []
        add = Checkpoint.add

        def interrupting_add(self: Checkpoint, account_id: str, outcome: Any) -> None:
            add(self, account_id, outcome)
            if outcome.row.get("assessment") == "assessed":
                written.append(account_id)
            if len(written) == INTERRUPT_AFTER:
                raise KeyboardInterrupt  # Ctrl-C half way through the accounts

        monkeypatch.setattr(checkpoint_module.Checkpoint, "add", interrupting_add)
        with pytest.raises(KeyboardInterrupt):
            _collect(sim, checkpoint_path=path)
        monkeypatch.setattr(checkpoint_module.Checkpoint, "add", add)
        assert path.is_file() and len(written) == INTERRUPT_AFTER

        resumed, resumed_ctx = _collect(sim, checkpoint_path=path, resume=True)

    assert resumed.meta["resumed"]["accounts_reused"] == INTERRUPT_AFTER
    assert resumed.meta["resumed"]["checkpoint"] == str(path)
    assert "resumed" not in whole.meta
    from rootaudit.render.model import meta_of

    assert meta_of(resumed).resumed.startswith(f"resumed after an interruption: {INTERRUPT_AFTER} account(s)")
    assert meta_of(whole).resumed == ""  # the report's cover says so only for a resumed collection
    # the accounts read before the interruption are not read again; every other one is
    assert _assume_root_targets(resumed_ctx).isdisjoint(written)
    # (the management account is read by its credential report, not through AssumeRoot)
    assumed = _assume_root_targets(whole_ctx)
    assert _assume_root_targets(resumed_ctx) | (set(written) & assumed) == assumed
    for name in whole.frames:
        if name == "api_calls":  # the resumed run made fewer calls, by design
            continue
        pd.testing.assert_frame_equal(_comparable(resumed, name), _comparable(whole, name), obj=name)
    secrets = path.read_text(encoding="utf-8")
    assert "SecretAccessKey" not in secrets or '"SecretAccessKey": "<redacted>"' in secrets


def test_another_collections_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    Checkpoint.open(path, {"organization_id": "o-one", "period": "2026-Q3"}, resume=False).close()
    with pytest.raises(CheckpointError, match="another collection \\(organization_id differs\\)"):
        Checkpoint.open(path, {"organization_id": "o-two", "period": "2026-Q3"}, resume=True)
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(CheckpointError, match="not a rootaudit checkpoint"):
        Checkpoint.open(path, {"organization_id": "o-one"}, resume=True)


def test_a_line_cut_by_the_interruption_is_read_again(tmp_path: Path) -> None:
    from rootaudit.collectors.root_common import AccountOutcome

    path = tmp_path / "c.jsonl"
    identity = {"organization_id": "o-one"}
    cp = Checkpoint.open(path, identity, resume=False)
    cp.add("111111111111", AccountOutcome(row={"account_id": "111111111111", "assessment": "assessed"}))
    cp.add("222222222222", AccountOutcome(row={"account_id": "222222222222", "assessment": "not_assessed"}))
    cp.close()
    with path.open("a", encoding="utf-8") as f:
        f.write('{"account_id": "333333333333", "row": {"assess')  # the write Ctrl-C cut
    resumed = Checkpoint.open(path, identity, resume=True)
    assert set(resumed.reused) == {"111111111111"}  # not assessed: read again; cut: read again
    resumed.discard()
    assert not path.exists()


def test_the_command_line_resumes_and_cleans_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit.checkpoint import checkpoint_path
    from rootaudit.cli import main

    scenario = build_scenario(4, seed=5, period=parse_period("2026-Q3"))
    snapshot = tmp_path / "snap"
    path = checkpoint_path(snapshot)
    assert path == tmp_path / "snap.checkpoint.jsonl"
    Checkpoint.open(path, {"organization_id": "o-someoneelse"}, resume=False).close()
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        argv = ["collect", "--out", str(snapshot), "--period", "2026-Q3", "--member-role",
                scenario.audit_role_name, "--cloudtrail", f"s3://{scenario.trail.bucket}/{scenario.trail.prefix}",
                "--quiet"]
        assert main([*argv, "--resume"]) == 3
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "checkpoint of another collection" in err[0] and str(path) in err[0]
        assert main(argv) == 0  # without --resume: started again, the old checkpoint replaced
        assert "started again from the first account" in capsys.readouterr().err
    assert (snapshot / "snapshot.json").is_file() and not path.exists()
