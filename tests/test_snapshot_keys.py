"""A snapshot holding one key twice (two root_credentials rows for one account, the clean one last) is a
load error naming the frame and the key, never read as whichever row comes last."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rootaudit.snapshot import (
    UNIQUE_KEYS,
    SnapshotLoadError,
    duplicate_keys,
    load_snapshot,
    make_frame,
    save_snapshot,
)
from tests.controls.conftest import build

DIRTY = {"assessment": "assessed", "method": "assume_root_audit", "password_present": True,
         "access_keys_active": 1}
CLEAN = {"assessment": "assessed", "method": "assume_root_audit", "password_present": False,
         "access_keys_active": 0, "access_keys_inactive": 0, "signing_certificates_active": 0,
         "mfa_devices": 0, "mfa_kind": "none"}


def snapshot_with_two_rows_for(tmp_path: Path) -> tuple[Path, str]:
    snapshot = build(["clean_rcm"])
    creds = snapshot["root_credentials"]
    member = str(creds["account_id"].iloc[-1])
    rows = [r for r in creds.to_dict("records") if r["account_id"] != member]
    rows += [{"account_id": member, **DIRTY}, {"account_id": member, **CLEAN}]  # the clean one last
    snapshot.frames["root_credentials"] = make_frame("root_credentials", rows)
    return save_snapshot(snapshot, tmp_path / "snapshot"), member


def test_two_root_credential_rows_for_one_account_are_a_load_error(tmp_path: Path) -> None:
    folder, member = snapshot_with_two_rows_for(tmp_path)
    with pytest.raises(SnapshotLoadError) as caught:
        load_snapshot(folder)
    message = str(caught.value)
    assert "data/root_credentials.csv" in message and f"account_id={member}" in message
    assert str(folder) in message


def test_report_on_such_a_snapshot_says_so_in_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit import cli

    folder, member = snapshot_with_two_rows_for(tmp_path)
    out = tmp_path / "out"
    status = cli.main(["report", str(folder), "--out", str(out), "--frameworks", "cis-aws-7.0.0"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 3
    assert len(err) == 1 and "root_credentials.csv" in err[0] and member in err[0], err
    assert not out.exists() or not any(out.iterdir())


def test_a_snapshot_as_collected_loads(tmp_path: Path) -> None:
    snapshot = build()
    back = load_snapshot(save_snapshot(snapshot, tmp_path / "s"))
    assert back.digest() == snapshot.digest()


@pytest.mark.parametrize("name", sorted(UNIQUE_KEYS))
def test_every_keyed_frame_names_its_repeated_key(name: str) -> None:
    keys = UNIQUE_KEYS[name]
    row = {k: f"v-{k}" for k in keys}
    other = {k: f"w-{k}" for k in keys}
    frame = make_frame(name, [row, other])
    assert duplicate_keys(name, frame) == [] or name == "organization"
    twice = make_frame(name, [row, other, row])
    named = duplicate_keys(name, twice)
    assert named == [", ".join(f"{k}=v-{k}" for k in keys)], named


def test_one_organization_row_only() -> None:
    frame = make_frame("organization", [{"organization_id": "o-1"}, {"organization_id": "o-2"}])
    assert duplicate_keys("organization", frame) == ["2 rows for one organization (o-1, o-2)"]
    assert duplicate_keys("organization", make_frame("organization", [{"organization_id": "o-1"}])) == []
    assert duplicate_keys("root_credentials", pd.DataFrame()) == []


def test_plan_on_such_a_snapshot_says_so_in_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit import cli

    folder, member = snapshot_with_two_rows_for(tmp_path)
    status = cli.main(["plan", str(folder), "--out", str(tmp_path / "plan.md")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 3
    assert len(err) == 1 and "root_credentials.csv" in err[0] and member in err[0], err
    assert "SnapshotLoadError" not in err[0] and not (tmp_path / "plan.md").exists()
